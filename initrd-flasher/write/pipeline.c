/* SPDX-License-Identifier: MIT */
/* The read-ahead workers: fetch, inflate and hash chunks into a ring while the writer writes. */
#include "pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunk.h"

enum slot_state { SLOT_EMPTY, SLOT_FILLING, SLOT_READY, SLOT_FAILED, SLOT_TAKEN };

int pipeline_cpu_threads(int max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n < max ? (int)n : max;
}

/* Tells a source that reads ahead (the link) which chunks follow position pos. */
static void announce(struct pipeline *p, uint32_t pos)
{
	if (!p->src->ops->expect)
		return;
	uint32_t end = pos + PIPELINE_LOOKAHEAD < p->count ? pos + PIPELINE_LOOKAHEAD : p->count;
	if (p->locator) {
		/* only what the board lacks travels: stop where the prober has not looked yet */
		pthread_mutex_lock(&p->lock);
		if (end > p->probed)
			end = p->probed;
		pthread_mutex_unlock(&p->lock);
	}
	for (uint32_t q = pos; q < end; q++) {
		if (p->locator && p->where[q] != LOCATE_ABSENT)
			continue;
		struct pkg_chunk c;
		pkg_manifest_chunk(p->m, p->order[q], &c);
		if (chunk_source_expect(p->src, &c) != 0)
			break;
	}
}

/*
 * The delta prober: looks every position up on the board, in order, ahead of the workers.
 * A chunk it cannot read there is simply fetched.
 */
