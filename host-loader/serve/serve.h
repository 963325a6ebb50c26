/* SPDX-License-Identifier: MIT */
/*
 * Serving a package over links. The host holds no flashing logic and no per-board protocol
 * state: it answers HELLO with WELCOME and each READ with the bytes asked for, so any number of
 * boards (one connection each, across any number of links) are served at once, and a board
 * that reconnects simply asks again. What it keeps per board is for the user: progress, the
 * board's log (saved to a file) and the final result, which decides the exit status.
 */
#ifndef SELFFLASH_SERVE_H
#define SELFFLASH_SERVE_H

#include <stdint.h>

#include "report/report.h"

#define SERVE_MAX_LINKS 16

struct serve_opts {
	const char *package;
	const char *links[SERVE_MAX_LINKS]; /* unix:PATH, tcp:[HOST:]PORT, tty:DEVICE, usb:... */
	int nlinks;
	unsigned boards;          /* exit after this many results (0: serve until killed) */
	unsigned idle_timeout_s;  /* a board silent this long is dropped (it may come back) */
	unsigned wait_timeout_s;  /* give up when no result arrives within this (0: never) */
	uint32_t max_payload;     /* largest DATA payload offered (the board may ask for less) */
	struct report *report;
	/*
	 * Test hooks, standing in for a pulled cable and a crashed host: the first `cuts`
	 * connections are closed after a pseudo-random number (seeded by cut_seed) of 1..cut_after
	 * DATA bytes, cut in the middle of a frame (cuts 0: every connection, at cut_after
	 * exactly); the process exits after exit_after DATA bytes in all. 0 disables each.
	 */
	uint64_t cut_after;
	unsigned cuts, cut_seed;
	uint64_t exit_after;
};

/* Serves until the wanted results arrived. Returns the exit status: 0 every board succeeded,
 * 1 a board reported failure, 3 no result (timeout) or a link error (err_msg() says). */
int serve_run(const struct serve_opts *o);

/* The same in steps, for `hostload rcm`, which starts the board between them: opens the
 * package and every link (0, or -1 naming what failed), ... */
int serve_start(const struct serve_opts *o);
/* ... waits up to timeout_s (0: forever) for the wanted results (0, or -1 on timeout), ... */
int serve_wait(unsigned timeout_s);
/* ... and stops serving; returns 1 when a board reported failure, else 0. */
int serve_stop(void);

#endif
