/* SPDX-License-Identifier: MIT */
/*
 * What the files of the report share (not for other modules):
 *   report.c       the state per board and the events that change it (report.h)
 *   report_show.c  how it looks: JSON events, the bar or plain lines, the average line
 * Every function here expects r->lock held.
 */
#ifndef SELFFLASH_REPORT_INTERNAL_H
#define SELFFLASH_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

/* s as a JSON string: quotes, backslashes and control bytes escaped. */
void report_json_string(FILE *f, const char *s);
/* Opens the JSON event `event` on r->out, naming b's session and name when b is not NULL;
 * the caller adds fields (",\"key\":...") and closes it with report_json_end(). */
void report_json_begin(struct report *r, const char *event, const struct board_state *b);
void report_json_end(struct report *r);
/* One whole JSON event with a single text field: {"event":EVENT,...,"KEY":TEXT}. */
void report_json_text(struct report *r, const char *event, const struct board_state *b,
		      const char *key, const char *text);

/* Clears a drawn bar so that a plain line can be printed. */
void report_bar_clear(struct report *r);
/* Shows b's progress in r's style: at once when force is set, else at the style's pace. */
void report_show_progress(struct report *r, struct board_state *b, int force);
/* "average over 5.5 s: written 400 MiB at 72.7 MiB/s, link 200 MiB at 36.4 MiB/s" */
void report_format_average(const struct board_state *b, double avg_rate, double avg_link_rate,
			   double seconds, char *out, size_t size);

#endif