static void *prober_main(void *arg)
{
	struct pipeline *p = arg;
	for (uint32_t pos = 0; pos < p->count; pos++) {
		pthread_mutex_lock(&p->lock);
		int stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		struct pkg_chunk c;
		pkg_manifest_chunk(p->m, p->order[pos], &c);
		int where = locate_probe(p->locator, p->order[pos], &c, p->probe_buf,
					 p->locate_buf_size);
		pthread_mutex_lock(&p->lock);
		p->where[pos] = (uint8_t)(where < 0 ? LOCATE_ABSENT : where);
		p->probed = pos + 1;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* Fills slot s with chunk c: fetched from the source (one worker at a time, in order), or
 * read from where the prober found it on the board. Called without the lock. */
static int fill_slot(struct pipeline_worker *w, struct pipeline_slot *s, uint32_t pos,
		     const struct pkg_chunk *c)
{
	struct pipeline *p = w->p;
	if (s->where != LOCATE_ABSENT)
		return locate_read(p->locator, s->index, c, s->where, w->buf, p->locate_buf_size,
				   s->raw);
	announce(p, pos); /* what comes next travels while this chunk is worked on */
	uint8_t *stored = pkg_chunk_is_verbatim(c) ? s->raw : s->stored;
	int rc = p->src->ops->fetch(p->src, c, stored);
	pthread_mutex_lock(&p->lock);
	p->fetching = 0;
	if (rc == 0)
		p->src->bytes_fetched += c->stored_size;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	/* bytes that fail their check are fetched again (a flaky proxy), within bounds */
	return rc == 0 ? chunk_source_unpack_checked(p->src, c, stored, s->raw) : rc;
}

/*
 * A worker takes the next position when its slot is free, the prober (if any) has looked
 * it up, and, for a chunk to fetch, no other worker is reading the source; it lets the next
 * worker fetch as soon as its bytes are in, then inflates and hashes them.
 */
static void *worker_main(void *arg)
{
	struct pipeline_worker *w = arg;
	struct pipeline *p = w->p;
	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->filled < p->count) {
		uint32_t pos = p->filled;
		struct pipeline_slot *s = &p->slots[pos % PIPELINE_SLOTS];
		int where = !p->locator ? LOCATE_ABSENT
			    : pos < p->probed ? p->where[pos]
					      : LOCATE_UNKNOWN;
		if (s->state != SLOT_EMPTY || where == LOCATE_UNKNOWN ||
		    (where == LOCATE_ABSENT && p->fetching)) {
			pthread_cond_wait(&p->changed, &p->lock);
			continue;
		}
		s->state = SLOT_FILLING;
		s->index = p->order[pos];
		s->where = where;
		p->filled++;
		if (where == LOCATE_ABSENT)
			p->fetching = 1;
		pthread_mutex_unlock(&p->lock);
		struct pkg_chunk c;
		pkg_manifest_chunk(p->m, s->index, &c);
		int rc = fill_slot(w, s, pos, &c);
		pthread_mutex_lock(&p->lock);
		if (rc == 0) {
			s->state = SLOT_READY;
			if (where == LOCATE_IN_PLACE) {
				p->chunks_in_place++;
				p->bytes_in_place += c.raw_size;
			} else if (where == LOCATE_ELSEWHERE) {
				p->chunks_elsewhere++;
				p->bytes_elsewhere += c.raw_size;
			}
		} else {
			err_prefix("chunk %" PRIu32, s->index);
			snprintf(s->error, sizeof(s->error), "%s", err_msg());
			if (!p->worker_error[0])
				snprintf(p->worker_error, sizeof(p->worker_error), "%s", err_msg());
			s->state = SLOT_FAILED;
			p->stop = 1; /* what follows would only fail the same way */
		}
		pthread_cond_broadcast(&p->changed);
	}
	if (--p->workers_left == 0)
		p->worker_done = 1;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int pipeline_start(struct pipeline *p, const struct pkg_manifest *m, int variant,
		   struct chunk_source *src, size_t buf_size, int workers,
		   const struct chunk_locator *locator, const uint32_t *images, uint32_t nimages)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->src = src;
	p->buf_size = buf_size;
	p->locator = locator;
	/* without a caller's order: the variant's images in manifest order */
	uint32_t *own = NULL;
	if (!images) {
		own = malloc(((size_t)m->image_count + 1) * sizeof(*own));
		if (!own)
			return err_set("out of memory for the chunk order");
		nimages = 0;
		for (uint32_t i = 0; i < m->image_count; i++) {
			struct pkg_image im;
			pkg_manifest_image(m, i, &im);
			if (pkg_image_in_variant(&im, (uint32_t)variant))
				own[nimages++] = i;
		}
		images = own;
	}
	uint64_t n = 0;
	int compressed = 0;
	for (uint32_t i = 0; i < nimages; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, images[i], &im);
		n += im.chunk_count;
		for (uint32_t k = im.first_chunk; k < im.first_chunk + im.chunk_count; k++) {
			struct pkg_chunk c;
			pkg_manifest_chunk(m, k, &c);
			compressed |= !pkg_chunk_is_verbatim(&c);
		}
	}
	p->order = malloc(n ? (size_t)n * sizeof(*p->order) : 1);
	p->side_raw = malloc(buf_size);
	p->side_stored = malloc(buf_size);
	int ok = p->order && p->side_raw && p->side_stored;
	for (int k = 0; k < PIPELINE_SLOTS; k++) {
		ok = ok && (p->slots[k].raw = malloc(buf_size)) != NULL;
		ok = ok && (!compressed || (p->slots[k].stored = malloc(buf_size)) != NULL);
	}
	if (workers <= 0)
		workers = pipeline_cpu_threads(PIPELINE_MAX_WORKERS);
	if (workers > PIPELINE_MAX_WORKERS)
		workers = PIPELINE_MAX_WORKERS;
	if (locator) {
		/* aligned: chunks found on the board are read around the page cache */
		p->locate_buf_size = locate_buffer_size(buf_size);
		ok = ok && (p->where = calloc(n ? (size_t)n : 1, 1)) != NULL;
		ok = ok && (p->probe_buf = aligned_alloc(TARGET_DIRECT_ALIGN, p->locate_buf_size));
		for (int k = 0; k < workers; k++)
			ok = ok && (p->worker_args[k].buf = aligned_alloc(TARGET_DIRECT_ALIGN,
									 p->locate_buf_size));
	}
	if (!ok) {
		free(own);
		pipeline_stop(p);
		return err_set("out of memory for the chunk pipeline (%d x %zu bytes)",
			       PIPELINE_SLOTS * (1 + compressed) + 2 + (locator ? workers + 1 : 0),
			       buf_size);
	}
	for (uint32_t i = 0; i < nimages; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, images[i], &im);
		for (uint32_t c = 0; c < im.chunk_count; c++)
			p->order[p->count++] = im.first_chunk + c;
	}
	free(own);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	p->running = 1;
	pthread_mutex_lock(&p->lock);
	for (int k = 0; k < workers; k++) {
		p->worker_args[k].p = p;
		if (pthread_create(&p->workers[k], NULL, worker_main, &p->worker_args[k]) != 0)
			break;
		p->nworkers++;
		p->workers_left++;
	}
	pthread_mutex_unlock(&p->lock);
	if (locator && pthread_create(&p->prober, NULL, prober_main, p) == 0)
		p->prober_started = 1;
	if (p->nworkers == 0 || (locator && !p->prober_started)) {
		pipeline_stop(p);
		return err_set("cannot start the pipeline threads");
	}
	return 0;
}

