/* SPDX-License-Identifier: MIT */
/*
 * Byte ranges read ahead on threads of their own over a reader that is safe from several
 * threads at once (http_source_read): a source that pays a round trip per request (HTTP to a
 * far server) is told which ranges come next (expect) and has them in memory when fetch asks
 * (take), in any order. Bounded: at most RANGE_AHEAD_SLOTS ranges and max_bytes of buffers;
 * a hint beyond that is ignored, not queued. Every call is safe from any thread.
 */
#ifndef SELFFLASH_RANGE_AHEAD_H
#define SELFFLASH_RANGE_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#define RANGE_AHEAD_SLOTS 8
#define RANGE_AHEAD_THREADS_MAX 8

/* The reader: len bytes at off into buf; 0, or -1 with err_msg() (pkg_read_fn's shape). */
typedef int (*range_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

struct range_ahead;

/*
 * A read-ahead over read(ctx, ...) with `threads` readers (1..RANGE_AHEAD_THREADS_MAX),
 * started at the first expect; buffers are allocated then and kept, at most max_bytes in all.
 * 0 (*out, for range_ahead_close) or -1 (out of memory).
 */
int range_ahead_open(struct range_ahead **out, range_read_fn read, void *ctx, int threads,
		     size_t max_bytes);

/* Bytes [off, off + len) will be asked for soon: read them ahead when there is room. A range
 * expected again is not read twice; expecting it keeps it from being dropped as stale. */
void range_ahead_expect(struct range_ahead *ra, uint64_t off, size_t len);

/*
 * Bytes [off, off + len) into buf if they were expected: waits while they are being read.
 * 0 (copied), -1 (reading them ahead failed: err_msg() says as the reader said), or 1: not
 * expected, or expected but not yet started (dropped: the caller reads them itself, so no
 * range goes over the wire twice).
 */
int range_ahead_take(struct range_ahead *ra, uint64_t off, size_t len, void *buf);

/* Ranges handed over from read-ahead, and ranges read ahead that nobody took (dropped). */
void range_ahead_stats(struct range_ahead *ra, unsigned *taken, unsigned *wasted);

/* Waits for reads under way (each ends as the reader's retries allow), then frees it all. */
void range_ahead_close(struct range_ahead *ra);

#endif
