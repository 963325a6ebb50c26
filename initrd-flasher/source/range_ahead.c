/* SPDX-License-Identifier: MIT */
/* Ranges read ahead on threads, handed over when asked for, in any order (range_ahead.h). */
#include "range_ahead.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/*
 * A range expected and not re-expected while this many takes went by is stale: the pipeline
 * announces the chunks ahead of its position before every fetch, so a live one is renewed at
 * each take; a stale one (the pipeline stopped, or took another path) would hold a slot forever.
 */
#define STALE_TAKES (2 * RANGE_AHEAD_SLOTS)

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_READING, SLOT_DONE, SLOT_TAKING };

struct ahead_slot {
	enum slot_state state;
	uint64_t off;
	size_t len, cap;
	uint8_t *buf;
	unsigned order; /* expect order: the oldest queued range is read first */
	unsigned seen;  /* the take count when it was last expected */
	int rc;
	char error[ERR_MSG_MAX];
};

struct range_ahead {
	range_read_fn read;
	void *ctx;
	size_t max_bytes, cap_total;
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t work, done;
	int stop, nthreads, started;
	unsigned orders, takes, taken, wasted;
	struct ahead_slot slots[RANGE_AHEAD_SLOTS];
	pthread_t threads[RANGE_AHEAD_THREADS_MAX];
};

static struct ahead_slot *oldest_queued(struct range_ahead *ra)
{
	struct ahead_slot *pick = NULL;
	for (int i = 0; i < RANGE_AHEAD_SLOTS; i++) {
		struct ahead_slot *s = &ra->slots[i];
		if (s->state == SLOT_QUEUED && (!pick || (int)(s->order - pick->order) < 0))
			pick = s;
	}
	return pick;
}

static void *reader_main(void *arg)
{
	struct range_ahead *ra = arg;
	pthread_mutex_lock(&ra->lock);
	for (;;) {
		struct ahead_slot *s = oldest_queued(ra);
		if (ra->stop)
			break;
		if (!s) {
			pthread_cond_wait(&ra->work, &ra->lock);
			continue;
		}
		s->state = SLOT_READING;
		uint64_t off = s->off;
		size_t len = s->len;
		uint8_t *buf = s->buf;
		pthread_mutex_unlock(&ra->lock);
		int rc = ra->read(ra->ctx, buf, len, off);
		pthread_mutex_lock(&ra->lock);
		s->rc = rc;
		if (rc != 0)
			snprintf(s->error, sizeof(s->error), "%s", err_msg());
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&ra->done);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

int range_ahead_open(struct range_ahead **out, range_read_fn read, void *ctx, int threads,
		     size_t max_bytes)
{
	*out = NULL;
	struct range_ahead *ra = calloc(1, sizeof(*ra));
	if (!ra)
		return err_set("out of memory for the read-ahead");
	ra->read = read;
	ra->ctx = ctx;
	ra->max_bytes = max_bytes;
	ra->nthreads = threads < 1 ? 1
		       : threads > RANGE_AHEAD_THREADS_MAX ? RANGE_AHEAD_THREADS_MAX
							   : threads;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->work, NULL);
	pthread_cond_init(&ra->done, NULL);
	*out = ra;
	return 0;
}

/* Frees slots nobody renewed for STALE_TAKES takes; a read under way is left to finish. */
static void drop_stale(struct range_ahead *ra)
{
	for (int i = 0; i < RANGE_AHEAD_SLOTS; i++) {
		struct ahead_slot *s = &ra->slots[i];
		if ((s->state == SLOT_QUEUED || s->state == SLOT_DONE) &&
		    ra->takes - s->seen > STALE_TAKES) {
			ra->wasted += s->state == SLOT_DONE;
			s->state = SLOT_FREE;
		}
	}
}

