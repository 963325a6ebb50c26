/* SPDX-License-Identifier: MIT */
/*
 * The flash package: one file the board can trust. Layout (all integers little-endian,
 * every size and offset 64-bit; docs/package-format.md has the byte tables):
 *
 *   [header 64][signature block 128][manifest][data: chunks, back to back]
 *
 * The signature (ECDSA P-256, SHA-256, ASN.1 DER) covers header || manifest; the manifest
 * holds the SHA-256 of every chunk's raw bytes and the chunks tile the data region exactly,
 * so every byte of a package is covered by the signature or by a signed hash.
 *
 * Decoding never allocates: pkg_manifest_decode() validates a buffer completely, then the
 * accessors read records out of it. Every count and length is compared with a hard limit
 * before it is used.
 */
#ifndef SELFFLASH_PKG_H
#define SELFFLASH_PKG_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define PKG_MAGIC "SFPKG\r\n\x1a"
#define PKG_MAGIC_LEN 8
#define PKG_FORMAT_VERSION 1
#define PKG_HEADER_SIZE 64
#define PKG_SIG_BLOCK_SIZE 128
/* header + signature block: what a reader fetches first */
#define PKG_PREFIX_SIZE (PKG_HEADER_SIZE + PKG_SIG_BLOCK_SIZE)
#define PKG_MANIFEST_OFFSET PKG_PREFIX_SIZE
/* DER ECDSA P-256 signatures are at most 72 bytes */
#define PKG_SIG_MAX 72
#define PKG_KEY_ID_LEN 8

/* header flags */
#define PKG_FLAG_SIGNED 0x1u

/* hard limits, checked before anything is allocated or indexed */
#define PKG_MAX_VARIANTS 64 /* a variant is one bit of an image's mask */
#define PKG_MAX_TARGETS 8
#define PKG_MAX_PARTITIONS 512
#define PKG_MAX_IMAGES 2048
#define PKG_MAX_CHUNKS (1u << 19)
#define PKG_MAX_CHUNK_SIZE (16u << 20)
#define PKG_MAX_DATA_SIZE (1ULL << 40)
#define PKG_DEFAULT_CHUNK_SIZE (1u << 20)

/* record sizes in the manifest */
#define PKG_MANIFEST_HEADER_SIZE 32
#define PKG_VARIANT_SIZE 64
#define PKG_TARGET_SIZE 64
#define PKG_PARTITION_SIZE 128
#define PKG_IMAGE_SIZE 32
#define PKG_CHUNK_SIZE 64

#define PKG_MAX_MANIFEST_SIZE                                                          \
	((uint64_t)PKG_MANIFEST_HEADER_SIZE + PKG_MAX_VARIANTS * PKG_VARIANT_SIZE +    \
	 PKG_MAX_TARGETS * PKG_TARGET_SIZE + PKG_MAX_PARTITIONS * PKG_PARTITION_SIZE + \
	 PKG_MAX_IMAGES * PKG_IMAGE_SIZE + (uint64_t)PKG_MAX_CHUNKS * PKG_CHUNK_SIZE)

/* string field sizes (NUL-terminated inside the field, zero-padded) */
#define PKG_VARIANT_NAME_LEN 32
#define PKG_VARIANT_FIELD_LEN 8
#define PKG_TARGET_TYPE_LEN 16
#define PKG_TARGET_MATCH_LEN 24
#define PKG_PART_NAME_LEN 40
#define PKG_PART_TYPE_LEN 32

struct pkg_header {
	uint32_t version;
	uint32_t flags;
	uint64_t manifest_size;
	uint64_t data_size;
	uint64_t package_size;
	uint8_t key_id[PKG_KEY_ID_LEN]; /* first bytes of SHA-256 of the signing public key */
	uint32_t sig_len;
	uint8_t sig[PKG_SIG_MAX];
};

