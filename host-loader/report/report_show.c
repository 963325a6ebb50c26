/* SPDX-License-Identifier: MIT */
/* How a report looks: JSON events, the progress bar or plain lines with their pace, the
 * average line of a result. */
#include "report_internal.h"

#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bar.h"

void report_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void report_json_begin(struct report *r, const char *event, const struct board_state *b)
{
	fprintf(r->out, "{\"event\":\"%s\"", event);
	if (b) {
		fprintf(r->out, ",\"session\":\"%016" PRIx64 "\",\"board\":", b->session);
		report_json_string(r->out, b->name);
	}
}

void report_json_end(struct report *r)
{
	fputs("}\n", r->out);
	fflush(r->out);
}

void report_json_text(struct report *r, const char *event, const struct board_state *b,
		      const char *key, const char *text)
{
	report_json_begin(r, event, b);
	fprintf(r->out, ",\"%s\":", key);
	report_json_string(r->out, text);
	report_json_end(r);
}

void report_bar_clear(struct report *r)
{
	if (r->bar_shown) {
		fputs("\r\033[K", r->out);
		r->bar_shown = 0;
	}
}

static const char *phase_name(const struct board_state *b)
{
	const char *p = link_phase_name(b->progress.phase);
	return p ? p : "?";
}

/* Everything the bar, a line or an event shows of a board at time t. */
static void board_figures(const struct board_state *b, double t, struct bar_line *l)
{
	const struct link_progress *p = &b->progress;
	*l = (struct bar_line){ .name = b->name, .phase = phase_name(b), .partition = p->partition,
				.done = p->done, .total = p->total, .sent = b->bytes_sent,
				.rate = rate_window_rate(&b->written, t),
				.link_rate = rate_window_rate(&b->sent, t), .eta = -1 };
	/* nothing moved for a whole window (a long erase): the average so far still says when */
	double elapsed = t - b->started;
	double speed = l->rate > 0 ? l->rate : elapsed > 0 ? (double)p->done / elapsed : 0;
	if (p->total && p->done >= p->total)
		l->eta = 0;
	else if (p->total && speed > 0)
		l->eta = (double)(p->total - p->done) / speed;
}

/* The terminal's width now (it may have been resized), or the test's. */
static unsigned bar_columns(const struct report *r)
{
	struct winsize ws;
	if (r->columns)
		return r->columns;
	if (ioctl(fileno(r->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* The tenth of the total a board is in: plain lines are printed when it changes. */
static unsigned progress_tenth(const struct board_state *b)
{
	const struct link_progress *p = &b->progress;
	return p->total ? (unsigned)((double)p->done * 10.0 / (double)p->total) : 0;
}

void report_show_progress(struct report *r, struct board_state *b, int force)
{
	double t = r->now();
	/* plain lines: every 2 s and every tenth; a bar 10 times a second; JSON twice */
	double gap = r->style == REPORT_LINES ? 2.0 : r->style == REPORT_BAR ? 0.1 : 0.5;
	int tenth_passed = r->style == REPORT_LINES && progress_tenth(b) != b->shown_tenth;
	if (!force && !tenth_passed && t - b->last_shown < gap)
		return;
	b->last_shown = t;
	b->shown_tenth = progress_tenth(b);
	struct bar_line l;
	board_figures(b, t, &l);
	if (r->style == REPORT_JSON) {
		report_json_begin(r, "progress", b);
		fprintf(r->out, ",\"phase\":\"%s\",\"partition\":", l.phase);
		report_json_string(r->out, l.partition);
		fprintf(r->out, ",\"done\":%" PRIu64 ",\"total\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
				",\"rate\":%.0f,\"eta\":%.1f,\"link_rate\":%.0f,\"elapsed\":%.2f",
			l.done, l.total, l.sent, l.rate, l.eta, l.link_rate, t - b->started);
		report_json_end(r);
		return;
	}
	char line[512];
	bar_format_line(line, sizeof(line), &l, r->style == REPORT_BAR ? bar_columns(r) : 0);
	if (r->style == REPORT_BAR) {
		fprintf(r->out, "\r\033[K%s", line);
		r->bar_shown = 1;
	} else {
		fprintf(r->out, "%s\n", line);
	}
	fflush(r->out);
}

void report_format_average(const struct board_state *b, double avg_rate, double avg_link_rate,
			   double seconds, char *out, size_t size)
{
	char done[BAR_FIELD_MAX], rate[BAR_FIELD_MAX], sent[BAR_FIELD_MAX], link_rate[BAR_FIELD_MAX];
	bar_format_bytes(b->progress.done, done);
	bar_format_rate(avg_rate, rate);
	bar_format_bytes(b->bytes_sent, sent);
	bar_format_rate(avg_link_rate, link_rate);
	/* fixed-width fields, but inside a sentence: without their padding */
	snprintf(out, size, "average over %.1f s: written %s at %s, link %s at %s", seconds,
		 done + strspn(done, " "), rate + strspn(rate, " "), sent + strspn(sent, " "),
		 link_rate + strspn(link_rate, " "));
}
