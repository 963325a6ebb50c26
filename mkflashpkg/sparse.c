/* SPDX-License-Identifier: MIT */
/*
 * Android sparse image reader: checks a whole file (every size against the file, the image and
 * the header's totals, in 64-bit arithmetic) before anyone uses it, then serves byte ranges of
 * the expanded image, telling the chunker which ranges are holes so they are never stored.
 */
#include "sparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "crc32.h"
#include "error.h"
#include "le.h"

/* A CRC32 chunk: the CRC-32 of the expanded image before `offset` must be `crc`. */
struct crc_check {
	uint64_t offset;
	uint32_t crc;
	uint32_t chunk;
};

struct parser {
	const struct sparse_source *src;
	struct sparse_image *im;
	size_t cap;
	struct crc_check *checks;
	size_t nchecks, checks_cap;
};

/* What each chunk type carries after its header; the one table the size checks read. */
static const struct chunk_kind {
	uint16_t type;
	const char *name;
	int64_t data_len; /* -1: blocks × block size */
	const char *data_what; /* for messages; RAW says its blocks instead */
} chunk_kinds[] = {
	{ SPARSE_CHUNK_RAW, "RAW", -1, NULL },
	{ SPARSE_CHUNK_FILL, "FILL", 4, "the pattern" },
	{ SPARSE_CHUNK_DONT_CARE, "DONT_CARE", 0, "no data" },
	{ SPARSE_CHUNK_CRC32, "CRC32", 4, "the CRC" },
};

static const struct chunk_kind *chunk_kind_of(uint16_t type)
{
	for (size_t i = 0; i < sizeof(chunk_kinds) / sizeof(chunk_kinds[0]); i++)
		if (chunk_kinds[i].type == type)
			return &chunk_kinds[i];
	return NULL;
}

int sparse_detect_image(const struct sparse_source *src)
{
	uint8_t magic[4];
	if (src->size < sizeof(magic))
		return 0;
	if (src->read(src->ctx, magic, sizeof(magic), 0) != 0)
		return -1;
	return le32_load(magic) == SPARSE_MAGIC;
}

/* Makes room for one more item in a growing array of `count` items. */
static int grow_array(void **items, size_t *cap, size_t count, size_t item_size)
{
	if (count < *cap)
		return 0;
	size_t more = *cap ? *cap * 2 : 16;
	void *n = realloc(*items, more * item_size);
	if (!n)
		return err_set("out of memory for %zu items", more);
	*items = n;
	*cap = more;
	return 0;
}

/* Appends an extent, merging it into the previous hole or equal fill: the chunker then sees
 * one long hole where the file had many DONT_CARE and zero FILL chunks in a row. */
static int add_extent(struct parser *p, const struct sparse_extent *e)
{
	struct sparse_image *im = p->im;
	if (e->length == 0)
		return 0;
	if (im->count) {
		struct sparse_extent *last = &im->extents[im->count - 1];
		int same = last->kind == e->kind;
		if (same && e->kind == SPARSE_EXTENT_FILL)
			same = memcmp(last->fill, e->fill, sizeof(e->fill)) == 0;
		/* two RAW chunks always have a chunk header between their bytes: never merged */
		if (e->kind == SPARSE_EXTENT_DATA)
			same = 0;
		if (same) {
			last->length += e->length;
			return 0;
		}
	}
	/* the chunk count was bounded by the file's size, so this growth is bounded too */
	if (grow_array((void **)&im->extents, &p->cap, im->count, sizeof(*e)) != 0)
		return -1;
	im->extents[im->count++] = *e;
	return 0;
}

static int add_check(struct parser *p, uint64_t offset, uint32_t crc, uint32_t chunk)
{
	if (grow_array((void **)&p->checks, &p->checks_cap, p->nchecks, sizeof(*p->checks)) != 0)
		return -1;
	p->checks[p->nchecks++] = (struct crc_check){ offset, crc, chunk };
	return 0;
}

