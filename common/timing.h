/* SPDX-License-Identifier: MIT */
/* The monotonic clock in the units the project uses (seconds, milliseconds), and a sleep. */
#ifndef SELFFLASH_TIMING_H
#define SELFFLASH_TIMING_H

#include <stdint.h>

/* Seconds on CLOCK_MONOTONIC: for rates, step times and progress (never the wall clock). */
double timing_now_s(void);

/* Milliseconds on CLOCK_MONOTONIC: for timeouts and deadlines. */
uint64_t timing_now_ms(void);

/* Sleeps ms milliseconds, resuming after signals until the time has passed. */
void timing_sleep_ms(unsigned ms);

#endif
