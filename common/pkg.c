/* SPDX-License-Identifier: MIT */
/* Flash package header and manifest: encoding, and decoding that trusts nothing. */
#include "pkg.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "le.h"

/* header field offsets */
enum {
	H_MAGIC = 0,
	H_VERSION = 8,
	H_HEADER_SIZE = 12,
	H_FLAGS = 16,
	H_RESERVED1 = 20,
	H_MANIFEST_SIZE = 24,
	H_DATA_SIZE = 32,
	H_PACKAGE_SIZE = 40,
	H_KEY_ID = 48,
	H_RESERVED2 = 56,
	/* signature block, after the header */
	S_LEN = PKG_HEADER_SIZE + 0,
	S_RESERVED = PKG_HEADER_SIZE + 4,
	S_SIG = PKG_HEADER_SIZE + 8,
	S_END = S_SIG + PKG_SIG_MAX,
};

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

void pkg_header_encode(const struct pkg_header *h, uint8_t *prefix)
{
	memset(prefix, 0, PKG_PREFIX_SIZE);
	memcpy(prefix + H_MAGIC, PKG_MAGIC, PKG_MAGIC_LEN);
	le32_store(prefix + H_VERSION, h->version);
	le32_store(prefix + H_HEADER_SIZE, PKG_HEADER_SIZE);
	le32_store(prefix + H_FLAGS, h->flags);
	le64_store(prefix + H_MANIFEST_SIZE, h->manifest_size);
	le64_store(prefix + H_DATA_SIZE, h->data_size);
	le64_store(prefix + H_PACKAGE_SIZE, h->package_size);
	memcpy(prefix + H_KEY_ID, h->key_id, PKG_KEY_ID_LEN);
	uint32_t sig_len = h->sig_len <= PKG_SIG_MAX ? h->sig_len : 0;
	le32_store(prefix + S_LEN, sig_len);
	memcpy(prefix + S_SIG, h->sig, sig_len);
}

int pkg_header_decode(const uint8_t *p, uint64_t file_size, struct pkg_header *h)
{
	memset(h, 0, sizeof(*h));
	if (memcmp(p + H_MAGIC, PKG_MAGIC, PKG_MAGIC_LEN) != 0)
		return err_set("not a selfflash package (bad magic)");
	h->version = le32_load(p + H_VERSION);
	if (h->version != PKG_FORMAT_VERSION)
		return err_set("package format version %" PRIu32 ", this build reads version %d",
			       h->version, PKG_FORMAT_VERSION);
	uint32_t header_size = le32_load(p + H_HEADER_SIZE);
	if (header_size != PKG_HEADER_SIZE)
		return err_set("header size %" PRIu32 ", expected %d", header_size, PKG_HEADER_SIZE);
	h->flags = le32_load(p + H_FLAGS);
	if (h->flags & ~PKG_FLAG_SIGNED)
		return err_set("unknown header flags 0x%" PRIx32, h->flags);
	if (!all_zero(p + H_RESERVED1, 4) || !all_zero(p + H_RESERVED2, 8))
		return err_set("reserved header bytes are not zero");
	h->manifest_size = le64_load(p + H_MANIFEST_SIZE);
	h->data_size = le64_load(p + H_DATA_SIZE);
	h->package_size = le64_load(p + H_PACKAGE_SIZE);
	if (h->manifest_size < PKG_MANIFEST_HEADER_SIZE || h->manifest_size > PKG_MAX_MANIFEST_SIZE)
		return err_set("manifest size %" PRIu64 " outside %d..%" PRIu64, h->manifest_size,
			       PKG_MANIFEST_HEADER_SIZE, (uint64_t)PKG_MAX_MANIFEST_SIZE);
	if (h->data_size > PKG_MAX_DATA_SIZE)
		return err_set("data size %" PRIu64 " past the limit %" PRIu64, h->data_size,
			       (uint64_t)PKG_MAX_DATA_SIZE);
	/* both are bounded above, so this sum cannot wrap */
	uint64_t expect = PKG_PREFIX_SIZE + h->manifest_size + h->data_size;
	if (h->package_size != expect)
		return err_set("package size field %" PRIu64 " does not match its parts (%" PRIu64 ")",
			       h->package_size, expect);
	if (file_size && file_size != h->package_size)
		return err_set("package is %" PRIu64 " bytes, its header says %" PRIu64
			       " (truncated or extended)",
			       file_size, h->package_size);
	memcpy(h->key_id, p + H_KEY_ID, PKG_KEY_ID_LEN);
	h->sig_len = le32_load(p + S_LEN);
	if (!all_zero(p + S_RESERVED, 4) || !all_zero(p + S_END, PKG_PREFIX_SIZE - S_END))
		return err_set("reserved signature block bytes are not zero");
	if (h->flags & PKG_FLAG_SIGNED) {
		if (h->sig_len == 0 || h->sig_len > PKG_SIG_MAX)
			return err_set("signature length %" PRIu32 " outside 1..%d", h->sig_len,
				       PKG_SIG_MAX);
	} else if (h->sig_len != 0 || !all_zero(p + H_KEY_ID, PKG_KEY_ID_LEN)) {
		return err_set("unsigned package carries a signature or key id");
	}
	memcpy(h->sig, p + S_SIG, h->sig_len);
	if (!all_zero(p + S_SIG + h->sig_len, PKG_SIG_MAX - h->sig_len))
		return err_set("bytes after the signature are not zero");
	return 0;
}