/* Board variant: which boards an image is for. Empty fields match any board. */
struct pkg_variant {
	char name[PKG_VARIANT_NAME_LEN];
	char board[PKG_VARIANT_FIELD_LEN];    /* module board id, e.g. "3701" */
	char sku[PKG_VARIANT_FIELD_LEN];      /* module SKU, e.g. "0005" */
	char fab[PKG_VARIANT_FIELD_LEN];      /* module FAB after normalisation, e.g. "300" */
	char chip_sku[PKG_VARIANT_FIELD_LEN]; /* FUSE_SKU_INFO low byte, hex, e.g. "D0" */
};

enum pkg_target_kind {
	PKG_TARGET_MTD = 1,  /* QSPI NOR through MTD */
	PKG_TARGET_DISK = 2, /* eMMC / NVMe / SD: a block device with a GPT */
};

struct pkg_target {
	uint8_t kind;
	uint32_t instance;
	uint32_t sector_size;
	uint64_t size;                     /* from the layout; disks' real size may differ */
	char type[PKG_TARGET_TYPE_LEN];    /* layout device type: spi, sdmmc_user, nvme, ... */
	char match[PKG_TARGET_MATCH_LEN];  /* how the board finds it; empty = by type */
};

enum pkg_slot {
	PKG_SLOT_NONE = 0,
	PKG_SLOT_A = 1,
	PKG_SLOT_B = 2,
};

enum pkg_part_kind {
	PKG_PART_DATA = 0,
	PKG_PART_PMBR = 1,
	PKG_PART_PRIMARY_GPT = 2,
	PKG_PART_SECONDARY_GPT = 3,
	/* a file for the firmware, not blocks of its target: staged on the ESP of that disk by an
	 * update (a UEFI capsule, <ESP>/EFI/UpdateCapsule/). Slot none, offset 0, no flags, size
	 * = the file's length (1..PKG_MAX_FILE_SIZE); it takes no room on the target, so the
	 * in-target and overlap checks leave it out, and no GPT or writer ever sees it. */
	PKG_PART_FILE = 4,
};

/* the largest file a PKG_PART_FILE partition carries (a board holds it in memory) */
#define PKG_MAX_FILE_SIZE (256ULL << 20)

/* partition flags */
#define PKG_PART_FILL_TO_END 0x1u /* grows to what the real device leaves */
#define PKG_PART_AT_END 0x2u      /* placed at the end of the real device */
#define PKG_PART_REPLICATED 0x4u  /* image is one file copied into every slot (BCT) */
#define PKG_PART_HEADER_FIRST 0x8u /* starts with a header: its first page is written last, so
				    * a cut-off write never leaves it looking valid */
#define PKG_PART_KNOWN_FLAGS                                                            \
	(PKG_PART_FILL_TO_END | PKG_PART_AT_END | PKG_PART_REPLICATED | PKG_PART_HEADER_FIRST)

struct pkg_partition {
	char name[PKG_PART_NAME_LEN];
	char type[PKG_PART_TYPE_LEN]; /* the layout's type, e.g. mb1_bootloader */
	uint16_t target;
	uint8_t slot;
	uint8_t kind;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
	uint8_t type_guid[16];   /* all zero: none given */
	uint8_t unique_guid[16]; /* all zero: none given */
};

/* image flags */
#define PKG_IMAGE_ZERO_HOLES 0x1u /* holes must read back as zero (always on MTD); without
				   * it a disk writer may skip them */
#define PKG_IMAGE_KNOWN_FLAGS PKG_IMAGE_ZERO_HOLES

/*
 * What goes into a partition for some variants: `size` bytes from the partition start, of
 * which the chunks give the data; the rest of [0, size) are holes (zeros).
 */
struct pkg_image {
	uint32_t partition;
	uint32_t first_chunk;
	uint32_t chunk_count;
	uint32_t flags;
	uint64_t variant_mask; /* bit i: for variant i */
	uint64_t size;
};

/* Whether image im is part of variant v (the one filter every stage uses). */
static inline int pkg_image_in_variant(const struct pkg_image *im, uint32_t variant)
{
	return variant < 64 && ((im->variant_mask >> variant) & 1);
}

enum pkg_compression {
	PKG_COMP_NONE = 0,
	PKG_COMP_ZLIB = 1,
	PKG_COMP_ZSTD = 2, /* one zstd frame, no dictionary (common/chunk_zstd.h) */
};

