/* SPDX-License-Identifier: MIT */
/*
 * The RCM blob (blob.bin) NVIDIA's `tegrahost --generateblob` makes and MB1 receives last in
 * an RCM boot: parsing it, replacing one entry's payload (the kernel boot image) and
 * recomputing its digest. Layout (DESIGN.md §6; header struct from edk2-nvidia
 * Silicon/NVIDIA/Drivers/RcmDxe/RcmDxe.h, TEGRABL_BLOBHEADER and TEGRABL_BLOBINFO):
 *
 *   0x000 magic "blob", 4 pad bytes       0x048 salt[4]      0x04C u32 entry count (<= 64)
 *   0x008 digest[64] = SHA-512 of bytes 0x048..0x450 (salt, count, entry table)
 *   0x050 64 entries {u32 type, u32 offset from the blob's start, u32 load_addr, u32 size}
 *   0x450 payloads, back to back
 *
 * All integers little-endian. The blob comes from outside: every field is checked before use.
 */
#ifndef SELFFLASH_RCM_BLOB_H
#define SELFFLASH_RCM_BLOB_H

#include <stdint.h>
#include <stdio.h>

#define RCM_BLOB_MAGIC "blob"
#define RCM_BLOB_HEADER_LEN 0x450u
#define RCM_BLOB_DIGEST_OFF 0x08u
#define RCM_BLOB_DIGEST_LEN 64u
#define RCM_BLOB_SALT_OFF 0x48u
#define RCM_BLOB_COUNT_OFF 0x4Cu
#define RCM_BLOB_TABLE_OFF 0x50u
#define RCM_BLOB_ENTRY_LEN 16u
#define RCM_BLOB_ENTRIES_MAX 64u
/* Entry type of the kernel boot image (RcmDxe.h IMAGE_TYPE_KERNEL). */
#define RCM_BLOB_TYPE_KERNEL 45u
/* Offsets and sizes are 32 bits: no blob is larger. */
#define RCM_BLOB_SIZE_MAX 0xffffffffu

struct rcm_blob_entry {
	uint32_t type;
	uint32_t offset; /* from the blob's start */
	uint32_t load_addr;
	uint32_t size;
};

/* A parsed blob: a view of the caller's bytes (not copied, not owned) and its entries. */
struct rcm_blob {
	const uint8_t *data;
	uint64_t size;
	uint32_t count;
	struct rcm_blob_entry entry[RCM_BLOB_ENTRIES_MAX];
	int digest_ok; /* 1 if the stored digest is the SHA-512 of 0x48..0x450 */
};

/*
 * Parses data[0..size) into *b (which keeps pointing at data). Refuses, with err_msg()
 * naming the problem: a blob shorter than the header or over RCM_BLOB_SIZE_MAX, a wrong
 * magic, a count over 64, an entry starting inside the header or ending past the blob, two
 * entries whose payloads overlap. A digest that does not match is not an error (whether
 * MB2 checks it is unknown): b->digest_ok says. 0 or -1.
 */
int rcm_blob_parse(struct rcm_blob *b, const uint8_t *data, uint64_t size);

/* The digest rule: SHA-512 of header[0x48..0x450) into out. header holds at least
 * RCM_BLOB_HEADER_LEN bytes. */
void rcm_blob_digest(const uint8_t *header, uint8_t out[RCM_BLOB_DIGEST_LEN]);

/* The index of the one entry of this type, or -1 with err_msg() when there is none or more
 * than one. */
int rcm_blob_find(const struct rcm_blob *b, uint32_t type);

/*
 * Builds in out (out_size bytes) the blob b with the payload of its entry `type` replaced by
 * payload[0..len): the bytes before that payload unchanged, the new payload, the bytes after
 * it moved by the size difference; every entry stored after it gets its offset moved by the
 * same amount; the entry's size becomes len; the digest is recomputed. Every other byte,
 * entry and payload is unchanged. *out_len receives the new size; rcm_blob_swapped_size()
 * says how large out must be. 0, or -1 with err_msg().
 */
int rcm_blob_replace(const struct rcm_blob *b, uint32_t type, const uint8_t *payload,
		     uint64_t len, uint8_t *out, uint64_t out_size, uint64_t *out_len);

/* The size of b once entry `type` holds len bytes, in *size. 0, or -1 with err_msg() when
 * there is no single such entry or the result would exceed RCM_BLOB_SIZE_MAX. */
int rcm_blob_swapped_size(const struct rcm_blob *b, uint32_t type, uint64_t len,
			  uint64_t *size);

/*
 * Checks that the kernel entry (type 45) of b holds an Android boot image v0 whose sizes fit
 * its payload (common/bootimg.h). 0, or -1 with err_msg() naming the entry.
 */
int rcm_blob_check_kernel(const struct rcm_blob *b);

/* Prints b to out: size, digest state, one line per entry (index, type, offset, size, and
 * for the kernel entry its boot image's kernel, ramdisk and command line). */
void rcm_blob_print(FILE *out, const struct rcm_blob *b);

#endif
