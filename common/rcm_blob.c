/* SPDX-License-Identifier: MIT */
/* The RCM blob: parse with bounds checks, swap one entry's payload, recompute the digest. */
#include "rcm_blob.h"

#include <bearssl_hash.h>
#include <string.h>

#include "bootimg.h"
#include "error.h"
#include "le.h"

void rcm_blob_digest(const uint8_t *header, uint8_t out[RCM_BLOB_DIGEST_LEN])
{
	br_sha512_context sha;
	br_sha512_init(&sha);
	br_sha512_update(&sha, header + RCM_BLOB_SALT_OFF, RCM_BLOB_HEADER_LEN - RCM_BLOB_SALT_OFF);
	br_sha512_out(&sha, out);
}

int rcm_blob_parse(struct rcm_blob *b, const uint8_t *data, uint64_t size)
{
	memset(b, 0, sizeof(*b));
	if (size < RCM_BLOB_HEADER_LEN)
		return err_set("blob: %llu bytes, shorter than its 0x%x-byte header",
			       (unsigned long long)size, RCM_BLOB_HEADER_LEN);
	if (size > RCM_BLOB_SIZE_MAX)
		return err_set("blob: %llu bytes, its 32-bit offsets reach at most %u",
			       (unsigned long long)size, RCM_BLOB_SIZE_MAX);
	if (memcmp(data, RCM_BLOB_MAGIC, 4) != 0)
		return err_set("blob: no \"blob\" magic at offset 0 (found %02x %02x %02x %02x)",
			       data[0], data[1], data[2], data[3]);
	uint32_t count = le32_load(data + RCM_BLOB_COUNT_OFF);
	if (count > RCM_BLOB_ENTRIES_MAX)
		return err_set("blob: %u entries, the header holds at most %u", count,
			       RCM_BLOB_ENTRIES_MAX);
	b->data = data;
	b->size = size;
	b->count = count;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = data + RCM_BLOB_TABLE_OFF + (uint64_t)i * RCM_BLOB_ENTRY_LEN;
		struct rcm_blob_entry *x = &b->entry[i];
		x->type = le32_load(e);
		x->offset = le32_load(e + 4);
		x->load_addr = le32_load(e + 8);
		x->size = le32_load(e + 12);
		uint64_t end = (uint64_t)x->offset + x->size;
		if (x->offset < RCM_BLOB_HEADER_LEN)
			return err_set("blob: entry %u (type %u) starts at 0x%x, inside the 0x%x-byte "
				       "header", i, x->type, x->offset, RCM_BLOB_HEADER_LEN);
		if (end > size)
			return err_set("blob: entry %u (type %u) ends at %llu, past the blob's end "
				       "(%llu bytes)", i, x->type, (unsigned long long)end,
				       (unsigned long long)size);
	}
	/* overlap: order the entries by offset (empty ones first among equals), then none may
	 * start before the furthest end so far; an empty entry inside a payload counts too,
	 * since moving that payload would leave it pointing nowhere */
	uint32_t order[RCM_BLOB_ENTRIES_MAX];
	for (uint32_t i = 0; i < count; i++) {
		const struct rcm_blob_entry *x = &b->entry[i];
		uint32_t j = i;
		while (j > 0 && (b->entry[order[j - 1]].offset > x->offset ||
				 (b->entry[order[j - 1]].offset == x->offset &&
				  b->entry[order[j - 1]].size > x->size))) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	uint64_t reach = 0;
	uint32_t reach_by = 0;
	for (uint32_t k = 0; k < count; k++) {
		const struct rcm_blob_entry *q = &b->entry[order[k]];
		const struct rcm_blob_entry *p = &b->entry[reach_by];
		if (reach > q->offset)
			return err_set("blob: entries %u (type %u, %u bytes at %u) and %u (type %u, "
				       "%u bytes at %u) overlap", reach_by, p->type, p->size,
				       p->offset, order[k], q->type, q->size, q->offset);
		if ((uint64_t)q->offset + q->size > reach) {
			reach = (uint64_t)q->offset + q->size;
			reach_by = order[k];
		}
	}
	uint8_t digest[RCM_BLOB_DIGEST_LEN];
	rcm_blob_digest(data, digest);
	b->digest_ok = memcmp(digest, data + RCM_BLOB_DIGEST_OFF, RCM_BLOB_DIGEST_LEN) == 0;
	return 0;
}