/* A chunk's compression as `mkflashpkg show` and --codec name it ("raw" for none). */
static inline const char *pkg_compression_name(uint8_t compression)
{
	return compression == PKG_COMP_NONE   ? "raw"
	       : compression == PKG_COMP_ZLIB ? "zlib"
	       : compression == PKG_COMP_ZSTD ? "zstd"
					      : "unknown";
}

struct pkg_chunk {
	uint64_t offset;        /* where in the partition the raw bytes go */
	uint64_t stored_offset; /* where in the data region the stored bytes are */
	uint32_t raw_size;
	uint32_t stored_size;
	uint8_t compression;
	uint32_t stored_crc32;      /* of the stored bytes: every byte of a package is checked,
				     * even where another encoding would inflate to the same data */
	uint8_t sha256[SHA256_LEN]; /* of the raw bytes */
};

/* A validated manifest: a view into the caller's buffer, which must outlive it. */
struct pkg_manifest {
	const uint8_t *buf;
	uint64_t size;
	uint64_t data_size;
	uint32_t variant_count;
	uint32_t target_count;
	uint32_t partition_count;
	uint32_t image_count;
	uint32_t chunk_count;
	uint32_t chunk_size; /* the builder's nominal chunk size, informational */
	uint64_t system_version; /* what the package installs, for anti-rollback (0: none) */
};

/*
 * Decodes and checks the 192-byte prefix (header and signature block): magic, version,
 * sizes against the limits and against overflow, zero padding. `file_size` is the
 * package's real size when known (0 = unknown). Returns 0 or -1 with err_msg() set.
 */
int pkg_header_decode(const uint8_t *prefix, uint64_t file_size, struct pkg_header *h);

/* Writes the 192-byte prefix for h (zero padding included). */
void pkg_header_encode(const struct pkg_header *h, uint8_t *prefix);

/*
 * Validates a manifest of `size` bytes completely: counts within limits, exact size, every
 * string terminated and printable, every index in range, offsets and sizes without 64-bit
 * overflow, partitions inside their target and not overlapping, images inside their
 * partition, chunks sorted, inside their image, tiling the data region of `data_size`
 * bytes exactly. Returns 0 and fills m (a view into buf), or -1 with err_msg() set.
 */
int pkg_manifest_decode(const uint8_t *buf, uint64_t size, uint64_t data_size,
			struct pkg_manifest *m);

/* Record accessors for a decoded manifest; the index must be below the matching count. */
void pkg_manifest_variant(const struct pkg_manifest *m, uint32_t i, struct pkg_variant *out);
void pkg_manifest_target(const struct pkg_manifest *m, uint32_t i, struct pkg_target *out);
void pkg_manifest_partition(const struct pkg_manifest *m, uint32_t i,
			    struct pkg_partition *out);
void pkg_manifest_image(const struct pkg_manifest *m, uint32_t i, struct pkg_image *out);
void pkg_manifest_chunk(const struct pkg_manifest *m, uint32_t i, struct pkg_chunk *out);

/* The records a manifest is built from (host side). */
struct pkg_manifest_src {
	const struct pkg_variant *variants;
	const struct pkg_target *targets;
	const struct pkg_partition *partitions;
	const struct pkg_image *images;
	const struct pkg_chunk *chunks;
	uint32_t variant_count, target_count, partition_count, image_count, chunk_count;
	uint32_t chunk_size;
	uint64_t system_version;
};

/* Bytes pkg_manifest_encode() writes for src (0 if a count is past its limit). */
uint64_t pkg_manifest_encoded_size(const struct pkg_manifest_src *src);

/* Encodes src into buf (pkg_manifest_encoded_size() bytes); 0 or -1 with err_msg(). */
int pkg_manifest_encode(const struct pkg_manifest_src *src, uint8_t *buf, uint64_t size);

/* Human-readable names for show and for messages. */
const char *pkg_slot_name(uint8_t slot);
const char *pkg_part_kind_name(uint8_t kind);
const char *pkg_target_kind_name(uint8_t kind);

#endif
