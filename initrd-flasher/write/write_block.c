/* SPDX-License-Identifier: MIT */
/* Disk writer: chunk data at its extents, none that is already there; holes skipped unless zeroed. */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "readback.h"
#include "target_kind.h"

struct block_walk {
	struct target *t;
	const struct image_job *job;
	struct write_stats *st;
};

/* Writes a chunk's bytes (c != NULL) or zeros over a hole, in buffer-sized pieces. */
static int write_range(void *ctx, const struct pkg_chunk *c, uint64_t off, uint64_t len)
{
	struct block_walk *w = ctx;
	const struct image_job *job = w->job;
	const uint64_t start = off, total = len;
	int zeroed = 0;
	if (c) {
		/* found on the disk where it goes, and checked from the medium: nothing to write,
		 * and the read-back has been done by that check */
		int in_place = image_chunk_in_place(job->reader, c);
		if (in_place < 0)
			return err_prefix("partition %s", job->part.name);
		if (in_place) {
			w->st->bytes_in_place += len;
			image_job_advance(job, 2 * len); /* its write and its read-back */
			return 0;
		}
	}
	while (len) {
		size_t n = len < job->buf_size ? (size_t)len : job->buf_size;
		/* a chunk is written from where it was verified; a hole from a buffer of zeros */
		const uint8_t *data = job->buf_a;
		if (c)
			data = image_view(job->reader, c, off, n);
		else if (!zeroed++)
			memset(job->buf_a, 0, n);
		if (!data)
			return err_prefix("partition %s", job->part.name);
		if (w->t->ops->write(w->t, job->part.offset + off, data, n) != 0)
			return err_prefix("partition %s", job->part.name);
		w->st->bytes_written += n;
		image_job_advance(job, n);
		off += n;
		len -= n;
	}
	if (job->readback && readback_push(job->readback, c, start, total) != 0)
		return -1;
	return 0;
}

int write_block_image(struct target *t, const struct image_job *job, struct write_stats *st)
{
	struct block_walk w = { t, job, st };
	if (image_walk(job->reader, write_range, &w) != 0)
		return -1;
	if (t->ops->flush(t) != 0)
		return err_prefix("partition %s", job->part.name);
	return 0;
}