void range_ahead_expect(struct range_ahead *ra, uint64_t off, size_t len)
{
	if (len == 0 || len > ra->max_bytes)
		return;
	pthread_mutex_lock(&ra->lock);
	drop_stale(ra);
	struct ahead_slot *free_slot = NULL;
	for (int i = 0; i < RANGE_AHEAD_SLOTS; i++) {
		struct ahead_slot *s = &ra->slots[i];
		if (s->state != SLOT_FREE && s->off == off && s->len == len) {
			s->seen = ra->takes;
			pthread_mutex_unlock(&ra->lock);
			return;
		}
		/* a free slot whose buffer is large enough already is the better pick */
		if (s->state == SLOT_FREE && (!free_slot || (free_slot->cap < len && s->cap >= len)))
			free_slot = s;
	}
	struct ahead_slot *s = free_slot;
	if (s && s->cap < len) {
		/* buffers grow to the chunk size once, then stay: no allocation per chunk */
		uint8_t *nb = ra->cap_total - s->cap + len <= ra->max_bytes ? realloc(s->buf, len)
									     : NULL;
		if (nb) {
			ra->cap_total = ra->cap_total - s->cap + len;
			s->buf = nb;
			s->cap = len;
		} else {
			s = NULL; /* no room: only a hint, ignored */
		}
	}
	if (s) {
		*s = (struct ahead_slot){ .state = SLOT_QUEUED, .off = off, .len = len, .cap = s->cap,
					  .buf = s->buf, .order = ra->orders++, .seen = ra->takes };
		/* readers start at the first hint: a source never told ahead costs no threads */
		while (ra->started < ra->nthreads &&
		       pthread_create(&ra->threads[ra->started], NULL, reader_main, ra) == 0)
			ra->started++;
		pthread_cond_signal(&ra->work);
	}
	pthread_mutex_unlock(&ra->lock);
}

int range_ahead_take(struct range_ahead *ra, uint64_t off, size_t len, void *buf)
{
	pthread_mutex_lock(&ra->lock);
	ra->takes++;
	struct ahead_slot *s = NULL;
	for (int i = 0; i < RANGE_AHEAD_SLOTS && !s; i++)
		if (ra->slots[i].state != SLOT_FREE && ra->slots[i].state != SLOT_TAKING &&
		    ra->slots[i].off == off && ra->slots[i].len == len)
			s = &ra->slots[i];
	if (!s || s->state == SLOT_QUEUED) {
		if (s)
			s->state = SLOT_FREE; /* not started: the caller's own read replaces it */
		pthread_mutex_unlock(&ra->lock);
		return 1;
	}
	while (s->state == SLOT_READING)
		pthread_cond_wait(&ra->done, &ra->lock);
	s->state = SLOT_TAKING; /* copied without the lock; nobody else touches it meanwhile */
	pthread_mutex_unlock(&ra->lock);
	int rc = s->rc;
	if (rc == 0)
		memcpy(buf, s->buf, len);
	else
		err_set("%s", s->error);
	pthread_mutex_lock(&ra->lock);
	s->state = SLOT_FREE;
	ra->taken += rc == 0;
	pthread_mutex_unlock(&ra->lock);
	return rc == 0 ? 0 : -1;
}

void range_ahead_stats(struct range_ahead *ra, unsigned *taken, unsigned *wasted)
{
	pthread_mutex_lock(&ra->lock);
	*taken = ra->taken;
	*wasted = ra->wasted;
	pthread_mutex_unlock(&ra->lock);
}

void range_ahead_close(struct range_ahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = 1;
	pthread_cond_broadcast(&ra->work);
	pthread_mutex_unlock(&ra->lock);
	for (int i = 0; i < ra->started; i++)
		pthread_join(ra->threads[i], NULL);
	for (int i = 0; i < RANGE_AHEAD_SLOTS; i++)
		free(ra->slots[i].buf);
	pthread_cond_destroy(&ra->done);
	pthread_cond_destroy(&ra->work);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}
