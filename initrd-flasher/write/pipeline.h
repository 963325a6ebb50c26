/* SPDX-License-Identifier: MIT */
/*
 * Chunks fetched, inflated and checked ahead of the writer. Worker threads walk the chunks in
 * the order the images will be written and fill a small ring of buffers: fetching (from the
 * link or a file), inflating and hashing overlap with the writer erasing, writing and reading
 * back, so a flash takes about as long as its slowest stage. The source is read by one worker
 * at a time, in order; the others inflate and hash the chunks already fetched, so hashing
 * spreads over the CPUs (DESIGN.md section 4). A chunk asked for out of order is fetched on the
 * spot, so the writer may go back (a header-first partition does).
 */
#ifndef SELFFLASH_PIPELINE_H
#define SELFFLASH_PIPELINE_H

#include <pthread.h>
#include <stdint.h>

#include "error.h"
#include "locate.h"
#include "pkg.h"
#include "source/source.h"

#define PIPELINE_SLOTS 6
#define PIPELINE_MAX_WORKERS 4
#define PIPELINE_LOOKAHEAD 32 /* chunks announced to a source that can request ahead */

struct pipeline_slot {
	uint32_t index;
	int state;
	int where; /* enum locate_where: fetched (ABSENT), or read from the board */
	uint8_t *raw, *stored; /* stored: only when the package has compressed chunks */
	char error[ERR_MSG_MAX];
};

struct pipeline;

struct pipeline_worker {
	struct pipeline *p;
	uint8_t *buf; /* aligned bounce buffer for reading chunks found on the board */
};

struct pipeline {
	const struct pkg_manifest *m;
	struct chunk_source *src;
	/* delta (may be NULL): the prober looks up each position ahead of the workers */
	const struct chunk_locator *locator;
	uint8_t *where;    /* per position: enum locate_where */
	uint32_t probed;   /* positions looked up so far */
	uint8_t *probe_buf;
	size_t locate_buf_size;
	pthread_t prober;
	int prober_started;
	struct pipeline_worker worker_args[PIPELINE_MAX_WORKERS];
	uint64_t bytes_in_place, bytes_elsewhere; /* raw bytes found on the board */
	uint32_t chunks_in_place, chunks_elsewhere;
	uint32_t *order, count; /* chunk indices in the order they will be needed */
	uint32_t filled;        /* positions the worker has started */
	uint32_t consumer;      /* position the writer holds (or last held) */
	int holding;
	struct pipeline_slot slots[PIPELINE_SLOTS];
	uint8_t *side_raw, *side_stored; /* for chunks fetched out of order */
	size_t buf_size;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t workers[PIPELINE_MAX_WORKERS];
	int nworkers, workers_left; /* started; not yet finished */
	int fetching;               /* a worker is reading the source */
	int running, stop, worker_done;
	char worker_error[ERR_MSG_MAX];
	uint64_t side_fetches;
};

/*
 * Starts `workers` threads (0: one per online CPU, at most PIPELINE_MAX_WORKERS) for the
 * chunks of every image in variant `variant`, in manifest order. Buffers of buf_size (>= the
 * largest chunk) are allocated here, once. With a locator (delta), a prober thread looks
 * each chunk up on the board first: only chunks it does not find are announced to the source
 * and fetched; found ones are read from the board (and checked again). images (may be NULL:
 * the variant's images in manifest order) lists the nimages image indices in the order they
 * will be asked for. 0 or -1.
 */
int pipeline_start(struct pipeline *p, const struct pkg_manifest *m, int variant,
		   struct chunk_source *src, size_t buf_size, int workers,
		   const struct chunk_locator *locator, const uint32_t *images, uint32_t nimages);

/* One per online CPU, clamped to [1, max]: how many threads a parallel stage should use. */
int pipeline_cpu_threads(int max);

/*
 * The raw, verified bytes of chunk `index` (valid until the next pipeline_get), or NULL with
 * err_msg() saying why (fetch failed, hash mismatch). *where (may be NULL) tells where they
 * came from (enum locate_where; LOCATE_ABSENT: fetched).
 */
const uint8_t *pipeline_get(struct pipeline *p, uint32_t index, int *where);

/* Stops the workers and frees the buffers. */
void pipeline_stop(struct pipeline *p);

#endif
