/* SPDX-License-Identifier: MIT */
/* What hostload shows, on a fake clock: the rate window, the ETA, the line's text, the events. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "report/bar.h"
#include "report/rate_window.h"
#include "report/report.h"

#define MB 1000000.0

static int near(double got, double want)
{
	return fabs(got - want) <= 1e-6 * (fabs(want) + 1);
}

/* ---- the rate window -------------------------------------------------------------------- */

static void test_window_needs_two_samples_apart(void)
{
	struct rate_window w;
	rate_window_init(&w, 4.0);
	CHECK(rate_window_rate(&w, 0) == 0);
	rate_window_add(&w, 100.0, 0);
	CHECK(rate_window_rate(&w, 100.0) == 0);
	/* two frames sent back to back: no speed can be read from them */
	rate_window_add(&w, 100.1, 5000000);
	CHECK(rate_window_rate(&w, 100.1) == 0);
	rate_window_add(&w, 100.25, 5000000);
	CHECK(near(rate_window_rate(&w, 100.25), 20 * MB));
}

static void test_window_steady_rate_is_exact(void)
{
	struct rate_window w;
	rate_window_init(&w, 4.0);
	for (int i = 0; i <= 40; i++)
		rate_window_add(&w, 7.0 + i * 0.25, (uint64_t)(i * 2.5 * MB));
	CHECK(near(rate_window_rate(&w, 17.0), 10 * MB));
	/* between two samples the window ends at the newest one: no saw-tooth */
	CHECK(near(rate_window_rate(&w, 17.2), 10 * MB));
}

static void test_window_follows_a_change_of_speed(void)
{
	struct rate_window w;
	rate_window_init(&w, 4.0);
	double t = 0;
	uint64_t n = 0;
	for (int i = 0; i < 40; i++, t += 0.25, n += (uint64_t)(2.5 * MB))
		rate_window_add(&w, t, n);
	/* now 2 MB/s: after 2 s half the window is slow, after 4 s all of it */
	for (int i = 0; i < 8; i++, t += 0.25, n += (uint64_t)(0.5 * MB))
		rate_window_add(&w, t, n);
	double half = rate_window_rate(&w, t - 0.25);
	CHECK(half < 10 * MB && half > 2 * MB);
	/* (the sample at the change still carries the last fast quarter of a second) */
	for (int i = 0; i < 9; i++, t += 0.25, n += (uint64_t)(0.5 * MB))
		rate_window_add(&w, t, n);
	CHECK(near(rate_window_rate(&w, t - 0.25), 2 * MB));
}

static void test_window_stall_lets_the_rate_fall(void)
{
	struct rate_window w;
	rate_window_init(&w, 4.0);
	for (int i = 0; i <= 40; i++)
		rate_window_add(&w, i * 0.25, (uint64_t)i * 1000000u);
	double steady = rate_window_rate(&w, 10.0);
	CHECK(near(steady, 4 * MB));
	/* a late frame is not yet a stall */
	CHECK(near(rate_window_rate(&w, 10.0 + RATE_WINDOW_LAG_S), steady));
	double falling = rate_window_rate(&w, 12.0);
	CHECK(falling > 0 && falling < steady);
	CHECK(rate_window_rate(&w, 12.5) < falling);
	/* a whole window without a byte */
	CHECK(rate_window_rate(&w, 10.0 + RATE_WINDOW_LAG_S + 4.0) == 0);
}

static void test_window_counter_going_back_starts_again(void)
{
	struct rate_window w;
	rate_window_init(&w, 4.0);
	for (int i = 0; i <= 20; i++)
		rate_window_add(&w, i * 0.25, (uint64_t)i * 1000000u);
	rate_window_add(&w, 5.25, 1000);
	CHECK(rate_window_rate(&w, 5.25) == 0);
	rate_window_add(&w, 5.75, 1000 + 500000);
	CHECK(near(rate_window_rate(&w, 5.75), 1 * MB));
}

/* A counter updated per DATA frame, thousands of times a second: the ring stays bounded and the
 * rate right. */
static void test_window_dense_samples(void)
{
	struct rate_window w;
	rate_window_init(&w, 4.0);
	for (int i = 0; i <= 20000; i++)
		rate_window_add(&w, i * 0.001, (uint64_t)i * 65536u);
	CHECK(w.used <= RATE_WINDOW_SLOTS);
	CHECK(near(rate_window_rate(&w, 20.0), 65536 * 1000.0));
}

/* ---- the line's text -------------------------------------------------------------------- */