/* ---- manifest records ------------------------------------------------------------------ */

enum {
	M_VARIANTS = 0,
	M_TARGETS = 4,
	M_PARTITIONS = 8,
	M_IMAGES = 12,
	M_CHUNKS = 16,
	M_CHUNK_SIZE = 20,
	M_SYSTEM_VERSION = 24,
};

/* Offset of each table, for counts already bounded by the limits. */
static uint64_t table_offset(const struct pkg_manifest *m, int table)
{
	uint64_t off = PKG_MANIFEST_HEADER_SIZE;
	const uint64_t sizes[] = {
		(uint64_t)m->variant_count * PKG_VARIANT_SIZE,
		(uint64_t)m->target_count * PKG_TARGET_SIZE,
		(uint64_t)m->partition_count * PKG_PARTITION_SIZE,
		(uint64_t)m->image_count * PKG_IMAGE_SIZE,
		(uint64_t)m->chunk_count * PKG_CHUNK_SIZE,
	};
	for (int i = 0; i < table; i++)
		off += sizes[i];
	return off;
}

static void copy_str(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n - 1] = '\0';
}

void pkg_manifest_variant(const struct pkg_manifest *m, uint32_t i, struct pkg_variant *v)
{
	const uint8_t *p = m->buf + table_offset(m, 0) + (uint64_t)i * PKG_VARIANT_SIZE;
	copy_str(v->name, p, PKG_VARIANT_NAME_LEN);
	copy_str(v->board, p + 32, PKG_VARIANT_FIELD_LEN);
	copy_str(v->sku, p + 40, PKG_VARIANT_FIELD_LEN);
	copy_str(v->fab, p + 48, PKG_VARIANT_FIELD_LEN);
	copy_str(v->chip_sku, p + 56, PKG_VARIANT_FIELD_LEN);
}

void pkg_manifest_target(const struct pkg_manifest *m, uint32_t i, struct pkg_target *t)
{
	const uint8_t *p = m->buf + table_offset(m, 1) + (uint64_t)i * PKG_TARGET_SIZE;
	t->kind = p[0];
	t->instance = le32_load(p + 4);
	t->sector_size = le32_load(p + 8);
	t->size = le64_load(p + 16);
	copy_str(t->type, p + 24, PKG_TARGET_TYPE_LEN);
	copy_str(t->match, p + 40, PKG_TARGET_MATCH_LEN);
}

void pkg_manifest_partition(const struct pkg_manifest *m, uint32_t i, struct pkg_partition *pt)
{
	const uint8_t *p = m->buf + table_offset(m, 2) + (uint64_t)i * PKG_PARTITION_SIZE;
	copy_str(pt->name, p, PKG_PART_NAME_LEN);
	copy_str(pt->type, p + 40, PKG_PART_TYPE_LEN);
	pt->target = le16_load(p + 72);
	pt->slot = p[74];
	pt->kind = p[75];
	pt->flags = le32_load(p + 76);
	pt->offset = le64_load(p + 80);
	pt->size = le64_load(p + 88);
	memcpy(pt->type_guid, p + 96, 16);
	memcpy(pt->unique_guid, p + 112, 16);
}

