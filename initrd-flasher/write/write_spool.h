/* SPDX-License-Identifier: MIT */
/*
 * The NOR spool: the QSPI and the disk are two devices, and QSPI NOR is slow to erase and
 * program (on a real board it dominates a first flash). So when a variant writes both, the
 * images of the spooled kinds (target_kind.h: NOR) are received first, into memory (every
 * chunk checked on arrival as always), and written and read back by a thread of their own
 * while the other images stream behind them. Each device keeps its own safe order (NOR:
 * header pages last); the caller waits for both before it goes on, so the boot slot is still
 * set only after everything was verified.
 */
#ifndef SELFFLASH_WRITE_SPOOL_H
#define SELFFLASH_WRITE_SPOOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "image_job.h"
#include "pipeline.h"
#include "target/target.h"
#include "target_kind.h"

/* At most this much NOR image data is held in memory; more is written in turn instead. */
#define WRITE_SPOOL_MAX (64u << 20)

struct nor_spool_image {
	struct pkg_partition part; /* as placed */
	const struct target_kind *kind;
	uint8_t *bytes;            /* the whole image, holes as zeros */
	uint32_t size;
};

struct nor_spool {
	struct nor_spool_image *images;
	uint32_t count;
	struct target *targets;
	struct write_progress *progress; /* may be NULL */
	FILE *log;                       /* may be NULL */
	uint8_t *buf_a, *buf_b;          /* the thread's own work buffers, aligned */
	size_t buf_size;
	pthread_t thread;
	int started;
	atomic_int failed;
	char error[ERR_MSG_MAX];
	/* what the thread did, per kind's slot; read after nor_spool_finish */
	struct write_stats stats[TARGET_KIND_COUNT];
};

/*
 * Receives the n images of spooled kinds (indices into m) through pipe, which must stream
 * them first, into memory, then starts the thread that writes them.
 * reader_raw/reader_stored/chunk_buf: the chunk buffers for the image reader; buf_size: the
 * work buffers' size (at least an erase block). 0, or -1 with err_msg() (nothing was started
 * then).
 */
int nor_spool_start(struct nor_spool *s, const struct pkg_manifest *m, const uint32_t *images,
		    uint32_t n, const struct pkg_partition *parts, struct target *targets,
		    struct pipeline *pipe, struct chunk_source *src, uint8_t *reader_raw,
		    uint8_t *reader_stored, size_t chunk_buf, size_t buf_size,
		    struct write_progress *progress, FILE *log);

/* Whether the NOR thread has failed already (the disk writer may stop early then). */
int nor_spool_failed(struct nor_spool *s);

/* Waits for the NOR thread, adds its counts to by_kind, frees everything; 0, or -1 with its
 * error. */
int nor_spool_finish(struct nor_spool *s, struct write_stats by_kind[TARGET_KIND_COUNT]);

#endif