static void test_format_bytes_fixed_width(void)
{
	char s[BAR_FIELD_MAX];
	bar_format_bytes(0, s);
	CHECK_STR_EQ(s, "0.00 KiB");
	bar_format_bytes(1024, s);
	CHECK_STR_EQ(s, "1.00 KiB");
	bar_format_bytes(1023 * 1024, s);
	CHECK_STR_EQ(s, "1.00 MiB");
	bar_format_bytes(400u << 20, s);
	CHECK_STR_EQ(s, " 400 MiB");
	bar_format_bytes((uint64_t)(12.34 * 1048576), s);
	CHECK_STR_EQ(s, "12.3 MiB");
	bar_format_bytes(UINT64_MAX, s);
	CHECK_STR_EQ(s, "16.0 EiB");
	for (uint64_t v = 1; v && v < UINT64_MAX / 3; v *= 3) {
		bar_format_bytes(v, s);
		CHECK(strlen(s) == 8);
	}
}

static void test_format_rate(void)
{
	char s[BAR_FIELD_MAX];
	bar_format_rate(0, s);
	CHECK_STR_EQ(s, "  --    /s");
	bar_format_rate(NAN, s);
	CHECK_STR_EQ(s, "  --    /s");
	bar_format_rate(71.8 * 1048576, s);
	CHECK_STR_EQ(s, "71.8 MiB/s");
	/* nothing a double holds makes the field longer */
	bar_format_rate(1e300, s);
	CHECK_STR_EQ(s, " 999 EiB/s");
	bar_format_rate(INFINITY, s);
	CHECK(strlen(s) == 10);
}

static void test_format_pair(void)
{
	char s[BAR_FIELD_MAX];
	bar_format_pair(207u << 20, 400u << 20, s);
	CHECK_STR_EQ(s, " 207/400 MiB ");
	bar_format_pair(5u << 20, 400u << 20, s);
	CHECK_STR_EQ(s, "5.00/400 MiB ");
	bar_format_pair(0, 0, s);
	CHECK_STR_EQ(s, "0.00/0.00 KiB");
	bar_format_pair(UINT64_MAX, UINT64_MAX, s);
	CHECK_STR_EQ(s, "16.0/16.0 EiB");
}

static void test_format_eta(void)
{
	char s[BAR_FIELD_MAX];
	bar_format_eta(-1, s);
	CHECK_STR_EQ(s, "--:--");
	bar_format_eta(NAN, s);
	CHECK_STR_EQ(s, "--:--");
	bar_format_eta(0, s);
	CHECK_STR_EQ(s, "0:00");
	bar_format_eta(3.4, s);
	CHECK_STR_EQ(s, "0:03");
	bar_format_eta(3599.4, s);
	CHECK_STR_EQ(s, "59:59");
	bar_format_eta(3600, s);
	CHECK_STR_EQ(s, "1:00:00");
	bar_format_eta(5 * 3600 + 7 * 60 + 9, s);
	CHECK_STR_EQ(s, "5:07:09");
	bar_format_eta(99 * 3600 + 59 * 60 + 59, s);
	CHECK_STR_EQ(s, "99:59:59");
	bar_format_eta(1e12, s);
	CHECK_STR_EQ(s, ">99h");
	bar_format_eta(INFINITY, s);
	CHECK_STR_EQ(s, ">99h");
}

static struct bar_line line_at(uint64_t done)
{
	return (struct bar_line){ .name = "1424321012345 699-13701-0005-500 M.0", .phase = "write",
				  .partition = "APP", .done = done, .total = 400u << 20,
				  .sent = done / 2, .rate = 71.8 * 1048576,
				  .link_rate = 40.1 * 1048576,
				  .eta = (double)((400u << 20) - done) / (71.8 * 1048576) };
}

static void test_line_full_layout(void)
{
	char s[256];
	struct bar_line l = line_at(207u << 20);
	size_t n = bar_format_line(s, sizeof(s), &l, 0);
	CHECK(n == strlen(s));
	CHECK_STR_EQ(s, "1424321012345 [##########..........]  51% written  207/400 MiB  71.8 MiB/s "
			"ETA 0:03  | link  104 MiB 40.1 MiB/s | write APP");
}

/* The same width whatever the figures (an ETA under an hour), so the line does not jitter. */
static void test_line_fixed_width(void)
{
	char s[256];
	struct bar_line l = line_at(0);
	size_t want = bar_format_line(s, sizeof(s), &l, 0);
	for (uint64_t done = 1; done <= (400u << 20); done += 7777777) {
		l = line_at(done);
		CHECK(bar_format_line(s, sizeof(s), &l, 0) == want);
	}
	l = line_at(400u << 20);
	l.rate = l.link_rate = 0;
	l.eta = -1;
	CHECK(bar_format_line(s, sizeof(s), &l, 0) == want);
}

