/* SPDX-License-Identifier: MIT */
/* The sliding-window rate of a byte counter: a ring of timed samples. */
#include "rate_window.h"

#include <string.h>

void rate_window_init(struct rate_window *w, double span_s)
{
	memset(w, 0, sizeof(*w));
	w->span = span_s;
}

static const struct rate_sample *slot_at(const struct rate_window *w, unsigned i)
{
	return &w->slot[(w->first + i) % RATE_WINDOW_SLOTS];
}

void rate_window_add(struct rate_window *w, double t, uint64_t count)
{
	if (w->used && (count < w->newest.count || t < w->newest.t))
		w->used = 0;
	w->newest = (struct rate_sample){ t, count };
	/* a counter updated per DATA frame (thousands a second) fills the ring at a bounded pace */
	double step = w->span / (RATE_WINDOW_SLOTS / 2);
	if (w->used == 0 || t - slot_at(w, w->used - 1)->t >= step) {
		if (w->used == RATE_WINDOW_SLOTS) {
			w->first = (w->first + 1) % RATE_WINDOW_SLOTS;
			w->used--;
		}
		w->slot[(w->first + w->used) % RATE_WINDOW_SLOTS] = w->newest;
		w->used++;
	}
	/* one sample at or before the window's start stays: it is where the window's bytes begin */
	while (w->used >= 2 && slot_at(w, 1)->t <= t - w->span) {
		w->first = (w->first + 1) % RATE_WINDOW_SLOTS;
		w->used--;
	}
}

double rate_window_rate(const struct rate_window *w, double now)
{
	if (w->used == 0)
		return 0;
	double end = w->newest.t;
	if (now - end > RATE_WINDOW_LAG_S)
		end = now - RATE_WINDOW_LAG_S;
	/* the newest slot at or before the window's start, else the oldest there is */
	const struct rate_sample *base = slot_at(w, 0);
	for (unsigned i = w->used; i-- > 0;) {
		if (slot_at(w, i)->t <= end - w->span) {
			base = slot_at(w, i);
			break;
		}
	}
	double seconds = end - base->t;
	if (seconds < RATE_WINDOW_MIN_S)
		return 0;
	return (double)(w->newest.count - base->count) / seconds;
}
