/* SPDX-License-Identifier: MIT */
/*
 * The text of one progress line: percentage, bytes written of the total with their rate and
 * the ETA, bytes sent over the link with theirs, the phase. Every number is printed in a
 * field of fixed width (3 significant digits and a binary unit), so the line does not jitter
 * and no count, however large, makes it longer. Pure functions: the caller owns the buffers.
 */
#ifndef SELFFLASH_BAR_H
#define SELFFLASH_BAR_H

#include <stddef.h>
#include <stdint.h>

/* Room for any field below ("1023 EiB/s" and the like), with its NUL. */
#define BAR_FIELD_MAX 24

/* What a line shows of one board. */
struct bar_line {
	const char *name;      /* the board's name: its first word (the serial number) is shown */
	const char *phase;     /* "write" */
	const char *partition; /* "APP", or "" */
	uint64_t done, total;  /* the board's PROGRESS: bytes written (or compared), read back */
	uint64_t sent;         /* bytes this host sent the board over the link */
	double rate;           /* bytes/s of `done` over the last seconds; 0: none yet */
	double link_rate;      /* bytes/s of `sent` over the last seconds; 0: none yet */
	double eta;            /* seconds until done reaches total; < 0: unknown */
};

/* "4.00 KiB", "207 MiB", "16.0 EiB": 4 characters of number, a space, a unit from KiB up. */
void bar_format_bytes(uint64_t bytes, char out[BAR_FIELD_MAX]);

/* The same for a rate in bytes/s, with "/s" ("71.8 MiB/s"); "  --    /s", as wide, for none
 * (<= 0 or not a number). */
void bar_format_rate(double bytes_per_s, char out[BAR_FIELD_MAX]);

/* done/total in total's unit, padded at the end to 13 characters: "207/400 MiB  ". */
void bar_format_pair(uint64_t done, uint64_t total, char out[BAR_FIELD_MAX]);

/* Time left: "--:--" when unknown (< 0), "m:ss" under an hour, "h:mm:ss" under 100 hours,
 * ">99h" beyond. */
void bar_format_eta(double seconds, char out[BAR_FIELD_MAX]);

/* The whole line into out (always NUL-terminated); returns its length. columns is the
 * terminal's width (0: no limit): the line is cut to columns - 1 characters so that it never
 * wraps, after dropping first the bar graphic, then the phase, then the labels. */
size_t bar_format_line(char *out, size_t size, const struct bar_line *l, unsigned columns);

#endif