void pkg_manifest_image(const struct pkg_manifest *m, uint32_t i, struct pkg_image *im)
{
	const uint8_t *p = m->buf + table_offset(m, 3) + (uint64_t)i * PKG_IMAGE_SIZE;
	im->partition = le32_load(p);
	im->first_chunk = le32_load(p + 4);
	im->chunk_count = le32_load(p + 8);
	im->flags = le32_load(p + 12);
	im->variant_mask = le64_load(p + 16);
	im->size = le64_load(p + 24);
}

void pkg_manifest_chunk(const struct pkg_manifest *m, uint32_t i, struct pkg_chunk *c)
{
	const uint8_t *p = m->buf + table_offset(m, 4) + (uint64_t)i * PKG_CHUNK_SIZE;
	c->offset = le64_load(p);
	c->stored_offset = le64_load(p + 8);
	c->raw_size = le32_load(p + 16);
	c->stored_size = le32_load(p + 20);
	c->compression = p[24];
	c->stored_crc32 = le32_load(p + 28);
	memcpy(c->sha256, p + 32, SHA256_LEN);
}

/* ---- validation ------------------------------------------------------------------------ */

/*
 * A string field: terminated inside the field, zero after the terminator, made of visible
 * ASCII (names end up in messages, GPT entries and file names: no spaces or controls).
 */
static int check_str(const uint8_t *p, size_t n, int may_be_empty, const char *what,
		     uint32_t index)
{
	size_t len = 0;
	while (len < n && p[len])
		len++;
	if (len == n)
		return err_set("%s %" PRIu32 ": string not terminated within %zu bytes", what, index,
			       n);
	if (len == 0 && !may_be_empty)
		return err_set("%s %" PRIu32 ": empty name", what, index);
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return err_set("%s %" PRIu32 ": byte 0x%02x at %zu is not visible ASCII", what,
				       index, p[i], i);
	if (!all_zero(p + len, n - len))
		return err_set("%s %" PRIu32 ": bytes after the string are not zero", what, index);
	return 0;
}

static int check_variants(const struct pkg_manifest *m)
{
	const uint8_t *base = m->buf + table_offset(m, 0);
	for (uint32_t i = 0; i < m->variant_count; i++) {
		const uint8_t *p = base + (uint64_t)i * PKG_VARIANT_SIZE;
		if (check_str(p, PKG_VARIANT_NAME_LEN, 0, "variant", i) ||
		    check_str(p + 32, 8, 1, "variant board", i) ||
		    check_str(p + 40, 8, 1, "variant sku", i) ||
		    check_str(p + 48, 8, 1, "variant fab", i) ||
		    check_str(p + 56, 8, 1, "variant chip sku", i))
			return -1;
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(p, base + (uint64_t)j * PKG_VARIANT_SIZE, PKG_VARIANT_NAME_LEN) == 0)
				return err_set("variant %" PRIu32 ": name '%s' used twice", i,
					       (const char *)p);
	}
	return 0;
}

static int check_targets(const struct pkg_manifest *m)
{
	const uint8_t *base = m->buf + table_offset(m, 1);
	for (uint32_t i = 0; i < m->target_count; i++) {
		const uint8_t *p = base + (uint64_t)i * PKG_TARGET_SIZE;
		struct pkg_target t;
		if (check_str(p + 24, PKG_TARGET_TYPE_LEN, 0, "target type", i) ||
		    check_str(p + 40, PKG_TARGET_MATCH_LEN, 1, "target match", i))
			return -1;
		if (!all_zero(p + 1, 3) || !all_zero(p + 12, 4))
			return err_set("target %" PRIu32 ": reserved bytes are not zero", i);
		pkg_manifest_target(m, i, &t);
		if (t.kind != PKG_TARGET_MTD && t.kind != PKG_TARGET_DISK)
			return err_set("target %" PRIu32 ": unknown kind %u", i, t.kind);
		if (t.sector_size < 512 || t.sector_size > 65536 ||
		    (t.sector_size & (t.sector_size - 1)))
			return err_set("target %" PRIu32 ": sector size %" PRIu32
				       " is not a power of two in 512..65536",
				       i, t.sector_size);
		if (t.size == 0 || t.size % t.sector_size)
			return err_set("target %s: size %" PRIu64
				       " is not a positive multiple of its sector size %" PRIu32,
				       t.type, t.size, t.sector_size);
	}
	return 0;
}

