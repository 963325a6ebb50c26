/* SPDX-License-Identifier: MIT */
/* Progress bar, plain lines or JSON events with windowed rates; the board's log file; results. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bar.h"
#include "timing.h"

void report_init(struct report *r, enum report_style style, FILE *out, const char *log_path)
{
	memset(r, 0, sizeof(*r));
	r->style = style == REPORT_BAR && !isatty(fileno(out)) ? REPORT_LINES : style;
	r->out = out;
	r->log_path = log_path;
	r->now = timing_now_s;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
}

/* JSON string body: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *f, const char *s)
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

static void json_begin(struct report *r, const char *event, const struct board_state *b)
{
	fprintf(r->out, "{\"event\":\"%s\"", event);
	if (b) {
		fprintf(r->out, ",\"session\":\"%016" PRIx64 "\",\"board\":", b->session);
		json_string(r->out, b->name);
	}
}

static void json_end(struct report *r)
{
	fputs("}\n", r->out);
	fflush(r->out);
}

/* Clears a drawn bar so that a plain line can be printed. */
static void bar_clear(struct report *r)
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

static void show_progress(struct report *r, struct board_state *b, int force)
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
		json_begin(r, "progress", b);
		fprintf(r->out, ",\"phase\":\"%s\",\"partition\":", l.phase);
		json_string(r->out, l.partition);
		fprintf(r->out, ",\"done\":%" PRIu64 ",\"total\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
				",\"rate\":%.0f,\"eta\":%.1f,\"link_rate\":%.0f,\"elapsed\":%.2f",
			l.done, l.total, l.sent, l.rate, l.eta, l.link_rate, t - b->started);
		json_end(r);
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

/* A file name from untrusted text: letters, digits, '.', '-', '_' only. */
static void safe_name(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (; *in && n + 1 < size; in++) {
		char c = *in;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '-' || c == '_';
		if (n == 0 && c == '.')
			ok = 0;
		out[n++] = ok ? c : '_';
	}
	out[n] = '\0';
}

