/* SPDX-License-Identifier: MIT */
/* The monotonic clock and a sleep that signals do not cut short. */
#include "timing.h"

#include <errno.h>
#include <time.h>

double timing_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t timing_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void timing_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };
	/* the link's watch thread interrupts blocked calls with a signal; a sleep must not end early */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