/* A file for the firmware (PKG_PART_FILE): on a disk, of no slot, at offset 0, its size the
 * file's; it has no blocks on the target. */
static int check_file_partition(const struct pkg_partition *a, const struct pkg_target *t)
{
	if (t->kind != PKG_TARGET_DISK)
		return err_set("file %s: on %s, which is no disk (a file is staged on a disk's ESP)",
			       a->name, t->type);
	if (a->slot != PKG_SLOT_NONE || a->offset != 0 || a->flags != 0)
		return err_set("file %s: slot %u, offset %" PRIu64 ", flags 0x%" PRIx32
			       " (a file has none of them)", a->name, a->slot, a->offset, a->flags);
	if (a->size == 0 || a->size > PKG_MAX_FILE_SIZE)
		return err_set("file %s: %" PRIu64 " bytes (expected 1..%llu)", a->name, a->size,
			       (unsigned long long)PKG_MAX_FILE_SIZE);
	return 0;
}

/* Names are unique per target, files included. */
static int check_name_unique(const struct pkg_manifest *m, uint32_t i,
			     const struct pkg_partition *a)
{
	for (uint32_t j = 0; j < i; j++) {
		struct pkg_partition b;
		pkg_manifest_partition(m, j, &b);
		if (b.target == a->target && strcmp(a->name, b.name) == 0)
			return err_set("partition %s: name used twice", a->name);
	}
	return 0;
}

static int check_partitions(const struct pkg_manifest *m)
{
	const uint8_t *base = m->buf + table_offset(m, 2);
	struct pkg_partition a, b;
	struct pkg_target t;
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const uint8_t *p = base + (uint64_t)i * PKG_PARTITION_SIZE;
		if (check_str(p, PKG_PART_NAME_LEN, 0, "partition", i) ||
		    check_str(p + 40, PKG_PART_TYPE_LEN, 1, "partition type", i))
			return -1;
		pkg_manifest_partition(m, i, &a);
		if (a.target >= m->target_count)
			return err_set("partition %s: target %u, the package has %" PRIu32, a.name,
				       a.target, m->target_count);
		if (a.slot > PKG_SLOT_B)
			return err_set("partition %s: unknown slot %u", a.name, a.slot);
		if (a.kind > PKG_PART_FILE)
			return err_set("partition %s: unknown kind %u", a.name, a.kind);
		if (a.flags & ~PKG_PART_KNOWN_FLAGS)
			return err_set("partition %s: unknown flags 0x%" PRIx32, a.name, a.flags);
		pkg_manifest_target(m, a.target, &t);
		if (a.kind == PKG_PART_FILE) {
			if (check_file_partition(&a, &t) != 0 || check_name_unique(m, i, &a) != 0)
				return -1;
			continue;
		}
		uint64_t end;
		if (u64_add(a.offset, a.size, &end) != 0)
			return err_set("partition %s: offset %" PRIu64 " + size %" PRIu64
				       " overflows 64 bits",
				       a.name, a.offset, a.size);
		if (end > t.size)
			return err_set("partition %s: ends at %" PRIu64 ", past the end of %s (%" PRIu64
				       " bytes)",
				       a.name, end, t.type, t.size);
		for (uint32_t j = 0; j < i; j++) {
			pkg_manifest_partition(m, j, &b);
			if (b.target != a.target)
				continue;
			if (strcmp(a.name, b.name) == 0)
				return err_set("partition %s: name used twice on %s", a.name, t.type);
			if (b.kind == PKG_PART_FILE)
				continue; /* no blocks on the target: overlaps nothing */
			/* b's end cannot overflow: it was checked on its own turn */
			if (a.size && b.size && a.offset < b.offset + b.size && b.offset < end)
				return err_set("partition %s [%" PRIu64 ", %" PRIu64
					       ") overlaps %s [%" PRIu64 ", %" PRIu64 ")",
					       a.name, a.offset, end, b.name, b.offset,
					       b.offset + b.size);
		}
	}
	return 0;
}

