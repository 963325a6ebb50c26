/* SPDX-License-Identifier: MIT */
/*
 * Read-back: everything written is read from the device and checked (each chunk's SHA-256,
 * zeros over every hole and partition tail the writer zeroed: image_reader.h, zero_end).
 * Disks are read around the page cache (target.h, read_direct) so the check reads the medium. Beside the disk writer, ranges
 * are queued as they are written and threads check them while the writer goes on (the ranges
 * are independent, so several threads hash at once); the first failure is kept and reported
 * when the image is finished.
 */
#ifndef SELFFLASH_READBACK_H
#define SELFFLASH_READBACK_H

#include <pthread.h>
#include <stdint.h>

#include "error.h"
#include "image_job.h"
#include "target/target.h"

#define READBACK_QUEUE 64
#define READBACK_MAX_THREADS 4

struct readback_item {
	struct pkg_chunk c;
	int is_hole;
	uint64_t off, len;
};

struct readback_worker {
	struct readback_queue *q;
	struct image_job job; /* the writer's job, with this thread's own buffer */
	struct write_stats st;
	pthread_t thread;
};

struct readback_queue {
	struct target *t;
	struct readback_item items[READBACK_QUEUE];
	unsigned head, count;
	int closing, failed;
	char error[ERR_MSG_MAX];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct readback_worker workers[READBACK_MAX_THREADS];
	int nworkers;
};

/*
 * Starts `threads` threads (0: one per online CPU, at most READBACK_MAX_THREADS) for job's
 * image on t, each with its own buffer of job->buf_size bytes, aligned for O_DIRECT.
 * 0 or -1.
 */
int readback_start(struct readback_queue *q, struct target *t, const struct image_job *job,
		   int threads);

/* Queues a written range: chunk c (or a hole when c is NULL) at image offset off, len bytes.
 * Waits while the queue is full; -1 when the read-back has already failed (err_msg()). */
int readback_push(struct readback_queue *q, const struct pkg_chunk *c, uint64_t off,
		  uint64_t len);

/* Waits for everything queued, stops the threads, adds their counts to st; 0 or -1. */
int readback_finish(struct readback_queue *q, struct write_stats *st);

/*
 * Reads back everything the image defines from t and checks it. With job->readback, the
 * writer has already queued every range and this waits for that check to end. 0 or -1
 * naming the partition.
 */
int readback_image(struct target *t, const struct image_job *job, struct write_stats *st);

/* Reads back one range (chunk c, or a hole when c is NULL, at image offset off) and checks
 * it, using job->buf_a; counts into st. 0 or -1. */
int readback_check_range(struct target *t, const struct image_job *job,
			 const struct pkg_chunk *c, uint64_t off, uint64_t len,
			 struct write_stats *st);

#endif
