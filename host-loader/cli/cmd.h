/* SPDX-License-Identifier: MIT */
/* What hostload's commands share: reading a number option, serving a package with a report. */
#ifndef SELFFLASH_CMD_H
#define SELFFLASH_CMD_H

#include <stdint.h>

#include "serve/serve.h"

/*
 * text as a whole number in base (10 or 16) from min to max: no sign and nothing after the
 * digits (leading blanks and, in base 16, a "0x" are taken, as strtoull takes them). 0, or -1
 * with nothing printed: each command words its own message.
 */
int cmd_parse_number(const char *text, int base, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Serves o->package (serve_run()) with the report on stdout, a progress bar or JSON events
 * when json is set, and the boards' logs at log_path (NULL: the current directory); o->report
 * is set here. Says why on stderr when serving could not finish. Returns the exit status.
 */
int cmd_serve_package(struct serve_opts *o, int json, const char *log_path);

#endif