static void test_line_fits_the_terminal(void)
{
	char s[256];
	struct bar_line l = line_at(207u << 20);
	/* 80 columns: the numbers stay, the decoration goes */
	size_t n = bar_format_line(s, sizeof(s), &l, 80);
	CHECK(n <= 79 && n == strlen(s));
	CHECK_STR_EQ(s, "1424321012345  51%  207/400 MiB  71.8 MiB/s ETA 0:03  link  104 MiB 40.1 "
			"MiB/s");
	CHECK(bar_format_line(s, sizeof(s), &l, 120) <= 119);
	CHECK(strstr(s, "[#####.....]") && strstr(s, "write APP"));
	/* huge numbers, a narrow window and a small buffer: never longer than allowed */
	l = (struct bar_line){ .name = "x", .phase = "read-back", .partition = "APP",
			       .done = UINT64_MAX - 1, .total = UINT64_MAX, .sent = UINT64_MAX,
			       .rate = 1e300, .link_rate = 1e300, .eta = 1e300 };
	for (unsigned cols = 1; cols < 200; cols++) {
		n = bar_format_line(s, sizeof(s), &l, cols);
		CHECK(n == strlen(s) && n < cols);
	}
	char tiny[16];
	CHECK(bar_format_line(tiny, sizeof(tiny), &l, 0) == strlen(tiny));
	CHECK(strlen(tiny) == sizeof(tiny) - 1);
}

/* ---- the report on a fake clock ------------------------------------------------------------ */

static double fake_time;
static double fake_now(void)
{
	return fake_time;
}

static char log_dir[] = "/tmp/test_report.XXXXXX";

/* A report writing into a memory buffer, its clock in the test's hands. */
static FILE *open_report(struct report *r, enum report_style style, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	report_init(r, style, f, log_dir);
	r->style = style; /* a memory stream is no terminal: the bar is tested as it would be */
	r->now = fake_now;
	fake_time = 1000.0;
	return f;
}

/* A flash at 10 MB/s written (20 MB total) and 5 MB/s over the link, PROGRESS every 0.25 s. */
static void play_flash(struct report *r)
{
	struct board_state *b = report_board(r, 0x1234, "1424321012345 699-13701-0005-500 M.0",
					     "unix:test");
	struct link_progress p = { .phase = LINK_PHASE_VERIFY };
	report_progress(r, b, &p);
	fake_time += 0.5;
	p = (struct link_progress){ .phase = LINK_PHASE_WRITE, .total = 20000000 };
	snprintf(p.partition, sizeof(p.partition), "APP");
	report_progress(r, b, &p);
	for (int i = 0; i < 8; i++) {
		fake_time += 0.25;
		report_sent(r, b, 1250000);
		p.done += 2500000;
		report_progress(r, b, &p);
	}
	fake_time += 0.25;
	p = (struct link_progress){ .phase = LINK_PHASE_DONE, .done = 20000000, .total = 20000000 };
	report_progress(r, b, &p);
	struct link_result res = { .status = 0 };
	snprintf(res.message, sizeof(res.message), "done");
	report_result(r, b, &res, 10000000);
}

/* What the report printed of play_flash in `style` on a terminal `columns` wide; the caller
 * frees it. */
static char *record_flash(enum report_style style, unsigned columns)
{
	struct report r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_report(&r, style, &text, &len);
	r.columns = columns;
	play_flash(&r);
	report_close(&r);
	fclose(f);
	return text;
}

/* The number after "key": in a JSON line, or NAN. */
static double json_number(const char *line, const char *key)
{
	char pattern[64];
	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	const char *at = strstr(line, pattern);
	return at ? strtod(at + strlen(pattern), NULL) : NAN;
}

static void test_json_events_carry_rates(void)
{
	char *text = record_flash(REPORT_JSON, 100);
	int with_rate = 0, results = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, "\"event\":\"progress\"")) {
			/* every field is there, old and new */
			CHECK(!isnan(json_number(line, "done")) && !isnan(json_number(line, "total")) &&
			      !isnan(json_number(line, "bytes_sent")) &&
			      !isnan(json_number(line, "link_rate")) &&
			      !isnan(json_number(line, "elapsed")));
			double rate = json_number(line, "rate"), eta = json_number(line, "eta");
			double done = json_number(line, "done"), total = json_number(line, "total");
			if (rate > 0 && done < total) {
				CHECK(near(rate, 10 * MB));
				/* the fake link idles through verify, then sends 5 MB/s */
				double link_rate = json_number(line, "link_rate");
				CHECK(link_rate > 0 && link_rate <= 5 * MB);
				CHECK(fabs(eta - (total - done) / (10 * MB)) < 0.051);
				with_rate++;
			}
		} else if (strstr(line, "\"event\":\"result\"")) {
			results++;
			/* 2.75 s from HELLO to the result */
			CHECK(near(json_number(line, "seconds"), 2.75));
			CHECK(near(json_number(line, "done"), 20 * MB));
			CHECK(fabs(json_number(line, "avg_rate") - 20 * MB / 2.75) < 1);
			CHECK(fabs(json_number(line, "avg_link_rate") - 10 * MB / 2.75) < 1);
			CHECK(json_number(line, "bytes_sent") == 10 * MB);
		}
	}
	CHECK(with_rate >= 2);
	CHECK(results == 1);
	free(text);
}

