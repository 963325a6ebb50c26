/* SPDX-License-Identifier: MIT */
/*
 * Chunks fetched, inflated and checked ahead of the writer. A worker thread walks the chunks
 * in the order the images will be written and fills a small ring of buffers: fetching (from
 * the link or a file), inflating and hashing overlap with the writer erasing, writing and
 * reading back, so a flash takes about as long as its slowest stage. A chunk asked for out of
 * order is fetched on the spot, so the writer may go back (a header-first partition does).
 */
#ifndef SELFFLASH_PIPELINE_H
#define SELFFLASH_PIPELINE_H

#include <pthread.h>
#include <stdint.h>

#include "error.h"
#include "image_reader.h"

#define PIPELINE_SLOTS 4
#define PIPELINE_LOOKAHEAD 32 /* chunks announced to a source that can request ahead */

struct pipeline_slot {
	uint32_t index;
	int state;
	uint8_t *raw;
	char error[ERR_MSG_MAX];
};

struct pipeline {
	const struct pkg_manifest *m;
	struct chunk_source *src;
	uint32_t *order, count; /* chunk indices in the order they will be needed */
	uint32_t filled;        /* positions the worker has started */
	uint32_t consumer;      /* position the writer holds (or last held) */
	int holding;
	struct pipeline_slot slots[PIPELINE_SLOTS];
	uint8_t *stored, *side_raw, *side_stored; /* worker's and out-of-order buffers */
	size_t buf_size;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t worker;
	int running, stop, worker_done;
	char worker_error[ERR_MSG_MAX];
	uint64_t side_fetches;
};

/*
 * Starts the worker for the chunks of every image in variant `variant`, in manifest order.
 * Buffers of buf_size (>= the largest chunk) are allocated here, once. 0 or -1.
 */
int pipeline_start(struct pipeline *p, const struct pkg_manifest *m, int variant,
		   struct chunk_source *src, size_t buf_size);

/*
 * The raw, verified bytes of chunk `index` (valid until the next pipeline_get), or NULL with
 * err_msg() saying why (fetch failed, hash mismatch).
 */
const uint8_t *pipeline_get(struct pipeline *p, uint32_t index);

/* Stops the worker and frees the buffers. */
void pipeline_stop(struct pipeline *p);

#endif
