/* SPDX-License-Identifier: MIT */
/* Milliseconds on the monotonic clock, and sleeping for some: one home for what was copied. */
#ifndef SELFFLASH_CLOCK_H
#define SELFFLASH_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ms: timeouts must not jump when the board sets its wall clock. */
static inline uint64_t clock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleeps the whole ms, a signal (the USB write watchdog's SIGUSR2) notwithstanding. */
static inline void clock_sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#endif