/* Plain lines: the bar's figures, at most every 2 s or tenth of the total, and the average. */
static void test_plain_lines_cadence_and_average(void)
{
	char *text = record_flash(REPORT_LINES, 100);
	CHECK(strstr(text, "written 9.54/19.1 MiB 9.54 MiB/s ETA 0:01  | link 4.77 MiB 3.18 MiB/s | "
			   "write APP\n") != NULL);
	CHECK(strstr(text, "hostload: average over 2.8 s: written 19.1 MiB at 6.94 MiB/s, link "
			   "9.54 MiB at 3.47 MiB/s\n") != NULL);
	int lines = 0, progress = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		lines++;
		if (strstr(line, " ETA "))
			progress++;
		CHECK(!strchr(line, '\r') && !strchr(line, '\033'));
	}
	/* verify, write, each eighth (each crosses a tenth), done */
	CHECK(progress == 11);
	free(text);
}

/* Plain lines at a long flash: every 2 s (or tenth), never once per frame or per DATA. */
static void test_plain_lines_every_two_seconds(void)
{
	struct report r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_report(&r, REPORT_LINES, &text, &len);
	struct board_state *b = report_board(&r, 0x99, "slow", "unix:test");
	struct link_progress p = { .phase = LINK_PHASE_WRITE, .total = 100000000 };
	snprintf(p.partition, sizeof(p.partition), "APP");
	/* 100 s at 1 MB/s: PROGRESS every 0.25 s, DATA every 1/16 s */
	for (int i = 0; i < 400; i++) {
		for (int k = 0; k < 4; k++) {
			fake_time += 0.0625;
			report_sent(&r, b, 62500);
		}
		p.done += 250000;
		report_progress(&r, b, &p);
	}
	report_close(&r);
	fclose(f);
	int progress = 0;
	for (const char *at = text; (at = strstr(at, " ETA ")) != NULL; at++)
		progress++;
	/* 50 two-second steps, the first line, the tenths falling between them */
	CHECK(progress >= 50 && progress <= 62);
	CHECK(strstr(text, "slow [##########..........]  50% written 47.7/95.4 MiB  977 KiB/s ETA 0:50 "
			   " | link 47.7 MiB  977 KiB/s | write APP\n") != NULL);
	free(text);
}

/* The bar: redrawn in place, never wider than the terminal, the last one left on screen. */
static void test_bar_redraws_in_place(void)
{
	char *text = record_flash(REPORT_BAR, 80);
	int bars = 0;
	for (char *p = text; (p = strstr(p, "\r\033[K")) != NULL; bars++) {
		p += 4;
		size_t n = strcspn(p, "\r\n");
		CHECK(n < 80);
	}
	CHECK(bars >= 10);
	/* the final bar, then the result below it */
	CHECK(strstr(text, "1424321012345 100% 19.1/19.1 MiB") != NULL);
	CHECK(strstr(text, "\nhostload: board 1424321012345 699-13701-0005-500 M.0: SUCCESS: "
			   "done\n") != NULL);
	free(text);
}

/* The boards' logs the report wrote, and their directory. */
static void remove_logs(void)
{
	DIR *d = opendir(log_dir);
	struct dirent *e;
	char path[sizeof(log_dir) + 300];
	while (d && (e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", log_dir, e->d_name);
		if (e->d_name[0] != '.')
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(log_dir);
}

int main(void)
{
	if (!mkdtemp(log_dir))
		return 2;
	RUN(test_window_needs_two_samples_apart);
	RUN(test_window_steady_rate_is_exact);
	RUN(test_window_follows_a_change_of_speed);
	RUN(test_window_stall_lets_the_rate_fall);
	RUN(test_window_counter_going_back_starts_again);
	RUN(test_window_dense_samples);
	RUN(test_format_bytes_fixed_width);
	RUN(test_format_rate);
	RUN(test_format_pair);
	RUN(test_format_eta);
	RUN(test_line_full_layout);
	RUN(test_line_fixed_width);
	RUN(test_line_fits_the_terminal);
	RUN(test_json_events_carry_rates);
	RUN(test_plain_lines_cadence_and_average);
	RUN(test_plain_lines_every_two_seconds);
	RUN(test_bar_redraws_in_place);
	remove_logs();
	return CHECK_EXIT();
}
