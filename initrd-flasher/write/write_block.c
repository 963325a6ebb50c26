/* SPDX-License-Identifier: MIT */
/*
 * Disk writer: chunk data at its extents, none that is already there; holes (and the partition
 * past the image) made zeros where the walk gives them (image_reader.h), else left as they are.
 */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "readback.h"
#include "target_kind.h"
#include "timing.h"

/* A hole is zeroed and queued for read-back in steps of this: a long partition tail is checked
 * by several read-back threads while the next step is zeroed, and progress moves. */
#define ZERO_STEP (64ull << 20)

struct block_walk {
	struct target *t;
	const struct image_job *job;
	struct write_stats *st;
};

/*
 * Makes a hole zeros, a step at a time, each step queued for read-back (a hole is checked like
 * a chunk: whatever the device or the file system says it did, the zeros are read back).
 */
static int zero_hole(struct block_walk *w, uint64_t off, uint64_t len)
{
	const struct image_job *job = w->job;
	memset(job->buf_a, 0, job->buf_size);
	while (len) {
		uint64_t n = len < ZERO_STEP ? len : ZERO_STEP, cheaply;
		double start = timing_now_s();
		if (target_zero(w->t, job->part.offset + off, n, job->buf_a, job->buf_size,
				&cheaply) != 0)
			return err_prefix("partition %s", job->part.name);
		w->st->zero_seconds += timing_now_s() - start;
		w->st->bytes_zeroed += n;
		w->st->bytes_zeroed_cheaply += cheaply;
		image_job_advance(job, n);
		if (job->readback && readback_push(job->readback, NULL, off, n) != 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

/* Writes a chunk's bytes (c != NULL) in buffer-sized pieces, or zeros over a hole. */
static int write_range(void *ctx, const struct pkg_chunk *c, uint64_t off, uint64_t len)
{
	struct block_walk *w = ctx;
	const struct image_job *job = w->job;
	const uint64_t start = off, total = len;
	if (!c)
		return zero_hole(w, off, len);
	/* found on the disk where it goes, and checked from the medium: nothing to write, and
	 * the read-back has been done by that check */
	int in_place = image_chunk_in_place(job->reader, c);
	if (in_place < 0)
		return err_prefix("partition %s", job->part.name);
	if (in_place) {
		w->st->bytes_in_place += len;
		image_job_advance(job, 2 * len); /* its write and its read-back */
		return 0;
	}
	while (len) {
		size_t n = len < job->buf_size ? (size_t)len : job->buf_size;
		/* a chunk is written from where it was verified */
		const uint8_t *data = image_view(job->reader, c, off, n);
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