static int check_images_and_chunks(const struct pkg_manifest *m)
{
	const uint8_t *cbase = m->buf + table_offset(m, 4);
	uint64_t all_variants =
		m->variant_count == 64 ? UINT64_MAX : ((uint64_t)1 << m->variant_count) - 1;
	uint32_t next_chunk = 0;
	uint64_t next_stored = 0;
	struct pkg_image im, other;
	struct pkg_partition part;
	struct pkg_chunk c;

	for (uint32_t i = 0; i < m->image_count; i++) {
		pkg_manifest_image(m, i, &im);
		if (im.flags & ~PKG_IMAGE_KNOWN_FLAGS)
			return err_set("image %" PRIu32 ": unknown flags 0x%" PRIx32, i, im.flags);
		if (im.partition >= m->partition_count)
			return err_set("image %" PRIu32 ": partition %" PRIu32 ", the package has %" PRIu32,
				       i, im.partition, m->partition_count);
		pkg_manifest_partition(m, im.partition, &part);
		if (im.variant_mask == 0 || (im.variant_mask & ~all_variants))
			return err_set("image for %s: variant mask 0x%" PRIx64
				       " names no variant or one past the %" PRIu32 " defined",
				       part.name, im.variant_mask, m->variant_count);
		if (im.size > part.size)
			return err_set("partition %s: image is %" PRIu64 " bytes, partition holds %" PRIu64,
				       part.name, im.size, part.size);
		for (uint32_t j = 0; j < i; j++) {
			pkg_manifest_image(m, j, &other);
			if (other.partition == im.partition && (other.variant_mask & im.variant_mask))
				return err_set("partition %s: two images for the same variant",
					       part.name);
		}
		/* images own consecutive runs of the chunk table, in order */
		if (im.first_chunk != next_chunk || im.chunk_count > m->chunk_count - next_chunk)
			return err_set("image for %s: chunks %" PRIu32 "+%" PRIu32
				       " do not continue the chunk table at %" PRIu32 " of %" PRIu32,
				       part.name, im.first_chunk, im.chunk_count, next_chunk,
				       m->chunk_count);
		uint64_t prev_end = 0;
		for (uint32_t k = im.first_chunk; k < im.first_chunk + im.chunk_count; k++) {
			const uint8_t *cp = cbase + (uint64_t)k * PKG_CHUNK_SIZE;
			if (!all_zero(cp + 25, 3))
				return err_set("chunk %" PRIu32 ": reserved bytes are not zero", k);
			pkg_manifest_chunk(m, k, &c);
			if (c.raw_size == 0 || c.raw_size > PKG_MAX_CHUNK_SIZE)
				return err_set("partition %s, chunk %" PRIu32 ": raw size %" PRIu32
					       " outside 1..%u",
					       part.name, k, c.raw_size, PKG_MAX_CHUNK_SIZE);
			if (c.compression == PKG_COMP_NONE) {
				if (c.stored_size != c.raw_size)
					return err_set("partition %s, chunk %" PRIu32
						       ": stored %" PRIu32 " bytes uncompressed, raw %" PRIu32,
						       part.name, k, c.stored_size, c.raw_size);
			} else if (c.compression == PKG_COMP_ZLIB ||
				   c.compression == PKG_COMP_ZSTD) {
				/* compressed only where smaller: anything else is a bad package */
				if (c.stored_size == 0 || c.stored_size >= c.raw_size)
					return err_set("partition %s, chunk %" PRIu32
						       ": %s stream of %" PRIu32
						       " bytes for %" PRIu32 " raw bytes",
						       part.name, k,
						       c.compression == PKG_COMP_ZLIB ? "zlib" : "zstd",
						       c.stored_size, c.raw_size);
			} else {
				return err_set("partition %s, chunk %" PRIu32 ": unknown compression %u",
					       part.name, k, c.compression);
			}
			if (c.offset < prev_end)
				return err_set("partition %s, chunk %" PRIu32 ": offset %" PRIu64
					       " is before the previous chunk's end %" PRIu64,
					       part.name, k, c.offset, prev_end);
			uint64_t end;
			if (u64_add(c.offset, c.raw_size, &end) != 0 || end > im.size)
				return err_set("partition %s, chunk %" PRIu32 ": bytes %" PRIu64
					       "+%" PRIu32 " run past the image (%" PRIu64 " bytes)",
					       part.name, k, c.offset, c.raw_size, im.size);
			prev_end = end;
			if (c.stored_offset != next_stored)
				return err_set("chunk %" PRIu32 ": stored at %" PRIu64
					       ", expected %" PRIu64 " (chunks must tile the data)",
					       k, c.stored_offset, next_stored);
			next_stored += c.stored_size; /* bounded: count and size are limited */
		}
		next_chunk += im.chunk_count;
	}
	if (next_chunk != m->chunk_count)
		return err_set("%" PRIu32 " chunks belong to no image", m->chunk_count - next_chunk);
	if (next_stored != m->data_size)
		return err_set("chunks store %" PRIu64 " bytes, the data region has %" PRIu64,
			       next_stored, m->data_size);
	return 0;
}

