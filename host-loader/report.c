/* SPDX-License-Identifier: MIT */
/* Progress bar, plain lines or JSON events; the board's log file; results. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

void report_init(struct report *r, enum report_style style, FILE *out, const char *log_path)
{
	memset(r, 0, sizeof(*r));
	r->style = style == REPORT_BAR && !isatty(fileno(out)) ? REPORT_LINES : style;
	r->out = out;
	r->log_path = log_path;
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

static void format_eta(double seconds, char *out, size_t size)
{
	if (seconds < 0 || seconds > 359999) {
		snprintf(out, size, "--:--");
		return;
	}
	unsigned s = (unsigned)(seconds + 0.5);
	if (s >= 3600)
		snprintf(out, size, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, size, "%u:%02u", s / 60, s % 60);
}

static void show_progress(struct report *r, struct board_state *b, int force)
{
	double t = timing_now_s();
	double min_gap = r->style == REPORT_BAR ? 0.1 : r->style == REPORT_LINES ? 2.0 : 0.5;
	if (!force && t - b->last_shown < min_gap)
		return;
	b->last_shown = t;
	const struct link_progress *p = &b->progress;
	double eta = b->rate > 0 ? (double)(p->total - p->done) / b->rate : -1;
	if (r->style == REPORT_JSON) {
		json_begin(r, "progress", b);
		fprintf(r->out, ",\"phase\":\"%s\",\"partition\":", phase_name(b));
		json_string(r->out, p->partition);
		fprintf(r->out, ",\"done\":%" PRIu64 ",\"total\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
				",\"rate\":%.0f,\"eta\":%.1f",
			p->done, p->total, b->bytes_sent, b->rate, eta);
		json_end(r);
		return;
	}
	char eta_text[16];
	format_eta(eta, eta_text, sizeof(eta_text));
	double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 0;
	char bar[21];
	int fill = (int)(pct / 5);
	for (int i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	if (r->style == REPORT_BAR)
		fputs("\r\033[K", r->out);
	/* the board's first word: its serial number */
	int name_len = (int)strcspn(b->name, " ");
	fprintf(r->out, "%.*s [%s] %3.0f%% %.1f/%.1f MiB %5.1f MiB/s ETA %s  %s %s", name_len, b->name,
		bar,
		pct, (double)p->done / 1048576.0, (double)p->total / 1048576.0, b->rate / 1048576.0,
		eta_text, phase_name(b), p->partition);
	if (r->style == REPORT_BAR) {
		r->bar_shown = 1;
	} else {
		fputc('\n', r->out);
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
		b->started = b->rate_at = timing_now_s();
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
	int phase_changed = p->phase != b->progress.phase ||
			    strcmp(p->partition, b->progress.partition) != 0;
	double t = timing_now_s();
	if (p->done < b->rate_done || p->total != b->progress.total) {
		b->rate_done = p->done;
		b->rate_at = t;
	} else if (t - b->rate_at >= 1.0) {
		/* rate over the last second or more, smoothed */
		double inst = (double)(p->done - b->rate_done) / (t - b->rate_at);
		b->rate = b->rate > 0 ? 0.6 * b->rate + 0.4 * inst : inst;
		b->rate_done = p->done;
		b->rate_at = t;
	}
	b->progress = *p;
	show_progress(r, b, phase_changed && r->style != REPORT_LINES);
	if (phase_changed && r->style == REPORT_LINES)
		show_progress(r, b, 1);
	pthread_mutex_unlock(&r->lock);
}

void report_sent(struct report *r, struct board_state *b, uint64_t bytes)
{
	pthread_mutex_lock(&r->lock);
	b->bytes_sent += bytes;
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
		double seconds = timing_now_s() - b->started;
		if (r->style == REPORT_JSON) {
			json_begin(r, "result", b);
			fprintf(r->out, ",\"status\":%" PRId32 ",\"message\":", res->status);
			json_string(r->out, res->message);
			fprintf(r->out, ",\"bytes_sent\":%" PRIu64 ",\"package_size\":%" PRIu64
					",\"connections\":%u,\"seconds\":%.2f,\"log\":",
				b->bytes_sent, package_size, b->connections, seconds);
			json_string(r->out, b->log_path);
			json_end(r);
		} else {
			if (r->style == REPORT_BAR)
				show_progress(r, b, 1);
			bar_clear(r);
			fprintf(r->out, "hostload: board %s: %s: %s\n", b->name,
				res->status == 0 ? "SUCCESS" : "FAILED", res->message);
			fprintf(r->out, "hostload: sent %" PRIu64 " bytes of a %" PRIu64 "-byte package "
					"over %u connection%s in %.1f s; log in %s\n",
				b->bytes_sent, package_size, b->connections,
				b->connections == 1 ? "" : "s", seconds, b->log_path);
			fflush(r->out);
		}
		if (b->log) {
			fprintf(b->log, "hostload: result %" PRId32 ": %s\n", res->status, res->message);
			fprintf(b->log, "hostload: sent %" PRIu64 " bytes of a %" PRIu64 "-byte package "
					"over %u connection%s in %.1f s\n",
				b->bytes_sent, package_size, b->connections,
				b->connections == 1 ? "" : "s", seconds);
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
