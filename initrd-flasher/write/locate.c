/* SPDX-License-Identifier: MIT */
/* Delta: a chunk found on the board (in place, or in the running slot) instead of fetched. */
#include "locate.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sha256.h"

int locate_init(struct chunk_locator *l, const struct pkg_manifest *m, uint32_t variant,
		const struct pkg_partition *parts, struct target *targets,
		const struct pkg_partition *alt_parts)
{
	memset(l, 0, sizeof(*l));
	l->m = m;
	l->parts = parts;
	l->targets = targets;
	l->alt_parts = alt_parts;
	l->chunk_part = malloc(((size_t)m->chunk_count + 1) * sizeof(*l->chunk_part));
	if (!l->chunk_part)
		return err_set("out of memory for the delta map of %" PRIu32 " chunks", m->chunk_count);
	for (uint32_t i = 0; i < m->chunk_count; i++)
		l->chunk_part[i] = UINT32_MAX;
	for (uint32_t i = 0; i < m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, i, &im);
		if (!pkg_image_in_variant(&im, variant))
			continue;
		for (uint32_t k = im.first_chunk; k < im.first_chunk + im.chunk_count; k++)
			l->chunk_part[k] = im.partition;
	}
	return 0;
}

void locate_free(struct chunk_locator *l)
{
	free(l->chunk_part);
	l->chunk_part = NULL;
}

size_t locate_buffer_size(size_t max_chunk)
{
	/* the chunk, plus an aligned block before and after it, in one read */
	return (max_chunk + 3 * (size_t)TARGET_DIRECT_ALIGN - 1) / TARGET_DIRECT_ALIGN *
	       TARGET_DIRECT_ALIGN;
}

struct place_read {
	const uint8_t *data; /* the range in one piece (the buffer holds it whole) */
	size_t len;
};

static int take_piece(void *ctx, const uint8_t *p, size_t n, uint64_t at)
{
	struct place_read *r = ctx;
	if (at != 0 || n == 0)
		return err_set("a chunk's place did not come in one read");
	r->data = p;
	r->len = n;
	return 0;
}

/* Reads c's bytes at partition part (of the locator's targets) from the medium into buf. */
static const uint8_t *read_place(const struct chunk_locator *l, const struct pkg_partition *part,
				 const struct pkg_chunk *c, uint8_t *buf, size_t buf_size)
{
	if (c->offset > part->size || c->raw_size > part->size - c->offset) {
		err_set("chunk at %" PRIu64 "+%" PRIu32 " lies outside partition %s", c->offset,
			c->raw_size, part->name);
		return NULL;
	}
	if (locate_buffer_size(c->raw_size) > buf_size) {
		err_set("a %" PRIu32 "-byte chunk is larger than the delta buffer", c->raw_size);
		return NULL;
	}
	struct place_read r = { 0 };
	if (target_read_medium(&l->targets[part->target], part->offset + c->offset, c->raw_size, buf,
			    buf_size, take_piece, &r) != 0 || r.len != c->raw_size) {
		err_prefix("partition %s", part->name);
		return NULL;
	}
	return r.data;
}

/* memcmp of the buffer against itself shifted by one: as fast as memcmp, no zero buffer */
static int all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* 1 when the bytes at part's place are chunk c's, 0 when not, -1 when unreadable. */
static int holds(const struct chunk_locator *l, const struct pkg_partition *part,
		 const struct pkg_chunk *c, uint8_t *buf, size_t buf_size)
{
	/* a hole of the target file reads as zeros, and a chunk is never all zeros */
	struct target *t = &l->targets[part->target];
	if (t->ops->is_hole && c->offset <= part->size && c->raw_size <= part->size - c->offset &&
	    t->ops->is_hole(t, part->offset + c->offset, c->raw_size) == 1)
		return 0;
	const uint8_t *data = read_place(l, part, c, buf, buf_size);
	if (!data)
		return -1;
	/* a package never stores a chunk of zeros (zeros are holes): an empty disk costs no hash */
	if (all_zero(data, c->raw_size))
		return 0;
	uint8_t digest[SHA256_LEN];
	sha256_buffer(data, c->raw_size, digest);
	return memcmp(digest, c->sha256, SHA256_LEN) == 0;
}

static const struct pkg_partition *alt_of(const struct chunk_locator *l, uint32_t part)
{
	if (!l->alt_parts || l->alt_parts[part].size == 0)
		return NULL;
	return &l->alt_parts[part];
}

int locate_probe(const struct chunk_locator *l, uint32_t index, const struct pkg_chunk *c,
		 uint8_t *buf, size_t buf_size)
{
	if (index >= l->m->chunk_count || l->chunk_part[index] == UINT32_MAX)
		return LOCATE_ABSENT;
	uint32_t part = l->chunk_part[index];
	int rc = holds(l, &l->parts[part], c, buf, buf_size);
	if (rc != 0)
		return rc < 0 ? -1 : LOCATE_IN_PLACE;
	const struct pkg_partition *alt = alt_of(l, part);
	if (!alt)
		return LOCATE_ABSENT;
	rc = holds(l, alt, c, buf, buf_size);
	return rc < 0 ? -1 : rc ? LOCATE_ELSEWHERE : LOCATE_ABSENT;
}

int locate_read(const struct chunk_locator *l, uint32_t index, const struct pkg_chunk *c,
		int where, uint8_t *buf, size_t buf_size, uint8_t *raw)
{
	uint32_t part = index < l->m->chunk_count ? l->chunk_part[index] : UINT32_MAX;
	const struct pkg_partition *from = part == UINT32_MAX ? NULL
					   : where == LOCATE_IN_PLACE ? &l->parts[part]
					   : where == LOCATE_ELSEWHERE ? alt_of(l, part)
								       : NULL;
	if (!from)
		return err_set("chunk %" PRIu32 " is not on the board", index);
	const uint8_t *data = read_place(l, from, c, buf, buf_size);
	if (!data)
		return err_prefix("chunk %" PRIu32, index);
	uint8_t digest[SHA256_LEN];
	sha256_buffer(data, c->raw_size, digest);
	if (memcmp(digest, c->sha256, SHA256_LEN) != 0)
		return err_set("chunk %" PRIu32 ": partition %s changed since it was looked at",
			       index, from->name);
	memcpy(raw, data, c->raw_size);
	return 0;
}
