/* SPDX-License-Identifier: MIT */
/* Random access to an image's bytes through its chunks, one unpacked chunk cached. */
#include "image_reader.h"

#include <inttypes.h>
#include <string.h>

#include "chunk.h"
#include "error.h"
#include "pipeline.h"
#include "sha256.h"

uint32_t image_largest_chunk(const struct pkg_manifest *m)
{
	uint32_t largest = 1;
	for (uint32_t i = 0; i < m->chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(m, i, &c);
		if (c.raw_size > largest)
			largest = c.raw_size;
	}
	return largest;
}

int image_reader_init(struct image_reader *r, const struct pkg_manifest *m,
		      const struct pkg_image *im, struct chunk_source *src, uint8_t *raw,
		      uint8_t *stored, size_t buf_size)
{
	r->m = m;
	r->im = *im;
	r->src = src;
	r->raw = raw;
	r->stored = stored;
	r->pipe = NULL;
	r->current = NULL;
	r->cached = UINT32_MAX;
	r->mem = NULL;
	r->zero_end = (im->flags & PKG_IMAGE_ZERO_HOLES) ? im->size : 0;
	for (uint32_t i = im->first_chunk; i < im->first_chunk + im->chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(m, i, &c);
		if (c.raw_size > buf_size)
			return err_set("chunk %" PRIu32 " (%" PRIu32 " bytes) is larger than the %zu-byte "
				       "buffers", i, c.raw_size, buf_size);
	}
	return 0;
}

int image_reader_init_memory(struct image_reader *r, const uint8_t *bytes, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	if (size == 0)
		return err_set("an empty image cannot be written");
	r->mem = bytes;
	r->im.size = size;
	r->im.chunk_count = 1;
	r->mem_chunk.offset = 0;
	r->mem_chunk.raw_size = size;
	r->mem_chunk.stored_size = size;
	sha256_buffer(bytes, size, r->mem_chunk.sha256);
	r->cached = UINT32_MAX;
	return 0;
}

/* First chunk of the image whose end lies after off (chunks are sorted, disjoint). */
static uint32_t first_chunk_after(struct image_reader *r, uint64_t off)
{
	uint32_t lo = r->im.first_chunk, hi = r->im.first_chunk + r->im.chunk_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct pkg_chunk c;
		pkg_manifest_chunk(r->m, mid, &c);
		if (c.offset + c.raw_size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int load_chunk(struct image_reader *r, uint32_t index, const struct pkg_chunk *c)
{
	if (r->cached == index)
		return 0;
	r->cached = UINT32_MAX;
	if (r->pipe) {
		r->current = pipeline_get(r->pipe, index, &r->cached_where);
		if (!r->current)
			return -1;
		r->cached = index;
		return 0;
	}
	r->cached_where = LOCATE_ABSENT;
	if (chunk_source_fetch_unpacked(r->src, c, index, r->stored, r->raw) != 0)
		return -1;
	r->src->bytes_fetched += c->stored_size;
	r->current = r->raw;
	r->cached = index;
	return 0;
}

int image_reader_zero_through(struct image_reader *r, uint64_t end)
{
	if (end < r->im.size)
		return err_set("the image (%" PRIu64 " bytes) ends after the %" PRIu64
			       " bytes it is to fill", r->im.size, end);
	r->zero_end = end;
	return 0;
}

void image_reader_use_pipeline(struct image_reader *r, struct pipeline *pipe)
{
	r->pipe = pipe;
	r->cached = UINT32_MAX;
}

int image_read(struct image_reader *r, uint64_t off, uint8_t *buf, size_t len)
{
	if (r->mem) {
		if (off > r->im.size || len > r->im.size - off)
			return err_set("image bytes %" PRIu64 "+%zu are past its end", off, len);
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	memset(buf, 0, len);
	uint64_t end = off + len;
	for (uint32_t i = first_chunk_after(r, off); i < r->im.first_chunk + r->im.chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(r->m, i, &c);
		if (c.offset >= end)
			break;
		if (load_chunk(r, i, &c) != 0)
			return -1;
		uint64_t from = c.offset > off ? c.offset : off;
		uint64_t to = c.offset + c.raw_size < end ? c.offset + c.raw_size : end;
		memcpy(buf + (from - off), r->current + (from - c.offset), (size_t)(to - from));
	}
	return 0;
}

const uint8_t *image_view(struct image_reader *r, const struct pkg_chunk *c, uint64_t off,
			  size_t len)
{
	if (r->mem) {
		if (off > r->im.size || len > r->im.size - off)
			goto outside;
		return r->mem + off;
	}
	uint32_t i = first_chunk_after(r, off);
	struct pkg_chunk at;
	if (i >= r->im.first_chunk + r->im.chunk_count)
		goto outside;
	pkg_manifest_chunk(r->m, i, &at);
	if (at.offset != c->offset || off < at.offset || len > at.raw_size ||
	    off - at.offset > at.raw_size - len)
		goto outside;
	if (load_chunk(r, i, &at) != 0)
		return NULL;
	return r->current + (off - at.offset);
outside:
	err_set("image bytes %" PRIu64 "+%zu are not inside the chunk at %" PRIu64, off, len,
		c->offset);
	return NULL;
}

int image_chunk_in_place(struct image_reader *r, const struct pkg_chunk *c)
{
	if (r->mem)
		return 0;
	if (!image_view(r, c, c->offset, c->raw_size))
		return -1;
	return r->cached_where == LOCATE_IN_PLACE;
}

int image_walk(const struct image_reader *r, image_walk_fn fn, void *ctx)
{
	/* holes lie before zero_end only: zero_end is 0 (none), the image's size or past it */
	const uint64_t holes_end = r->zero_end;
	uint64_t pos = 0;
	if (r->mem) {
		if (fn(ctx, &r->mem_chunk, 0, r->im.size) != 0)
			return -1;
		pos = r->im.size;
	}
	for (uint32_t i = r->im.first_chunk; !r->mem && i < r->im.first_chunk + r->im.chunk_count;
	     i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(r->m, i, &c);
		if (c.offset > pos && pos < holes_end && fn(ctx, NULL, pos, c.offset - pos) != 0)
			return -1;
		if (fn(ctx, &c, c.offset, c.raw_size) != 0)
			return -1;
		pos = c.offset + c.raw_size;
	}
	if (holes_end > pos && fn(ctx, NULL, pos, holes_end - pos) != 0)
		return -1;
	return 0;
}
