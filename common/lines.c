/* SPDX-License-Identifier: MIT */
/* Splitting text into trimmed, comment-free lines. */
#include "lines.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int text_each_line(const char *text, size_t len, const char *what, size_t max_line, line_fn fn,
		   void *ctx)
{
	if (memchr(text, '\0', len))
		return err_set("%s contains a NUL byte", what);
	char *buf = malloc(max_line + 1);
	if (!buf)
		return err_set("out of memory");
	unsigned lineno = 0;
	int rc = 0;
	for (const char *p = text, *end = text + len; rc == 0 && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (n > max_line) {
			rc = err_set("%s line %u: longer than %zu bytes", what, lineno, max_line);
			break;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (nl ? 1 : 0);
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		char *s = buf;
		while (isspace((unsigned char)*s))
			s++;
		size_t l = strlen(s);
		while (l && isspace((unsigned char)s[l - 1]))
			s[--l] = '\0';
		if (*s)
			rc = fn(s, lineno, ctx);
	}
	free(buf);
	return rc;
}
