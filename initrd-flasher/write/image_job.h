/* SPDX-License-Identifier: MIT */
/*
 * One image on its way to a target: where it goes, where its bytes come from, the work
 * buffers, and the counts and progress that the writer and the read-back both report into.
 * Its own header so that write (which feeds the read-back) and read-back depend on it, not on
 * each other.
 */
#ifndef SELFFLASH_IMAGE_JOB_H
#define SELFFLASH_IMAGE_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "image_reader.h"
#include "pkg.h"

struct write_stats {
	uint64_t blocks_compared, blocks_skipped, blocks_erased, blocks_written;
	uint64_t bytes_written, bytes_read_back;
	uint64_t bytes_in_place; /* disk chunks found already written (delta): not rewritten */
	/* holes and partition tails made zeros (disks), of them without sending the zeros
	 * (target_zero), and the time it took; bytes_written counts none of them */
	uint64_t bytes_zeroed, bytes_zeroed_cheaply;
	double zero_seconds;
};

/* Adds the counts of st to to. */
static inline void write_stats_add(struct write_stats *to, const struct write_stats *st)
{
	to->blocks_compared += st->blocks_compared;
	to->blocks_skipped += st->blocks_skipped;
	to->blocks_erased += st->blocks_erased;
	to->blocks_written += st->blocks_written;
	to->bytes_written += st->bytes_written;
	to->bytes_read_back += st->bytes_read_back;
	to->bytes_in_place += st->bytes_in_place;
	to->bytes_zeroed += st->bytes_zeroed;
	to->bytes_zeroed_cheaply += st->bytes_zeroed_cheaply;
	to->zero_seconds += st->zero_seconds;
}

enum write_phase {
	WRITE_PHASE_WRITE,    /* writing (or comparing) a partition */
	WRITE_PHASE_READBACK, /* reading it back after the write (NOR; disks check beside it) */
};

/* Told how many image bytes were written (or found equal) and read back, as it happens. */
struct write_progress {
	void (*advance)(struct write_progress *p, uint64_t bytes);
	/* may be NULL: a partition enters a phase */
	void (*phase)(struct write_progress *p, enum write_phase phase, const char *partition);
};

struct readback_queue;

struct image_job {
	struct pkg_partition part; /* offset and size as placed on the real device */
	struct image_reader *reader;
	uint8_t *buf_a, *buf_b; /* caller-owned, each at least target erase size (or 1 MiB) */
	size_t buf_size;
	struct write_progress *progress; /* may be NULL */
	struct readback_queue *readback; /* disks: checked beside the writer (readback.h) */
};

/* Reports bytes to job->progress, if any. */
static inline void image_job_advance(const struct image_job *job, uint64_t bytes)
{
	if (job->progress)
		job->progress->advance(job->progress, bytes);
}

#endif