int pkg_manifest_decode(const uint8_t *buf, uint64_t size, uint64_t data_size,
			struct pkg_manifest *m)
{
	memset(m, 0, sizeof(*m));
	if (size < PKG_MANIFEST_HEADER_SIZE)
		return err_set("manifest is %" PRIu64 " bytes, shorter than its %d-byte header", size,
			       PKG_MANIFEST_HEADER_SIZE);
	m->buf = buf;
	m->size = size;
	m->data_size = data_size;
	m->variant_count = le32_load(buf + M_VARIANTS);
	m->target_count = le32_load(buf + M_TARGETS);
	m->partition_count = le32_load(buf + M_PARTITIONS);
	m->image_count = le32_load(buf + M_IMAGES);
	m->chunk_count = le32_load(buf + M_CHUNKS);
	m->chunk_size = le32_load(buf + M_CHUNK_SIZE);
	m->system_version = le64_load(buf + M_SYSTEM_VERSION);
	if (m->variant_count == 0 || m->variant_count > PKG_MAX_VARIANTS)
		return err_set("manifest: %" PRIu32 " variants, expected 1..%d", m->variant_count,
			       PKG_MAX_VARIANTS);
	if (m->target_count == 0 || m->target_count > PKG_MAX_TARGETS)
		return err_set("manifest: %" PRIu32 " targets, expected 1..%d", m->target_count,
			       PKG_MAX_TARGETS);
	if (m->partition_count > PKG_MAX_PARTITIONS)
		return err_set("manifest: %" PRIu32 " partitions, limit %d", m->partition_count,
			       PKG_MAX_PARTITIONS);
	if (m->image_count > PKG_MAX_IMAGES)
		return err_set("manifest: %" PRIu32 " images, limit %d", m->image_count,
			       PKG_MAX_IMAGES);
	if (m->chunk_count > PKG_MAX_CHUNKS)
		return err_set("manifest: %" PRIu32 " chunks, limit %u", m->chunk_count,
			       PKG_MAX_CHUNKS);
	if (m->chunk_size == 0 || m->chunk_size > PKG_MAX_CHUNK_SIZE)
		return err_set("manifest: chunk size %" PRIu32 " outside 1..%u", m->chunk_size,
			       PKG_MAX_CHUNK_SIZE);
	uint64_t expect = table_offset(m, 5);
	if (size != expect)
		return err_set("manifest is %" PRIu64 " bytes, its counts need %" PRIu64, size, expect);
	if (data_size > PKG_MAX_DATA_SIZE)
		return err_set("data size %" PRIu64 " past the limit", data_size);
	if (check_variants(m) || check_targets(m) || check_partitions(m) ||
	    check_images_and_chunks(m))
		return -1;
	return 0;
}

/* ---- encoding -------------------------------------------------------------------------- */

uint64_t pkg_manifest_encoded_size(const struct pkg_manifest_src *s)
{
	if (s->variant_count > PKG_MAX_VARIANTS || s->target_count > PKG_MAX_TARGETS ||
	    s->partition_count > PKG_MAX_PARTITIONS || s->image_count > PKG_MAX_IMAGES ||
	    s->chunk_count > PKG_MAX_CHUNKS)
		return 0;
	struct pkg_manifest m = {
		.variant_count = s->variant_count,
		.target_count = s->target_count,
		.partition_count = s->partition_count,
		.image_count = s->image_count,
		.chunk_count = s->chunk_count,
	};
	return table_offset(&m, 5);
}

/* Copies a string into a fixed field; fails if it does not fit with its terminator. */
static int put_str(uint8_t *dst, size_t n, const char *src, const char *what)
{
	size_t len = strlen(src);
	if (len >= n)
		return err_set("%s '%s' is longer than %zu bytes", what, src, n - 1);
	memcpy(dst, src, len);
	return 0;
}