/* The extent holding offset `off` (< im->size): the extents tile the image, so there is one. */
static size_t find_extent(const struct sparse_image *im, uint64_t off)
{
	size_t lo = 0, hi = im->count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (im->extents[mid].offset <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* CRC-32 of what came before, followed by `count` copies of a 4-byte pattern, without
 * touching the bytes: a DONT_CARE of a terabyte costs a few dozen zlib combines. */
static uint32_t crc_extend_pattern(uint32_t crc, const uint8_t pattern[4], uint64_t count)
{
	uint32_t unit = crc32_update(0, pattern, 4);
	uint64_t unit_len = 4;
	while (count) {
		if (count & 1)
			crc = (uint32_t)crc32_combine(crc, unit, (z_off_t)unit_len);
		count >>= 1;
		if (count) {
			unit = (uint32_t)crc32_combine(unit, unit, (z_off_t)unit_len);
			unit_len *= 2; /* at most twice SPARSE_MAX_IMAGE_SIZE: no wrap */
		}
	}
	return crc;
}

/* Extends *crc over [from, to) of the expanded image (both inside it). */
static int crc_extend_range(const struct sparse_image *im, const struct sparse_source *src,
			    uint32_t *crc, uint64_t from, uint64_t to)
{
	static const uint8_t zeros[4];
	uint8_t buf[65536];
	size_t i = from < to ? find_extent(im, from) : im->count;
	for (; from < to && i < im->count; i++) {
		const struct sparse_extent *e = &im->extents[i];
		uint64_t end = e->offset + e->length < to ? e->offset + e->length : to;
		uint64_t skip = from - e->offset;
		/* extents start on block boundaries (multiples of 4), so a FILL's phase is 0 */
		if (e->kind == SPARSE_EXTENT_HOLE)
			*crc = crc_extend_pattern(*crc, zeros, (end - from) / 4);
		else if (e->kind == SPARSE_EXTENT_FILL)
			*crc = crc_extend_pattern(*crc, e->fill, (end - from) / 4);
		else
			for (uint64_t done = 0; done < end - from;) {
				size_t n = end - from - done < sizeof(buf) ? (size_t)(end - from - done)
									    : sizeof(buf);
				if (src->read(src->ctx, buf, n, e->file_offset + skip + done) != 0)
					return -1;
				*crc = crc32_update(*crc, buf, n);
				done += n;
			}
		from = end;
	}
	return 0;
}

/* The second pass, only for files that carry checksums: CRC32 chunks, then the header's. */
static int check_crcs(const struct parser *p, uint32_t image_crc)
{
	uint32_t crc = 0;
	uint64_t at = 0;
	for (size_t k = 0; k < p->nchecks; k++) {
		const struct crc_check *c = &p->checks[k];
		if (crc_extend_range(p->im, p->src, &crc, at, c->offset) != 0)
			return -1;
		at = c->offset;
		if (crc != c->crc)
			return err_set("chunk %" PRIu32 " (CRC32): the image's first %" PRIu64
				       " bytes have CRC-32 0x%08" PRIx32 ", the chunk says 0x%08" PRIx32,
				       c->chunk, c->offset, crc, c->crc);
	}
	if (image_crc == 0)
		return 0;
	if (crc_extend_range(p->im, p->src, &crc, at, p->im->size) != 0)
		return -1;
	if (crc != image_crc)
		return err_set("image CRC-32 is 0x%08" PRIx32 ", the file header says 0x%08" PRIx32,
			       crc, image_crc);
	return 0;
}

/* Chunk i at file offset pos; advances *pos and *block past it. */
static int parse_chunk(struct parser *p, uint32_t i, uint32_t chunk_hdr_size, uint64_t *pos,
		       uint64_t *block)
{
	const struct sparse_source *src = p->src;
	struct sparse_image *im = p->im;
	uint64_t data_at;
	if (u64_add(*pos, chunk_hdr_size, &data_at) != 0 || data_at > src->size)
		return err_set("chunk %" PRIu32 ": its %" PRIu32 "-byte header at offset %" PRIu64
			       " runs past the end of the file (%" PRIu64 " bytes)",
			       i, chunk_hdr_size, *pos, src->size);
	uint8_t h[SPARSE_CHUNK_HEADER_SIZE];
	/* bytes of a larger chunk header beyond the 12 we know are skipped */
	if (src->read(src->ctx, h, sizeof(h), *pos) != 0)
		return -1;
	uint16_t type = le16_load(h);
	uint32_t blocks = le32_load(h + 4), total = le32_load(h + 8);
	const struct chunk_kind *kind = chunk_kind_of(type);
	if (!kind)
		return err_set("chunk %" PRIu32 ": unknown type 0x%04" PRIx16 " (expected RAW 0xCAC1, "
			       "FILL 0xCAC2, DONT_CARE 0xCAC3 or CRC32 0xCAC4)", i, type);
	const char *name = kind->name;
	if (total < chunk_hdr_size)
		return err_set("chunk %" PRIu32 " (%s): total size %" PRIu32
			       " is smaller than the chunk header size %" PRIu32,
			       i, name, total, chunk_hdr_size);
	uint64_t data_len = total - chunk_hdr_size, end = data_at + data_len;
	if (end > src->size) /* data_at <= size < 2^64 and data_len < 2^32: no wrap */
		return err_set("chunk %" PRIu32 " (%s): %" PRIu32 " bytes at offset %" PRIu64
			       " run past the end of the file (%" PRIu64 " bytes)",
			       i, name, total, *pos, src->size);
	if (*block + blocks > im->total_blocks)
		return err_set("chunk %" PRIu32 " (%s): blocks %" PRIu64 "..%" PRIu64
			       " run past the image's %" PRIu32 " blocks",
			       i, name, *block, *block + blocks, im->total_blocks);
	struct sparse_extent e = { .offset = *block * im->block_size,
				   .length = (uint64_t)blocks * im->block_size };
	uint64_t want = kind->data_len < 0 ? e.length : (uint64_t)kind->data_len;
	if (data_len != want) {
		char what[64];
		if (kind->data_len < 0)
			snprintf(what, sizeof(what), "%" PRIu32 " blocks of %" PRIu32 " bytes", blocks,
				 im->block_size);
		else
			snprintf(what, sizeof(what), "%s", kind->data_what);
		return err_set("chunk %" PRIu32 " (%s): %" PRIu64 " data bytes, expected %" PRIu64
			       " (%s)", i, name, data_len, want, what);
	}
	uint8_t word[4];
	switch (type) {
	case SPARSE_CHUNK_RAW:
		e.kind = SPARSE_EXTENT_DATA;
		e.file_offset = data_at;
		break;
	case SPARSE_CHUNK_FILL:
		if (src->read(src->ctx, e.fill, 4, data_at) != 0)
			return -1;
		/* a fill of zeros is what a hole reads back as: store it as one */
		e.kind = le32_load(e.fill) ? SPARSE_EXTENT_FILL : SPARSE_EXTENT_HOLE;
		if (e.kind == SPARSE_EXTENT_HOLE)
			memset(e.fill, 0, sizeof(e.fill));
		break;
	case SPARSE_CHUNK_DONT_CARE:
		e.kind = SPARSE_EXTENT_HOLE;
		break;
	default: /* CRC32: chunk_kind_of() knows no other type */
		if (blocks != 0)
			return err_set("chunk %" PRIu32 " (CRC32): covers %" PRIu32
				       " blocks, expected 0", i, blocks);
		if (src->read(src->ctx, word, 4, data_at) != 0 ||
		    add_check(p, e.offset, le32_load(word), i) != 0)
			return -1;
		break;
	}
	if (type != SPARSE_CHUNK_CRC32 && add_extent(p, &e) != 0)
		return -1;
	*pos = end;
	*block += blocks;
	return 0;
}

int sparse_parse_image(const struct sparse_source *src, struct sparse_image *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t h[SPARSE_FILE_HEADER_SIZE];
	if (src->size < sizeof(h))
		return err_set("%" PRIu64 " bytes, too short for the %u-byte sparse file header",
			       src->size, SPARSE_FILE_HEADER_SIZE);
	if (src->read(src->ctx, h, sizeof(h), 0) != 0)
		return -1;
	uint32_t magic = le32_load(h);
	uint16_t major = le16_load(h + 4), minor = le16_load(h + 6);
	uint16_t file_hdr_size = le16_load(h + 8), chunk_hdr_size = le16_load(h + 10);
	uint32_t block_size = le32_load(h + 12), total_blocks = le32_load(h + 16);
	uint32_t total_chunks = le32_load(h + 20), image_crc = le32_load(h + 24);
	if (magic != SPARSE_MAGIC)
		return err_set("magic 0x%08" PRIx32 ", expected 0x%08x", magic, SPARSE_MAGIC);
	if (major != 1)
		return err_set("sparse format version %u.%u, expected 1.x", major, minor);
	if (file_hdr_size < SPARSE_FILE_HEADER_SIZE)
		return err_set("file header size %u, expected at least %u", file_hdr_size,
			       SPARSE_FILE_HEADER_SIZE);
	if (chunk_hdr_size < SPARSE_CHUNK_HEADER_SIZE)
		return err_set("chunk header size %u, expected at least %u", chunk_hdr_size,
			       SPARSE_CHUNK_HEADER_SIZE);
	if (file_hdr_size > src->size)
		return err_set("file header size %u runs past the end of the file (%" PRIu64 " bytes)",
			       file_hdr_size, src->size);
	if (block_size == 0 || block_size % 4 != 0)
		return err_set("block size %" PRIu32 ", expected a non-zero multiple of 4", block_size);
	/* both factors are 32-bit: the product cannot wrap 64 bits */
	uint64_t size = (uint64_t)total_blocks * block_size;
	if (size > SPARSE_MAX_IMAGE_SIZE)
		return err_set("%" PRIu32 " blocks of %" PRIu32 " bytes = %" PRIu64
			       " bytes, more than the %llu this tool accepts",
			       total_blocks, block_size, size, SPARSE_MAX_IMAGE_SIZE);
	/* every chunk needs at least its header in the file: a bound before anything is kept */
	uint64_t most_chunks = (src->size - file_hdr_size) / chunk_hdr_size;
	if (total_chunks > most_chunks)
		return err_set("header says %" PRIu32 " chunks, the %" PRIu64
			       " bytes after the file header hold at most %" PRIu64,
			       total_chunks, src->size - file_hdr_size, most_chunks);

	out->block_size = block_size;
	out->total_blocks = total_blocks;
	out->size = size;
	struct parser p = { .src = src, .im = out };
	uint64_t pos = file_hdr_size, block = 0;
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < total_chunks; i++)
		rc = parse_chunk(&p, i, chunk_hdr_size, &pos, &block);
	if (rc == 0 && block != total_blocks)
		rc = err_set("the %" PRIu32 " chunks cover %" PRIu64
			     " blocks, the header says %" PRIu32, total_chunks, block, total_blocks);
	if (rc == 0 && pos != src->size)
		rc = err_set("%" PRIu64 " bytes follow the last of the header's %" PRIu32
			     " chunks (expected the file to end at offset %" PRIu64
			     "): wrong chunk count or trailing data",
			     src->size - pos, total_chunks, pos);
	if (rc == 0 && (p.nchecks || image_crc))
		rc = check_crcs(&p, image_crc);
	free(p.checks);
	if (rc != 0)
		sparse_free_image(out);
	return rc;
}

int sparse_read_range(const struct sparse_image *im, const struct sparse_source *src,
		      uint64_t off, void *buf, size_t len)
{
	if (off > im->size || len > im->size - off)
		return err_set("bytes %" PRIu64 "+%zu run past the sparse image's %" PRIu64, off, len,
			       im->size);
	if (len == 0)
		return 1;
	uint64_t end = off + len;
	size_t first = find_extent(im, off), i = first;
	while (i < im->count && im->extents[i].offset < end &&
	       im->extents[i].kind == SPARSE_EXTENT_HOLE)
		i++;
	if (i == im->count || im->extents[i].offset >= end)
		return 1;
	uint8_t *out = buf;
	for (i = first; off < end; i++) {
		const struct sparse_extent *e = &im->extents[i];
		uint64_t piece_end = e->offset + e->length < end ? e->offset + e->length : end;
		size_t n = (size_t)(piece_end - off);
		if (e->kind == SPARSE_EXTENT_HOLE) {
			memset(out, 0, n);
		} else if (e->kind == SPARSE_EXTENT_FILL) {
			/* extents start on multiples of 4, so the phase is the offset's; then the
			 * written part is copied onto the rest, doubling (4 divides its length) */
			size_t j = 0;
			for (; j < n && j < 4; j++)
				out[j] = e->fill[(off + j) % 4];
			while (j < n) {
				size_t k = j <= n - j ? j : n - j;
				memcpy(out + j, out, k);
				j += k;
			}
		} else if (src->read(src->ctx, out, n, e->file_offset + (off - e->offset)) != 0) {
			return -1;
		}
		out += n;
		off = piece_end;
	}
	return 0;
}

void sparse_free_image(struct sparse_image *im)
{
	free(im->extents);
	memset(im, 0, sizeof(*im));
}
