/* SPDX-License-Identifier: MIT */
/*
 * The rate of a byte counter over its last few seconds (a sliding window), for the progress
 * bar's rates and ETA. The caller passes the time of every sample and of every question, so
 * any clock works (tests drive a fake one). No allocation: the caller owns the struct, which
 * needs no cleanup. Not thread-safe: the report's lock covers it.
 */
#ifndef SELFFLASH_RATE_WINDOW_H
#define SELFFLASH_RATE_WINDOW_H

#include <stdint.h>

/* Ring slots: a sample gets its own slot at most every span / (RATE_WINDOW_SLOTS / 2) s. */
#define RATE_WINDOW_SLOTS 64
/* A rate needs samples this far apart: two frames sent back to back say nothing of speed. */
#define RATE_WINDOW_MIN_S 0.2
/* With no sample for this long, the window slides on with the clock (and the rate falls). */
#define RATE_WINDOW_LAG_S 1.0

struct rate_sample {
	double t;       /* seconds, on the caller's clock */
	uint64_t count; /* the counter's value then (it only grows) */
};

struct rate_window {
	double span; /* seconds the rate is averaged over */
	struct rate_sample slot[RATE_WINDOW_SLOTS]; /* a ring: `used` samples from `first` on */
	unsigned first, used;
	struct rate_sample newest; /* the last sample, kept even when it got no slot */
};

/* Sets up an empty window averaging over span_s seconds (> 0). */
void rate_window_init(struct rate_window *w, double span_s);

/* Adds the counter's value at time t. A counter that went back (a new count) or a clock that
 * went back starts the window again from this sample. */
void rate_window_add(struct rate_window *w, double t, uint64_t count);

/* Bytes per second over the last `span` seconds before `now` (fewer when the window holds
 * less); 0 when there is no rate yet (fewer than two samples RATE_WINDOW_MIN_S apart) or
 * nothing moved within the window. The window ends at the newest sample while samples keep
 * coming, so a counter that moves in steps gives a steady rate; after RATE_WINDOW_LAG_S of
 * silence it ends at now - RATE_WINDOW_LAG_S, so a stall shows as a falling rate. */
double rate_window_rate(const struct rate_window *w, double now);

#endif
