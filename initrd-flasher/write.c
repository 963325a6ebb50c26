/* SPDX-License-Identifier: MIT */
/* Which writer serves which kind of target, and the read-back check shared by all. */
#include "write.h"
#include "readback.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"

static const struct {
	uint8_t target_kind;
	int (*write)(struct target *t, const struct image_job *job, struct write_stats *st);
} image_writers[] = {
	{ PKG_TARGET_MTD, write_nor_image },
	{ PKG_TARGET_DISK, write_block_image },
};

int write_image(uint8_t target_kind, struct target *t, const struct image_job *job,
		struct write_stats *st)
{
	uint64_t end = job->part.offset + job->reader->im.size;
	if (job->reader->im.size > job->part.size || end > t->size || end < job->part.offset)
		return err_set("partition %s: image of %" PRIu64 " bytes at %" PRIu64
			       " does not fit (partition %" PRIu64 " bytes, device %" PRIu64 ")",
			       job->part.name, job->reader->im.size, job->part.offset, job->part.size,
			       t->size);
	for (size_t i = 0; i < sizeof(image_writers) / sizeof(image_writers[0]); i++)
		if (image_writers[i].target_kind == target_kind)
			return image_writers[i].write(t, job, st);
	return err_set("partition %s: no writer for target kind %u", job->part.name, target_kind);
}

void write_advance(const struct image_job *job, uint64_t bytes)
{
	if (job->progress)
		job->progress->advance(job->progress, bytes);
}

struct readback_walk {
	struct target *t;
	const struct image_job *job;
	struct write_stats *st;
};

/*
 * Checks one piece of a read-back: its bytes go into the chunk's hash, or, for a hole, must
 * be zero. part_off is the piece's offset in the partition, for the message.
 */
static int check_piece(const struct image_job *job, const struct pkg_chunk *c,
		       struct sha256 *h, const uint8_t *p, size_t n, uint64_t part_off)
{
	if (c) {
		sha256_update(h, p, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return err_set("partition %s: read back 0x%02x at offset %" PRIu64
				       " where the image has a hole (zeros)",
				       job->part.name, p[i], part_off + i);
	return 0;
}

int readback_check_range(struct target *t, const struct image_job *job,
			 const struct pkg_chunk *c, uint64_t off, uint64_t len,
			 struct write_stats *st)
{
	/*
	 * A disk is read around the page cache: whole aligned blocks covering the range go into
	 * the (aligned) buffer and only the range's bytes are checked. Without read_direct the
	 * range is read as it is.
	 */
	const int direct = t->ops->read_direct != NULL;
	const uint64_t align = direct ? TARGET_DIRECT_ALIGN : 1;
	if (direct && ((uintptr_t)job->buf_a % align || job->buf_size % align))
		return err_set("partition %s: the read-back buffer is not aligned to %" PRIu64
			       " bytes (needed for O_DIRECT)",
			       job->part.name, align);
	const uint64_t first = job->part.offset + off, end = first + len;
	struct sha256 h;
	sha256_init(&h);
	for (uint64_t pos = first - first % align; pos < end;) {
		uint64_t want = end - pos < job->buf_size ? end - pos : job->buf_size;
		if (direct) {
			size_t n = (size_t)((want + align - 1) / align * align), got;
			if (t->ops->read_direct(t, pos, job->buf_a, n, &got) != 0)
				return err_prefix("partition %s", job->part.name);
			if (got < want)
				return err_set("partition %s: read-back at device offset %" PRIu64
					       " got %zu of %" PRIu64 " bytes",
					       job->part.name, pos, got, want);
		} else if (t->ops->read(t, pos, job->buf_a, (size_t)want) != 0) {
			return err_prefix("partition %s", job->part.name);
		}
		uint64_t skip = pos < first ? first - pos : 0; /* the aligned head before the range */
		size_t n = (size_t)(want - skip);
		if (check_piece(job, c, &h, job->buf_a + skip, n, pos + skip - job->part.offset) != 0)
			return -1;
		write_advance(job, n);
		pos += want;
	}
	if (c) {
		uint8_t digest[SHA256_LEN];
		sha256_final(&h, digest);
		if (memcmp(digest, c->sha256, SHA256_LEN) != 0)
			return err_set("partition %s: read-back of %" PRIu32 " bytes at offset %" PRIu64
				       " does not match its SHA-256",
				       job->part.name, c->raw_size, c->offset);
	}
	st->bytes_read_back += len;
	return 0;
}

/* Reads back a chunk (its SHA-256 must match) or a hole (it must read as zeros). */
static int readback_range(void *ctx, const struct pkg_chunk *c, uint64_t off, uint64_t len)
{
	struct readback_walk *w = ctx;
	return readback_check_range(w->t, w->job, c, off, len, w->st);
}

int readback_image(struct target *t, const struct image_job *job, struct write_stats *st)
{
	if (job->readback)
		return readback_finish(job->readback, st);
	struct readback_walk w = { t, job, st };
	return image_walk(job->reader, readback_range, &w);
}
