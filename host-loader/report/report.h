/* SPDX-License-Identifier: MIT */
/*
 * What the user sees of each board: a progress bar on a terminal (bytes written of the total
 * and bytes sent over the link, each with its rate over the last REPORT_RATE_WINDOW_S
 * seconds, the ETA, the phase), plain lines otherwise, or one JSON object per line (--json)
 * for factory tools; the board's log in a file; its final result with the average rates.
 * Thread-safe: every connection reports here. docs/link.md lists the JSON events.
 */
#ifndef SELFFLASH_REPORT_H
#define SELFFLASH_REPORT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "link_msg.h"
#include "rate_window.h"

#define REPORT_MAX_BOARDS 64
/* Rates average over this many seconds: long enough to ride out a board's bursts (it reports
 * every 0.25 s, and the link moves in frames), short enough to follow a change of speed. */
#define REPORT_RATE_WINDOW_S 4.0

enum report_style { REPORT_BAR, REPORT_LINES, REPORT_JSON };

struct board_state {
	uint64_t session;
	char name[LINK_NAME_MAX];
	char log_path[512];
	FILE *log;
	struct link_progress progress;
	int have_progress; /* a PROGRESS arrived: there is something to show */
	uint64_t bytes_sent;
	unsigned connections;
	double started, last_shown; /* on the report's clock */
	unsigned shown_tenth;       /* plain lines: the last tenth of the total printed */
	struct rate_window written; /* progress.done over time */
	struct rate_window sent;    /* bytes_sent over time */
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
	double (*now)(void); /* the clock: timing_now_s, or a test's */
	unsigned columns;    /* the bar's width limit; 0: the terminal's, asked at each draw */
};

/* Sets up a report; style BAR falls back to LINES when out is not a terminal. A test may set
 * r->now and r->columns afterwards. */
void report_init(struct report *r, enum report_style style, FILE *out, const char *log_path);

/* A board said HELLO (first time or again after a drop); returns its state (locked use only
 * through the functions below) or NULL when too many boards. */
struct board_state *report_board(struct report *r, uint64_t session, const char *name,
				 const char *link);
void report_link_down(struct report *r, struct board_state *b, const char *why);
/* The board's PROGRESS: shown at once on a change of phase, else at the style's pace (a bar
 * 10 times a second, a plain line every 2 s or tenth of the total, JSON twice a second). */
void report_progress(struct report *r, struct board_state *b, const struct link_progress *p);
/* bytes more were sent to the board over the link; the bar moves with them too. */
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
