/* SPDX-License-Identifier: MIT */
/* The monotonic clock in the units the project uses (seconds, milliseconds), deadlines, a sleep. */
#ifndef SELFFLASH_TIMING_H
#define SELFFLASH_TIMING_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Seconds on CLOCK_MONOTONIC: for rates, step times and progress (never the wall clock). */
double timing_now_s(void);

/* Nanoseconds on CLOCK_MONOTONIC: for device timing models that add up many short waits. */
uint64_t timing_now_ns(void);

/* Milliseconds on CLOCK_MONOTONIC: for timeouts and deadlines. */
uint64_t timing_now_ms(void);

/*
 * Milliseconds from now until deadline (a timing_now_ms() value); 0 once it has passed, so a
 * deadline that passes between a check and the subtraction never wraps into a huge wait.
 */
uint64_t timing_ms_left(uint64_t deadline);

/*
 * The timing_now_ms() value at as a struct timespec, the absolute time pthread_cond_timedwait
 * takes on a condition variable made by timing_cond_init().
 */
struct timespec timing_timespec_at(uint64_t at);

/* The CLOCK_MONOTONIC time ms milliseconds from now, for pthread_cond_timedwait likewise. */
struct timespec timing_timespec_in(unsigned ms);

/*
 * Initialises c so that its timed waits count on CLOCK_MONOTONIC: a wall clock set at boot
 * (RTC, NTP) neither stretches nor cuts them. Returns what pthread_cond_init returns.
 */
int timing_cond_init(pthread_cond_t *c);

/* Sleeps ms milliseconds, resuming after signals until the time has passed. */
void timing_sleep_ms(unsigned ms);

/*
 * Sleeps until the timing_now_ns() value at (an absolute deadline: a caller that sleeps to a
 * chain of deadlines is late by one wake-up at most, never by the sum of them), resuming after
 * signals. Returns at once when at has passed.
 */
void timing_sleep_until_ns(uint64_t at);

#endif
