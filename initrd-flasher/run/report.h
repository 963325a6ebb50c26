/* SPDX-License-Identifier: MIT */
/*
 * Report: the board's log goes to its console and, once there is a link, to the host as LOG
 * frames, one per whole line (lines written before the link was up wait for it); the seconds
 * each step took; the one-line summary the host gets as the result.
 */
#ifndef SELFFLASH_REPORT_H
#define SELFFLASH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "link/link_client.h"
#include "write/target_kind.h"
#include "write/write.h"

struct report_log {
	FILE *console;
	struct link_client *link; /* NULL until the link is up */
	char line[1024];          /* a line being assembled (stdio flushes mid-line) */
	size_t line_len;
	char early[4096];         /* whole lines written before the link was up */
	size_t early_len;
};

/* A stream that writes to console and, once report_log_attach has run, to the host; NULL if
 * it cannot be made (then log to console alone). Close it with fclose before l goes away. */
FILE *report_log_open(struct report_log *l, FILE *console);

/* From now on lines also go over link; the lines kept from before go first. */
void report_log_attach(struct report_log *l, struct link_client *link);

/* Seconds per step, printed at the end: where a slow flash spends its time. */
struct report_steps {
	const char *name; /* the step running, NULL before the first */
	double start;
	char text[512];   /* "identify 0.01 s, verify 0.03 s, ..." */
	size_t len;
};

/* Ends the running step (if any) and starts `name` (NULL: none, at the end). */
void report_step(struct report_steps *s, const char *name);

/* The summary of a successful flash: bytes written and checked, the blocks of each erasable
 * kind (target_kind.h: "NOR blocks compared ..."), seconds. */
void report_summary(char *out, size_t size, const struct write_stats by_kind[TARGET_KIND_COUNT],
		    double seconds);

#endif
