/* SPDX-License-Identifier: MIT */
/* Chunk work (read, zero check, SHA-256, zlib, stored form) on a pool of threads, in order. */
#ifndef SELFFLASH_CHUNKER_H
#define SELFFLASH_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Most worker threads `--jobs` accepts: a bound on memory (slots × 2 chunks), not a budget. */
#define CHUNKER_MAX_JOBS 256

enum chunk_kind {
	CHUNK_HOLE, /* the reader said the window is a hole: nothing was read */
	CHUNK_ZERO, /* the window reads as all zeros: not stored */
	CHUNK_DATA, /* stored: `stored` holds stored_size bytes */
};

/* One window's outcome, handed to the caller's emit function in window order. */
struct chunk_result {
	enum chunk_kind kind;
	uint64_t offset;        /* of the window in the image */
	uint32_t raw_size;      /* of the window */
	/* CHUNK_DATA only: */
	const uint8_t *stored;  /* valid during the emit call only */
	uint32_t stored_size;
	uint8_t compression;    /* PKG_COMP_NONE or the chunker's codec: that only where smaller */
	uint32_t stored_crc32;  /* of the stored bytes */
	uint8_t sha256[SHA256_LEN]; /* of the raw bytes */
};

/*
 * Reads [off, off + len) of an image into buf: 1 when the range is a hole and was not read,
 * 0 when buf holds it, -1 with err_set(). Called from worker threads, several at once, with
 * the same ctx: it must not change shared state.
 */
typedef int (*chunker_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t len);

/* Takes each window's result in order: 0, or -1 with err_set() to stop the image. Called on
 * the thread that called chunker_cut_image(). */
typedef int (*chunker_emit_fn)(void *ctx, const struct chunk_result *r);

struct chunker;

/* How chunks are compressed: the codec, and zstd's level (CHUNKER_ZSTD_LEVEL_MIN..MAX; 0:
 * the default, chunker.c says why it is the default). zlib has no level here. */
struct chunk_codec {
	uint8_t id; /* PKG_COMP_ZLIB or PKG_COMP_ZSTD */
	int level;
};
#define CHUNKER_ZSTD_LEVEL_MIN 1
#define CHUNKER_ZSTD_LEVEL_MAX 19 /* zstd's last level that needs no "ultra" window */

/*
 * Starts a chunker for windows of chunk_size bytes (4096..PKG_MAX_CHUNK_SIZE) that compresses
 * with codec (PKG_COMP_ZLIB or PKG_COMP_ZSTD, at its level) where that makes a window smaller, with `jobs`
 * workers (1..CHUNKER_MAX_JOBS). jobs 1 starts no thread: every window is worked on the
 * caller's thread, one buffer pair. Otherwise `jobs` threads share a ring of
 * CHUNKER_SLOTS_PER_JOB × jobs buffer pairs (a window and its compressed form each).
 * Returns the chunker (free it with chunker_free()), or NULL with err_set().
 */
struct chunker *chunker_new(uint32_t chunk_size, unsigned jobs, const struct chunk_codec *codec);

/*
 * Cuts [0, size) into chunk-aligned windows, works on them in parallel and hands each result
 * to emit in window order, so the caller sees exactly what a single thread would. Returns 0,
 * or -1 with err_msg() set on the calling thread: the message of the first window (in order)
 * whose read failed, or emit's own. On failure no further window is read and every window in
 * flight has been finished or dropped before this returns, so the caller may close its input.
 */
int chunker_cut_image(struct chunker *c, chunker_read_fn read, void *read_ctx, uint64_t size,
		      chunker_emit_fn emit, void *emit_ctx);

/* Stops the workers and frees everything; safe on NULL. */
void chunker_free(struct chunker *c);

/* All online CPUs (sysconf), clamped to 1..CHUNKER_MAX_JOBS: the default of --jobs. */
unsigned chunker_count_cpus(void);

#endif