int pkg_manifest_encode(const struct pkg_manifest_src *s, uint8_t *buf, uint64_t size)
{
	uint64_t need = pkg_manifest_encoded_size(s);
	if (need == 0)
		return err_set("manifest: a count is past its limit");
	if (size != need)
		return err_set("manifest buffer is %" PRIu64 " bytes, %" PRIu64 " needed", size, need);
	memset(buf, 0, size);
	le32_store(buf + M_VARIANTS, s->variant_count);
	le32_store(buf + M_TARGETS, s->target_count);
	le32_store(buf + M_PARTITIONS, s->partition_count);
	le32_store(buf + M_IMAGES, s->image_count);
	le32_store(buf + M_CHUNKS, s->chunk_count);
	le32_store(buf + M_CHUNK_SIZE, s->chunk_size);
	le64_store(buf + M_SYSTEM_VERSION, s->system_version);
	uint8_t *p = buf + PKG_MANIFEST_HEADER_SIZE;
	for (uint32_t i = 0; i < s->variant_count; i++, p += PKG_VARIANT_SIZE) {
		const struct pkg_variant *v = &s->variants[i];
		if (put_str(p, 32, v->name, "variant name") || put_str(p + 32, 8, v->board, "board") ||
		    put_str(p + 40, 8, v->sku, "sku") || put_str(p + 48, 8, v->fab, "fab") ||
		    put_str(p + 56, 8, v->chip_sku, "chip sku"))
			return -1;
	}
	for (uint32_t i = 0; i < s->target_count; i++, p += PKG_TARGET_SIZE) {
		const struct pkg_target *t = &s->targets[i];
		p[0] = t->kind;
		le32_store(p + 4, t->instance);
		le32_store(p + 8, t->sector_size);
		le64_store(p + 16, t->size);
		if (put_str(p + 24, PKG_TARGET_TYPE_LEN, t->type, "target type") ||
		    put_str(p + 40, PKG_TARGET_MATCH_LEN, t->match, "target match"))
			return -1;
	}
	for (uint32_t i = 0; i < s->partition_count; i++, p += PKG_PARTITION_SIZE) {
		const struct pkg_partition *pt = &s->partitions[i];
		if (put_str(p, PKG_PART_NAME_LEN, pt->name, "partition name") ||
		    put_str(p + 40, PKG_PART_TYPE_LEN, pt->type, "partition type"))
			return -1;
		le16_store(p + 72, pt->target);
		p[74] = pt->slot;
		p[75] = pt->kind;
		le32_store(p + 76, pt->flags);
		le64_store(p + 80, pt->offset);
		le64_store(p + 88, pt->size);
		memcpy(p + 96, pt->type_guid, 16);
		memcpy(p + 112, pt->unique_guid, 16);
	}
	for (uint32_t i = 0; i < s->image_count; i++, p += PKG_IMAGE_SIZE) {
		const struct pkg_image *im = &s->images[i];
		le32_store(p, im->partition);
		le32_store(p + 4, im->first_chunk);
		le32_store(p + 8, im->chunk_count);
		le32_store(p + 12, im->flags);
		le64_store(p + 16, im->variant_mask);
		le64_store(p + 24, im->size);
	}
	for (uint32_t i = 0; i < s->chunk_count; i++, p += PKG_CHUNK_SIZE) {
		const struct pkg_chunk *c = &s->chunks[i];
		le64_store(p, c->offset);
		le64_store(p + 8, c->stored_offset);
		le32_store(p + 16, c->raw_size);
		le32_store(p + 20, c->stored_size);
		p[24] = c->compression;
		le32_store(p + 28, c->stored_crc32);
		memcpy(p + 32, c->sha256, SHA256_LEN);
	}
	return 0;
}

const char *pkg_slot_name(uint8_t slot)
{
	return slot == PKG_SLOT_A ? "A" : slot == PKG_SLOT_B ? "B" : "-";
}

const char *pkg_part_kind_name(uint8_t kind)
{
	static const char *const names[] = { "data", "pmbr", "primary_gpt", "secondary_gpt",
						     "file" };
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *pkg_target_kind_name(uint8_t kind)
{
	return kind == PKG_TARGET_MTD ? "mtd" : kind == PKG_TARGET_DISK ? "disk" : "?";
}
