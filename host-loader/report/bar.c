/* SPDX-License-Identifier: MIT */
/* One progress line of fixed-width fields, fitted to the terminal. */
#include "bar.h"

#include <stdio.h>
#include <string.h>

static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
#define UNIT_COUNT (sizeof(units) / sizeof(units[0]))

/* The unit that shows `bytes` in at most 3 integer digits ("999 KiB", then "0.98 MiB"). */
static unsigned unit_for(double bytes)
{
	unsigned u = 0;
	double v = bytes / 1024.0;
	while (v >= 999.5 && u + 1 < UNIT_COUNT) {
		v /= 1024.0;
		u++;
	}
	return u;
}

static double in_unit(double bytes, unsigned u)
{
	double v = bytes;
	for (unsigned i = 0; i <= u; i++)
		v /= 1024.0;
	return v;
}

/* 3 significant digits in exactly 4 characters: "0.00", "10.0", " 100" .. " 999" */
#define NUMBER_MAX 8 /* 4 characters and a NUL, with room the compiler can see */

static void number4(double v, char out[NUMBER_MAX])
{
	if (!(v >= 0))
		v = 0; /* NaN and negatives: nothing to show */
	if (v > 999)
		v = 999; /* only past EiB, which a uint64_t cannot reach */
	if (v < 9.995)
		snprintf(out, NUMBER_MAX, "%4.2f", v);
	else if (v < 99.95)
		snprintf(out, NUMBER_MAX, "%4.1f", v);
	else
		snprintf(out, NUMBER_MAX, "%4.0f", v);
}

void bar_format_bytes(uint64_t bytes, char out[BAR_FIELD_MAX])
{
	char n[NUMBER_MAX];
	unsigned u = unit_for((double)bytes);
	number4(in_unit((double)bytes, u), n);
	snprintf(out, BAR_FIELD_MAX, "%s %s", n, units[u]);
}

void bar_format_rate(double bytes_per_s, char out[BAR_FIELD_MAX])
{
	if (!(bytes_per_s > 0)) {
		snprintf(out, BAR_FIELD_MAX, "  --    /s");
		return;
	}
	char n[NUMBER_MAX];
	unsigned u = unit_for(bytes_per_s);
	number4(in_unit(bytes_per_s, u), n);
	snprintf(out, BAR_FIELD_MAX, "%s %s/s", n, units[u]);
}

void bar_format_pair(uint64_t done, uint64_t total, char out[BAR_FIELD_MAX])
{
	char d[NUMBER_MAX], t[NUMBER_MAX];
	unsigned u = unit_for((double)(total > done ? total : done));
	number4(in_unit((double)done, u), d);
	number4(in_unit((double)total, u), t);
	/* "5.00/400 MiB ": the total without its padding, the field padded at its end instead */
	snprintf(out, BAR_FIELD_MAX, "%s/%s %s", d, t + strspn(t, " "), units[u]);
	size_t n = strlen(out);
	while (n < 4 + 1 + 4 + 1 + 3)
		out[n++] = ' ';
	out[n] = '\0';
}

void bar_format_eta(double seconds, char out[BAR_FIELD_MAX])
{
	if (!(seconds >= 0)) {
		snprintf(out, BAR_FIELD_MAX, "--:--");
		return;
	}
	/* compared as a double first: a huge ETA must not overflow the conversion */
	if (seconds >= 100 * 3600 - 0.5) {
		snprintf(out, BAR_FIELD_MAX, ">99h");
		return;
	}
	unsigned s = (unsigned)(seconds + 0.5);
	if (s >= 3600)
		snprintf(out, BAR_FIELD_MAX, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, BAR_FIELD_MAX, "%u:%02u", s / 60, s % 60);
}

/* What one layout shows; bar_format_line tries them from the richest down. */
struct layout {
	int graph;  /* width of the bar graphic, 0 for none */
	int phase;  /* the phase and partition at the end */
	int labels; /* "written" before the figures, "|" between the parts */
};

static const struct layout layouts[] = {
	{ 20, 1, 1 }, { 10, 1, 1 }, { 0, 1, 1 }, { 0, 0, 1 }, { 0, 0, 0 },
};

static size_t format_layout(char *out, size_t size, const struct bar_line *l,
			    const struct layout *k)
{
	char pair[BAR_FIELD_MAX], rate[BAR_FIELD_MAX], eta[BAR_FIELD_MAX];
	char sent[BAR_FIELD_MAX], link_rate[BAR_FIELD_MAX], graph[32];
	bar_format_pair(l->done, l->total, pair);
	bar_format_rate(l->rate, rate);
	bar_format_eta(l->eta, eta);
	bar_format_bytes(l->sent, sent);
	bar_format_rate(l->link_rate, link_rate);
	/* integer percent, rounded down: 100 % only when every byte is done */
	unsigned pct = l->total ? (unsigned)(l->done >= l->total ? 100
						 : (double)l->done * 100.0 / (double)l->total)
				: 0;
	graph[0] = '\0';
	if (k->graph) {
		int fill = (int)pct * k->graph / 100;
		graph[0] = ' ';
		graph[1] = '[';
		for (int i = 0; i < k->graph; i++)
			graph[2 + i] = i < fill ? '#' : '.';
		graph[2 + k->graph] = ']';
		graph[3 + k->graph] = '\0';
	}
	/* the board's first word: its serial number */
	int name_len = (int)strcspn(l->name, " ");
	if (name_len > 24)
		name_len = 24;
	int n = snprintf(out, size, "%.*s%s %3u%% %s%s %s ETA %-5s %slink %s %s", name_len,
			 l->name, graph, pct, k->labels ? "written " : "", pair, rate, eta,
			 k->labels ? "| " : "", sent, link_rate);
	if (n >= 0 && (size_t)n < size && k->phase)
		n += snprintf(out + n, size - (size_t)n, " %s%s%s%s", k->labels ? "| " : "",
			      l->phase, l->partition[0] ? " " : "", l->partition);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t bar_format_line(char *out, size_t size, const struct bar_line *l, unsigned columns)
{
	if (size == 0)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		n = format_layout(out, size, l, &layouts[i]);
		if (columns == 0 || n < columns)
			return n;
	}
	/* the last column stays empty: a line that fills it wraps on some terminals */
	if (columns - 1 < n) {
		n = columns - 1;
		out[n] = '\0';
	}
	return n;
}
