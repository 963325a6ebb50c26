/* SPDX-License-Identifier: MIT */
/* The read-back threads: queued ranges read from the device and checked. */
#include "readback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

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
