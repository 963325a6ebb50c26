/* SPDX-License-Identifier: MIT */
/*
 * Read-back that runs beside the disk writer: each range the writer has written (a chunk, or
 * a hole it zeroed) is queued, and a thread reads it back from the device and checks it (the
 * chunk's SHA-256, or zeros) while the writer goes on with the next one. The writer's data
 * and the read-back meet the device the same way as a read-back after the whole image (through
 * the same file descriptor and cache), so the check is the same; it just no longer doubles the
 * time. The first failure is kept and reported when the image is finished.
 */
#ifndef SELFFLASH_READBACK_H
#define SELFFLASH_READBACK_H

#include <pthread.h>
#include <stdint.h>

#include "error.h"
#include "write.h"

#define READBACK_QUEUE 64

struct readback_item {
	struct pkg_chunk c;
	int is_hole;
	uint64_t off, len;
};

struct readback_queue {
	struct target *t;
	struct image_job job; /* the writer's job, with the read-back thread's own buffer */
	struct write_stats st;
	struct readback_item items[READBACK_QUEUE];
	unsigned head, count;
	int closing, failed;
	char error[ERR_MSG_MAX];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t thread;
};

/* Starts the thread for job's image on t; buf (buf_size bytes) is its own. 0 or -1. */
int readback_start(struct readback_queue *q, struct target *t, const struct image_job *job,
		   uint8_t *buf, size_t buf_size);

/* Queues a written range: chunk c (or a hole when c is NULL) at image offset off, len bytes.
 * Waits while the queue is full; -1 when the read-back has already failed (err_msg()). */
int readback_push(struct readback_queue *q, const struct pkg_chunk *c, uint64_t off,
		  uint64_t len);

/* Waits for everything queued, stops the thread, adds its counts to st; 0 or -1. */
int readback_finish(struct readback_queue *q, struct write_stats *st);

#endif
