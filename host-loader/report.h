/* SPDX-License-Identifier: MIT */
/*
 * What the user sees of each board: a progress bar with bytes, rate, ETA and phase on a
 * terminal, plain lines otherwise, or one JSON object per line (--json) for factory tools;
 * the board's log in a file; its final result. Thread-safe: every connection reports here.
 */
#ifndef SELFFLASH_REPORT_H
#define SELFFLASH_REPORT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "link_msg.h"

#define REPORT_MAX_BOARDS 64

enum report_style { REPORT_BAR, REPORT_LINES, REPORT_JSON };

struct board_state {
	uint64_t session;
	char name[LINK_NAME_MAX];
	char log_path[512];
	FILE *log;
	struct link_progress progress;
	uint64_t bytes_sent;
	unsigned connections;
	double started, last_shown, rate_at, rate;
	uint64_t rate_done;
	int have_result;
	struct link_result result;
};

struct report {
	enum report_style style;
	FILE *out;            /* progress and events */
	const char *log_path; /* a file, a directory, or NULL for the current directory */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct board_state boards[REPORT_MAX_BOARDS];
	unsigned nboards, results, failures;
	int bar_shown;
};

/* Sets up a report; style BAR falls back to LINES when out is not a terminal. */
void report_init(struct report *r, enum report_style style, FILE *out, const char *log_path);

/* A board said HELLO (first time or again after a drop); returns its state (locked use only
 * through the functions below) or NULL when too many boards. */
struct board_state *report_board(struct report *r, uint64_t session, const char *name,
				 const char *link);
void report_link_down(struct report *r, struct board_state *b, const char *why);
void report_progress(struct report *r, struct board_state *b, const struct link_progress *p);
void report_sent(struct report *r, struct board_state *b, uint64_t bytes);
void report_log(struct report *r, struct board_state *b, const char *line);
void report_result(struct report *r, struct board_state *b, const struct link_result *res,
		   uint64_t package_size);
/* A host-side problem worth telling the user (bad frame, refused request). */
void report_note(struct report *r, struct board_state *b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Waits until `results` results arrived or timeout_s passed (0: forever); 0 or -1 on timeout. */
int report_wait(struct report *r, unsigned results, unsigned timeout_s);

void report_close(struct report *r);

#endif