int rcm_blob_find(const struct rcm_blob *b, uint32_t type)
{
	int found = -1;
	for (uint32_t i = 0; i < b->count; i++) {
		if (b->entry[i].type != type)
			continue;
		if (found >= 0)
			return err_set("blob: entries %d and %u both have type %u; expected one",
				       found, i, type);
		found = (int)i;
	}
	if (found < 0)
		return err_set("blob: no entry of type %u among its %u entries%s", type, b->count,
			       type == RCM_BLOB_TYPE_KERNEL ? " (45 is the kernel boot image)" : "");
	return found;
}

int rcm_blob_swapped_size(const struct rcm_blob *b, uint32_t type, uint64_t len,
			  uint64_t *size)
{
	int k = rcm_blob_find(b, type);
	if (k < 0)
		return -1;
	/* parse() bounded b->size and the entry to 32 bits, len is checked here */
	uint64_t total = b->size - b->entry[k].size;
	if (len > RCM_BLOB_SIZE_MAX || total + len > RCM_BLOB_SIZE_MAX)
		return err_set("blob: entry %d (type %u) of %llu bytes would make the blob %llu "
			       "bytes, its 32-bit offsets reach at most %u", k, type,
			       (unsigned long long)len, (unsigned long long)(total + len),
			       RCM_BLOB_SIZE_MAX);
	*size = total + len;
	return 0;
}

int rcm_blob_replace(const struct rcm_blob *b, uint32_t type, const uint8_t *payload,
		     uint64_t len, uint8_t *out, uint64_t out_size, uint64_t *out_len)
{
	uint64_t total;
	if (rcm_blob_swapped_size(b, type, len, &total) != 0)
		return -1;
	if (out_size < total)
		return err_set("blob: needs %llu bytes, the buffer holds %llu",
			       (unsigned long long)total, (unsigned long long)out_size);
	int k = rcm_blob_find(b, type);
	const struct rcm_blob_entry *kernel = &b->entry[k];
	uint64_t start = kernel->offset, old_end = start + kernel->size;
	memcpy(out, b->data, (size_t)start);
	if (len)
		memcpy(out + start, payload, (size_t)len);
	memcpy(out + start + len, b->data + old_end, (size_t)(b->size - old_end));
	for (uint32_t i = 0; i < b->count; i++) {
		uint8_t *e = out + RCM_BLOB_TABLE_OFF + (uint64_t)i * RCM_BLOB_ENTRY_LEN;
		if ((int)i == k)
			le32_store(e + 12, (uint32_t)len);
		else if (b->entry[i].offset >= old_end)
			/* within 32 bits: the entry ends inside the new total, checked above */
			le32_store(e + 4, (uint32_t)(b->entry[i].offset - kernel->size + len));
	}
	rcm_blob_digest(out, out + RCM_BLOB_DIGEST_OFF);
	*out_len = total;
	return 0;
}

int rcm_blob_check_kernel(const struct rcm_blob *b)
{
	int k = rcm_blob_find(b, RCM_BLOB_TYPE_KERNEL);
	if (k < 0)
		return -1;
	struct bootimg_info info;
	if (bootimg_parse(&info, b->data + b->entry[k].offset, b->entry[k].size) != 0)
		return err_prefix("blob: entry %d (type %u, kernel) is not an Android boot image v0",
				  k, RCM_BLOB_TYPE_KERNEL);
	return 0;
}

/* The printable part of a header string, for one log line. */
static void printable(char *out, size_t size, const char *in)
{
	size_t j = 0;
	for (size_t i = 0; in[i] && j + 1 < size; i++)
		out[j++] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[j] = '\0';
}

void rcm_blob_print(FILE *out, const struct rcm_blob *b)
{
	fprintf(out, "blob: %llu bytes, %u entries, digest %s\n", (unsigned long long)b->size,
		b->count, b->digest_ok ? "matches (SHA-512 of 0x48..0x450)" : "does NOT match");
	for (uint32_t i = 0; i < b->count; i++) {
		const struct rcm_blob_entry *e = &b->entry[i];
		fprintf(out, "  entry %2u  type %2u  offset %10u  size %10u", i, e->type, e->offset,
			e->size);
		struct bootimg_info info;
		if (e->type == RCM_BLOB_TYPE_KERNEL &&
		    bootimg_parse(&info, b->data + e->offset, e->size) == 0) {
			char cmd[80];
			printable(cmd, sizeof(cmd), info.cmdline);
			fprintf(out, "  kernel: boot image v0, kernel %u, ramdisk %u bytes, "
				"cmdline \"%s\"", info.kernel_size, info.ramdisk_size, cmd);
		} else if (e->type == RCM_BLOB_TYPE_KERNEL) {
			fprintf(out, "  kernel: not a boot image (%s)", err_msg());
		}
		fputc('\n', out);
	}
}