static void open_log(struct report *r, struct board_state *b)
{
	struct stat st;
	char base[LINK_NAME_MAX + 32], safe[LINK_NAME_MAX];
	safe_name(b->name, safe, sizeof(safe));
	snprintf(base, sizeof(base), "selfflash-%s-%08" PRIx32 ".log", safe[0] ? safe : "board",
		 (uint32_t)b->session);
	if (r->log_path && stat(r->log_path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(b->log_path, sizeof(b->log_path), "%s/%s", r->log_path, base);
	else if (r->log_path)
		snprintf(b->log_path, sizeof(b->log_path), "%s", r->log_path);
	else
		snprintf(b->log_path, sizeof(b->log_path), "%s", base);
	b->log = fopen(b->log_path, "a");
	if (!b->log) {
		bar_clear(r);
		fprintf(stderr, "hostload: cannot write the board's log to %s: %s\n", b->log_path,
			strerror(errno));
	}
}

struct board_state *report_board(struct report *r, uint64_t session, const char *name,
				 const char *link)
{
	pthread_mutex_lock(&r->lock);
	struct board_state *b = NULL;
	for (unsigned i = 0; i < r->nboards && !b; i++)
		if (r->boards[i].session == session)
			b = &r->boards[i];
	int is_new = !b;
	if (!b && r->nboards < REPORT_MAX_BOARDS) {
		b = &r->boards[r->nboards++];
		memset(b, 0, sizeof(*b));
		b->session = session;
		snprintf(b->name, sizeof(b->name), "%s", name);
		b->started = r->now();
		rate_window_init(&b->written, REPORT_RATE_WINDOW_S);
		rate_window_init(&b->sent, REPORT_RATE_WINDOW_S);
		rate_window_add(&b->sent, b->started, 0);
		open_log(r, b);
	}
	if (b) {
		b->connections++;
		if (r->style == REPORT_JSON) {
			json_begin(r, "connected", b);
			fputs(",\"link\":", r->out);
			json_string(r->out, link);
			fprintf(r->out, ",\"connection\":%u", b->connections);
			json_end(r);
		} else {
			bar_clear(r);
			fprintf(r->out, "hostload: %s board %s on %s\n",
				is_new ? "serving" : "reconnected:", b->name, link);
			if (is_new && b->log)
				fprintf(r->out, "hostload: its log goes to %s\n", b->log_path);
			fflush(r->out);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return b;
}

void report_link_down(struct report *r, struct board_state *b, const char *why)
{
	pthread_mutex_lock(&r->lock);
	if (!b->have_result) {
		if (r->style == REPORT_JSON) {
			json_begin(r, "link-down", b);
			fputs(",\"reason\":", r->out);
			json_string(r->out, why);
			json_end(r);
		} else {
			bar_clear(r);
			fprintf(r->out, "hostload: board %s: link lost (%s); waiting for it to "
					"reconnect\n", b->name, why);
			fflush(r->out);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

void report_progress(struct report *r, struct board_state *b, const struct link_progress *p)
{
	pthread_mutex_lock(&r->lock);
	int phase_changed = !b->have_progress || p->phase != b->progress.phase ||
			    strcmp(p->partition, b->progress.partition) != 0;
	/* a new total is a new count (the writing starts after verify, plan and the GPT, which
	 * count nothing): the time before it would only drag the rate down */
	if (p->total != b->progress.total)
		rate_window_init(&b->written, REPORT_RATE_WINDOW_S);
	/* the rate is the board's count over the host's clock: the board's clock plays no part */
	rate_window_add(&b->written, r->now(), p->done);
	b->progress = *p;
	b->have_progress = 1;
	show_progress(r, b, phase_changed);
	pthread_mutex_unlock(&r->lock);
}

void report_sent(struct report *r, struct board_state *b, uint64_t bytes)
{
	pthread_mutex_lock(&r->lock);
	b->bytes_sent += bytes;
	rate_window_add(&b->sent, r->now(), b->bytes_sent);
	/* the link moves while the board is busy elsewhere (read-ahead, a long erase): show it */
	if (b->have_progress && !b->have_result)
		show_progress(r, b, 0);
	pthread_mutex_unlock(&r->lock);
}

void report_log(struct report *r, struct board_state *b, const char *line)
{
	pthread_mutex_lock(&r->lock);
	if (b->log) {
		fprintf(b->log, "%s\n", line);
		fflush(b->log);
	}
	if (r->style == REPORT_JSON) {
		json_begin(r, "log", b);
		fputs(",\"line\":", r->out);
		json_string(r->out, line);
		json_end(r);
	}
	pthread_mutex_unlock(&r->lock);
}

void report_note(struct report *r, struct board_state *b, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->lock);
	if (b && b->log) {
		fprintf(b->log, "hostload: %s\n", text);
		fflush(b->log);
	}
	if (r->style == REPORT_JSON) {
		json_begin(r, "note", b);
		fputs(",\"text\":", r->out);
		json_string(r->out, text);
		json_end(r);
	} else {
		bar_clear(r);
		fprintf(r->out, "hostload: %s%s%s\n", b ? b->name : "", b ? ": " : "", text);
		fflush(r->out);
	}
	pthread_mutex_unlock(&r->lock);
}

/* "average over 5.5 s: written 400 MiB at 72.7 MiB/s, link 200 MiB at 36.4 MiB/s" */
static void format_average(const struct board_state *b, double avg_rate, double avg_link_rate,
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

void report_result(struct report *r, struct board_state *b, const struct link_result *res,
		   uint64_t package_size)
{
	pthread_mutex_lock(&r->lock);
	if (!b->have_result) {
		b->have_result = 1;
		b->result = *res;
		r->results++;
		if (res->status != 0)
			r->failures++;
		double seconds = r->now() - b->started;
		/* over the whole flash, from the board's first HELLO to its result */
		double avg_rate = seconds > 0 ? (double)b->progress.done / seconds : 0;
		double avg_link_rate = seconds > 0 ? (double)b->bytes_sent / seconds : 0;
		char average[160];
		format_average(b, avg_rate, avg_link_rate, seconds, average, sizeof(average));
		if (r->style == REPORT_JSON) {
			json_begin(r, "result", b);
			fprintf(r->out, ",\"status\":%" PRId32 ",\"message\":", res->status);
			json_string(r->out, res->message);
			fprintf(r->out, ",\"bytes_sent\":%" PRIu64 ",\"package_size\":%" PRIu64
					",\"connections\":%u,\"seconds\":%.2f,\"done\":%" PRIu64
					",\"total\":%" PRIu64 ",\"avg_rate\":%.0f,\"avg_link_rate\":%.0f,"
					"\"log\":",
				b->bytes_sent, package_size, b->connections, seconds, b->progress.done,
				b->progress.total, avg_rate, avg_link_rate);
			json_string(r->out, b->log_path);
			json_end(r);
		} else {
			if (r->style == REPORT_BAR && b->have_progress) {
				/* the last bar stays on the screen, above the result */
				show_progress(r, b, 1);
				fputc('\n', r->out);
				r->bar_shown = 0;
			}
			bar_clear(r);
			fprintf(r->out, "hostload: board %s: %s: %s\n", b->name,
				res->status == 0 ? "SUCCESS" : "FAILED", res->message);
			fprintf(r->out, "hostload: sent %" PRIu64 " bytes of a %" PRIu64 "-byte package "
					"over %u connection%s in %.1f s; log in %s\n",
				b->bytes_sent, package_size, b->connections,
				b->connections == 1 ? "" : "s", seconds, b->log_path);
			fprintf(r->out, "hostload: %s\n", average);
			fflush(r->out);
		}
		if (b->log) {
			fprintf(b->log, "hostload: result %" PRId32 ": %s\n", res->status, res->message);
			fprintf(b->log, "hostload: sent %" PRIu64 " bytes of a %" PRIu64 "-byte package "
					"over %u connection%s in %.1f s\n",
				b->bytes_sent, package_size, b->connections,
				b->connections == 1 ? "" : "s", seconds);
			fprintf(b->log, "hostload: %s\n", average);
			fflush(b->log);
		}
		pthread_cond_broadcast(&r->changed);
	}
	pthread_mutex_unlock(&r->lock);
}

int report_wait(struct report *r, unsigned results, unsigned timeout_s)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (r->results < results && rc == 0) {
		if (timeout_s == 0)
			pthread_cond_wait(&r->changed, &r->lock);
		else if (pthread_cond_timedwait(&r->changed, &r->lock, &deadline) == ETIMEDOUT)
			rc = -1;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void report_close(struct report *r)
{
	pthread_mutex_lock(&r->lock);
	bar_clear(r);
	for (unsigned i = 0; i < r->nboards; i++)
		if (r->boards[i].log)
			fclose(r->boards[i].log);
	r->nboards = 0;
	pthread_mutex_unlock(&r->lock);
}
