/* SPDX-License-Identifier: MIT */
/* Line-oriented text files (configuration, variant tables, flash.idx). */
#ifndef SELFFLASH_LINES_H
#define SELFFLASH_LINES_H

#include <stddef.h>

/* Called with a line (writable, NUL-terminated, trimmed) and its 1-based number; 0 or -1. */
typedef int (*line_fn)(char *line, unsigned lineno, void *ctx);

/*
 * Calls fn for every line of text that is not empty once a '#' comment and surrounding white
 * space are dropped. A NUL byte or a line longer than max_line bytes is an error naming
 * `what` and the line. Stops at the first error; returns 0 or -1 with err_msg().
 */
int text_each_line(const char *text, size_t len, const char *what, size_t max_line, line_fn fn,
		   void *ctx);

#endif
