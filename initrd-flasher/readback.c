/* SPDX-License-Identifier: MIT */
/* The read-back thread: queued ranges read from the device and checked, in order. */
#include "readback.h"

#include <stdio.h>
#include <string.h>

static void *readback_main(void *arg)
{
	struct readback_queue *q = arg;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->count == 0 && !q->closing)
			pthread_cond_wait(&q->changed, &q->lock);
		if (q->count == 0)
			break;
		struct readback_item it = q->items[q->head];
		pthread_mutex_unlock(&q->lock);
		int rc = q->failed ? 0
				   : readback_check_range(q->t, &q->job, it.is_hole ? NULL : &it.c, it.off,
							  it.len, &q->st);
		pthread_mutex_lock(&q->lock);
		if (rc != 0 && !q->failed) {
			q->failed = 1;
			snprintf(q->error, sizeof(q->error), "%s", err_msg());
		}
		q->head = (q->head + 1) % READBACK_QUEUE;
		q->count--;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int readback_start(struct readback_queue *q, struct target *t, const struct image_job *job,
		   uint8_t *buf, size_t buf_size)
{
	memset(q, 0, sizeof(*q));
	q->t = t;
	q->job = *job;
	q->job.buf_a = buf;
	q->job.buf_b = NULL;
	q->job.buf_size = buf_size;
	q->job.readback = NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
	if (pthread_create(&q->thread, NULL, readback_main, q) != 0) {
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->changed);
		return err_set("cannot start the read-back thread");
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
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->changed);
	st->bytes_read_back += q->st.bytes_read_back;
	if (q->failed)
		return err_set("%s", q->error);
	return 0;
}
