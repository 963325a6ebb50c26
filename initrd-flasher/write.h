/* SPDX-License-Identifier: MIT */
/*
 * Writing one image into its partition, and reading it back. The writer depends on the
 * target's kind (one const table): NOR compares every erase block and erases and writes only
 * what differs; disks write the chunks and skip holes.
 */
#ifndef SELFFLASH_WRITE_H
#define SELFFLASH_WRITE_H

#include <stdint.h>

#include "image_reader.h"
#include "target.h"

struct write_stats {
	uint64_t blocks_compared, blocks_skipped, blocks_erased, blocks_written;
	uint64_t bytes_written, bytes_read_back;
};

/* Told how many image bytes were written (or found equal) and read back, as it happens. */
struct write_progress {
	void (*advance)(struct write_progress *p, uint64_t bytes);
};

struct image_job {
	struct pkg_partition part; /* offset and size as placed on the real device */
	struct image_reader *reader;
	uint8_t *buf_a, *buf_b; /* caller-owned, each at least target erase size (or 1 MiB) */
	size_t buf_size;
	struct write_progress *progress; /* may be NULL */
	struct readback_queue *readback; /* disks: checked beside the writer (readback.h) */
};

struct readback_queue;

/* Reports bytes to job->progress, if any. */
void write_advance(const struct image_job *job, uint64_t bytes);

/* The writers behind write_image(), one per target kind. */
int write_nor_image(struct target *t, const struct image_job *job, struct write_stats *st);
int write_block_image(struct target *t, const struct image_job *job, struct write_stats *st);

/* Writes job's image to t with the writer for `target_kind`; 0 or -1. */
int write_image(uint8_t target_kind, struct target *t, const struct image_job *job,
		struct write_stats *st);

/*
 * Reads back everything the image defines from t and checks it: each chunk's SHA-256, and
 * zeros in holes where the image says they must be zero. With job->readback, the writer has
 * already queued every range and this waits for that check to end. 0 or -1 naming the
 * partition.
 */
int readback_image(struct target *t, const struct image_job *job, struct write_stats *st);

/* Reads back one range (chunk c, or a hole when c is NULL, at image offset off) and checks
 * it, using job->buf_a; counts into st. 0 or -1. */
int readback_check_range(struct target *t, const struct image_job *job,
			 const struct pkg_chunk *c, uint64_t off, uint64_t len,
			 struct write_stats *st);

#endif
