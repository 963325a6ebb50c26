/* SPDX-License-Identifier: MIT */
/* Report: the log to the console and the host, seconds per step, the summary. */
#include "report.h"

#include <inttypes.h>
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

void report_summary(char *out, size_t size, const struct write_stats by_kind[2], double seconds)
{
	const struct write_stats *nor = &by_kind[0], *disk = &by_kind[1];
	snprintf(out, size,
		 "done: %" PRIu64 " bytes written, %" PRIu64 " read back and verified; NOR "
		 "blocks compared %" PRIu64 ", erased %" PRIu64 ", written %" PRIu64 "; %.2f s",
		 nor->bytes_written + disk->bytes_written,
		 nor->bytes_read_back + disk->bytes_read_back,
		 nor->blocks_compared + disk->blocks_compared, nor->blocks_erased + disk->blocks_erased,
		 nor->blocks_written + disk->blocks_written, seconds);
}
