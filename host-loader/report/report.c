/* SPDX-License-Identifier: MIT */
/* What the report keeps per board and when it speaks: connections, progress, the board's log
 * file, notes, results (report_show.c: how it looks). */
#include "report_internal.h"

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
	r->now = timing_now_s;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
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
		report_bar_clear(r);
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
			report_json_begin(r, "connected", b);
			fputs(",\"link\":", r->out);
			report_json_string(r->out, link);
			fprintf(r->out, ",\"connection\":%u", b->connections);
			report_json_end(r);
		} else {
			report_bar_clear(r);
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
			report_json_text(r, "link-down", b, "reason", why);
		} else {
			report_bar_clear(r);
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
	report_show_progress(r, b, phase_changed);
	pthread_mutex_unlock(&r->lock);
}

void report_sent(struct report *r, struct board_state *b, uint64_t bytes)
{
	pthread_mutex_lock(&r->lock);
	b->bytes_sent += bytes;
	rate_window_add(&b->sent, r->now(), b->bytes_sent);
	/* the link moves while the board is busy elsewhere (read-ahead, a long erase): show it */
	if (b->have_progress && !b->have_result)
		report_show_progress(r, b, 0);
	pthread_mutex_unlock(&r->lock);
}

void report_log(struct report *r, struct board_state *b, const char *line)
{
	pthread_mutex_lock(&r->lock);
	if (b->log) {
		fprintf(b->log, "%s\n", line);
		fflush(b->log);
	}
	if (r->style == REPORT_JSON)
		report_json_text(r, "log", b, "line", line);
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
		report_json_text(r, "note", b, "text", text);
	} else {
		report_bar_clear(r);
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
		double seconds = r->now() - b->started;
		/* over the whole flash, from the board's first HELLO to its result */
		double avg_rate = seconds > 0 ? (double)b->progress.done / seconds : 0;
		double avg_link_rate = seconds > 0 ? (double)b->bytes_sent / seconds : 0;
		char average[160];
		report_format_average(b, avg_rate, avg_link_rate, seconds, average, sizeof(average));
		if (r->style == REPORT_JSON) {
			report_json_begin(r, "result", b);
			fprintf(r->out, ",\"status\":%" PRId32 ",\"message\":", res->status);
			report_json_string(r->out, res->message);
			fprintf(r->out, ",\"bytes_sent\":%" PRIu64 ",\"package_size\":%" PRIu64
					",\"connections\":%u,\"seconds\":%.2f,\"done\":%" PRIu64
					",\"total\":%" PRIu64 ",\"avg_rate\":%.0f,\"avg_link_rate\":%.0f,"
					"\"log\":",
				b->bytes_sent, package_size, b->connections, seconds, b->progress.done,
				b->progress.total, avg_rate, avg_link_rate);
			report_json_string(r->out, b->log_path);
			report_json_end(r);
		} else {
			if (r->style == REPORT_BAR && b->have_progress) {
				/* the last bar stays on the screen, above the result */
				report_show_progress(r, b, 1);
				fputc('\n', r->out);
				r->bar_shown = 0;
			}
			report_bar_clear(r);
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
	report_bar_clear(r);
	for (unsigned i = 0; i < r->nboards; i++)
		if (r->boards[i].log)
			fclose(r->boards[i].log);
	r->nboards = 0;
	pthread_mutex_unlock(&r->lock);
}
