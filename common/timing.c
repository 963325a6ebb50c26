/* SPDX-License-Identifier: MIT */
/* The monotonic clock, deadlines on it, and a sleep that signals do not cut short. */
#include "timing.h"

#include <errno.h>

double timing_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t timing_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t timing_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t timing_ms_left(uint64_t deadline)
{
	uint64_t now = timing_now_ms();
	return now < deadline ? deadline - now : 0;
}

struct timespec timing_timespec_at(uint64_t at)
{
	struct timespec ts = { .tv_sec = (time_t)(at / 1000u),
			       .tv_nsec = (long)(at % 1000u) * 1000000L };
	return ts;
}

struct timespec timing_timespec_in(unsigned ms)
{
	/* from the clock's own nanoseconds: a timeout of a few ms is not cut short by rounding */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000u);
	ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int timing_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

void timing_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };
	/* the link's watch thread interrupts blocked calls with a signal; a sleep must not end early */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void timing_sleep_until_ns(uint64_t at)
{
	struct timespec ts = { .tv_sec = (time_t)(at / 1000000000u),
			       .tv_nsec = (long)(at % 1000000000u) };
	/* clock_nanosleep returns the error number itself; EINTR: sleep on to the same deadline */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}