/* Position of chunk `index` among the next few the workers work on, or UINT32_MAX. */
static uint32_t find_ahead(const struct pipeline *p, uint32_t index)
{
	uint32_t from = p->holding ? p->consumer : 0;
	for (uint32_t pos = from; pos < p->count && pos < from + PIPELINE_SLOTS; pos++)
		if (p->order[pos] == index)
			return pos;
	return UINT32_MAX;
}

const uint8_t *pipeline_get(struct pipeline *p, uint32_t index, int *where)
{
	if (where)
		*where = LOCATE_ABSENT;
	pthread_mutex_lock(&p->lock);
	uint32_t pos = find_ahead(p, index);
	if (pos == UINT32_MAX) {
		/* out of order: fetch it here, leaving the ring as it is */
		p->side_fetches++;
		pthread_mutex_unlock(&p->lock);
		struct pkg_chunk c;
		pkg_manifest_chunk(p->m, index, &c);
		if (chunk_source_fetch_unpacked(p->src, &c, index, p->side_stored, p->side_raw) != 0)
			return NULL;
		pthread_mutex_lock(&p->lock);
		p->src->bytes_fetched += c.stored_size;
		pthread_mutex_unlock(&p->lock);
		return p->side_raw;
	}
	/* the writer moves on: what it passed is free for the workers */
	uint32_t from = p->holding ? p->consumer : 0;
	for (uint32_t q = from; q < pos; q++) {
		struct pipeline_slot *s = &p->slots[q % PIPELINE_SLOTS];
		while (s->state == SLOT_FILLING)
			pthread_cond_wait(&p->changed, &p->lock);
		s->state = SLOT_EMPTY;
	}
	p->consumer = pos;
	p->holding = 1;
	pthread_cond_broadcast(&p->changed);
	struct pipeline_slot *s = &p->slots[pos % PIPELINE_SLOTS];
	while ((pos >= p->filled && !p->worker_done) || s->state == SLOT_FILLING)
		pthread_cond_wait(&p->changed, &p->lock);
	const uint8_t *raw = NULL;
	if (s->state == SLOT_READY || s->state == SLOT_TAKEN) {
		s->state = SLOT_TAKEN;
		raw = s->raw;
		if (where)
			*where = s->where;
	} else if (s->state == SLOT_FAILED) {
		err_set("%s", s->error);
	} else {
		err_set("chunk %" PRIu32 " was not fetched: %s", index,
			p->worker_error[0] ? p->worker_error : "the pipeline stopped");
	}
	pthread_mutex_unlock(&p->lock);
	return raw;
}

void pipeline_stop(struct pipeline *p)
{
	if (p->running) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
		for (int k = 0; k < p->nworkers; k++)
			pthread_join(p->workers[k], NULL);
		if (p->prober_started)
			pthread_join(p->prober, NULL);
		p->prober_started = 0;
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->changed);
		p->running = 0;
		p->nworkers = 0;
	}
	for (int k = 0; k < PIPELINE_SLOTS; k++) {
		free(p->slots[k].raw);
		free(p->slots[k].stored);
		p->slots[k].raw = p->slots[k].stored = NULL;
	}
	for (int k = 0; k < PIPELINE_MAX_WORKERS; k++) {
		free(p->worker_args[k].buf);
		p->worker_args[k].buf = NULL;
	}
	free(p->where);
	free(p->probe_buf);
	p->where = p->probe_buf = NULL;
	free(p->order);
	free(p->side_raw);
	free(p->side_stored);
	p->order = NULL;
	p->side_raw = p->side_stored = NULL;
}
