/* SPDX-License-Identifier: MIT */
/* Read-back: ranges read from the device and checked, inline or on threads beside the writer. */
#include "readback.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "sha256.h"

static void *readback_main(void *arg)
{
	struct readback_worker *w = arg;
	struct readback_queue *q = w->q;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->count == 0 && !q->closing)
			pthread_cond_wait(&q->changed, &q->lock);
		if (q->count == 0)
			break;
		struct readback_item it = q->items[q->head];
		q->head = (q->head + 1) % READBACK_QUEUE;
		q->count--;
		int skip = q->failed; /* after a failure the rest is only drained */
		pthread_cond_broadcast(&q->changed);
		pthread_mutex_unlock(&q->lock);
		int rc = skip ? 0
			      : readback_check_range(q->t, &w->job, it.is_hole ? NULL : &it.c, it.off,
						     it.len, &w->st);
		pthread_mutex_lock(&q->lock);
		if (rc != 0 && !q->failed) {
			q->failed = 1;
			snprintf(q->error, sizeof(q->error), "%s", err_msg());
		}
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void free_buffers(struct readback_queue *q)
{
	for (int k = 0; k < READBACK_MAX_THREADS; k++) {
		free(q->workers[k].job.buf_a);
		q->workers[k].job.buf_a = NULL;
	}
}

int readback_start(struct readback_queue *q, struct target *t, const struct image_job *job,
		   int threads)
{
	memset(q, 0, sizeof(*q));
	q->t = t;
	if (threads <= 0)
		threads = pipeline_cpu_threads(READBACK_MAX_THREADS);
	if (threads > READBACK_MAX_THREADS)
		threads = READBACK_MAX_THREADS;
	size_t size = (job->buf_size + TARGET_DIRECT_ALIGN - 1) / TARGET_DIRECT_ALIGN *
		      TARGET_DIRECT_ALIGN;
	for (int k = 0; k < threads; k++) {
		struct readback_worker *w = &q->workers[k];
		w->q = q;
		w->job = *job;
		w->job.buf_a = aligned_alloc(TARGET_DIRECT_ALIGN, size);
		w->job.buf_b = NULL;
		w->job.buf_size = size;
		w->job.readback = NULL;
		if (!w->job.buf_a) {
			free_buffers(q);
			return err_set("out of memory for the read-back buffers");
		}
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
	for (int k = 0; k < threads; k++) {
		if (pthread_create(&q->workers[k].thread, NULL, readback_main, &q->workers[k]) != 0)
			break;
		q->nworkers++;
	}
	if (q->nworkers == 0) {
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->changed);
		free_buffers(q);
		return err_set("cannot start the read-back threads");
	}
	return 0;
}

int readback_push(struct readback_queue *q, const struct pkg_chunk *c, uint64_t off,
		  uint64_t len)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == READBACK_QUEUE && !q->failed)
		pthread_cond_wait(&q->changed, &q->lock);
	int rc = 0;
	if (q->failed) {
		rc = err_set("%s", q->error);
	} else {
		struct readback_item *it = &q->items[(q->head + q->count) % READBACK_QUEUE];
		memset(it, 0, sizeof(*it));
		if (c)
			it->c = *c;
		it->is_hole = c == NULL;
		it->off = off;
		it->len = len;
		q->count++;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int readback_finish(struct readback_queue *q, struct write_stats *st)
{
	pthread_mutex_lock(&q->lock);
	q->closing = 1;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	for (int k = 0; k < q->nworkers; k++) {
		pthread_join(q->workers[k].thread, NULL);
		st->bytes_read_back += q->workers[k].st.bytes_read_back;
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->changed);
	free_buffers(q);
	if (q->failed)
		return err_set("%s", q->error);
	return 0;
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

struct check_walk {
	const struct image_job *job;
	const struct pkg_chunk *c;
	struct sha256 h;
	uint64_t off; /* the range's offset in the image */
};

static int check_medium_piece(void *ctx, const uint8_t *p, size_t n, uint64_t at)
{
	struct check_walk *w = ctx;
	/* the image starts at the partition's start: image offsets are partition offsets */
	if (check_piece(w->job, w->c, &w->h, p, n, w->off + at) != 0)
		return -1;
	image_job_advance(w->job, n);
	return 0;
}

int readback_check_range(struct target *t, const struct image_job *job,
			 const struct pkg_chunk *c, uint64_t off, uint64_t len,
			 struct write_stats *st)
{
	struct check_walk w = { .job = job, .c = c, .off = off };
	sha256_init(&w.h);
	if (target_read_medium(t, job->part.offset + off, len, job->buf_a, job->buf_size,
			    check_medium_piece, &w) != 0)
		return err_prefix("partition %s", job->part.name);
	if (c) {
		uint8_t digest[SHA256_LEN];
		sha256_final(&w.h, digest);
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
