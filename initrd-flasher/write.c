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

int readback_check_range(struct target *t, const struct image_job *job,
			 const struct pkg_chunk *c, uint64_t off, uint64_t len,
			 struct write_stats *st)
{
	struct sha256 h;
	sha256_init(&h);
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < job->buf_size ? (size_t)(len - done) : job->buf_size;
		if (t->ops->read(t, job->part.offset + off + done, job->buf_a, n) != 0)
			return err_prefix("partition %s", job->part.name);
		if (c) {
			sha256_update(&h, job->buf_a, n);
		} else {
			for (size_t i = 0; i < n; i++)
				if (job->buf_a[i])
					return err_set("partition %s: read back 0x%02x at offset %" PRIu64
						       " where the image has a hole (zeros)",
						       job->part.name, job->buf_a[i], off + done + i);
		}
		done += n;
		write_advance(job, n);
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
