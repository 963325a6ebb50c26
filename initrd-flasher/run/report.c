/* SPDX-License-Identifier: MIT */
/* Report: the log to the console and the host, seconds per step, the summary. */
#include "report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "timing.h"

static ssize_t tee_write(void *cookie, const char *buf, size_t len)
{
	struct report_log *l = cookie;
	fwrite(buf, 1, len, l->console);
	fflush(l->console);
	/* one LOG frame per whole line: a line longer than the buffer goes in pieces; lines
	 * from before the link is up wait for it */
	for (size_t i = 0; i < len; i++) {
		l->line[l->line_len++] = buf[i];
		if (buf[i] != '\n' && l->line_len < sizeof(l->line))
			continue;
		if (l->link) {
			link_client_log(l->link, l->line, l->line_len);
		} else if (l->early_len + l->line_len <= sizeof(l->early)) {
			memcpy(l->early + l->early_len, l->line, l->line_len);
			l->early_len += l->line_len;
		}
		l->line_len = 0;
	}
	return (ssize_t)len;
}

FILE *report_log_open(struct report_log *l, FILE *console)
{
	static const cookie_io_functions_t tee_io = { .write = tee_write };
	memset(l, 0, sizeof(*l));
	l->console = console;
	FILE *f = fopencookie(l, "w", tee_io);
	if (f)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

void report_log_attach(struct report_log *l, struct link_client *link)
{
	for (size_t at = 0; at < l->early_len;) {
		const char *nl = memchr(l->early + at, '\n', l->early_len - at);
		size_t n = nl ? (size_t)(nl - (l->early + at)) + 1 : l->early_len - at;
		link_client_log(link, l->early + at, n);
		at += n;
	}
	l->early_len = 0;
	l->link = link;
}

void report_step(struct report_steps *s, const char *name)
{
	double t = timing_now_s();
	if (s->name && s->len < sizeof(s->text))
		s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s%s %.2f s",
					   s->len ? ", " : "", s->name, t - s->start);
	s->name = name;
	s->start = t;
}

/* snprintf at out + *len, *len kept within size (a summary cut short stays a string) */
static void summary_add(char *out, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void summary_add(char *out, size_t size, size_t *len, const char *fmt, ...)
{
	if (*len >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

void report_summary(char *out, size_t size, const struct write_stats by_kind[TARGET_KIND_COUNT],
		    double seconds)
{
	struct write_stats all = { 0 };
	for (unsigned k = 0; k < TARGET_KIND_COUNT; k++)
		write_stats_add(&all, &by_kind[k]);
	size_t len = 0;
	if (size)
		out[0] = '\0';
	summary_add(out, size, &len, "done: %" PRIu64 " bytes written, %" PRIu64
		    " read back and verified", all.bytes_written, all.bytes_read_back);
	/* holes and partition tails made zeros (read back with the rest) */
	if (all.bytes_zeroed)
		summary_add(out, size, &len, "; %" PRIu64 " zeroed (%" PRIu64 " by the device) in "
			    "%.2f s", all.bytes_zeroed, all.bytes_zeroed_cheaply, all.zero_seconds);
	/* only erasable kinds count blocks (the erase blocks their writer compares) */
	for (unsigned k = 0; k < TARGET_KIND_COUNT; k++)
		if (target_kinds[k].erasable)
			summary_add(out, size, &len, "; %s blocks compared %" PRIu64 ", erased %"
				    PRIu64 ", written %" PRIu64, target_kinds[k].name,
				    by_kind[k].blocks_compared, by_kind[k].blocks_erased,
				    by_kind[k].blocks_written);
	summary_add(out, size, &len, "; %.2f s", seconds);
}
