/* SPDX-License-Identifier: MIT */
/*
 * Updating a running board (DESIGN.md section 9): the same identity, signature and board
 * checks as a flash, then only the slot that is not running is written — marked unbootable
 * first, read back and verified, armed for a trial boot as the very last write — with chunks
 * the running slot already holds copied on the board instead of fetched. The running slot is
 * never written: its partitions are outside every range the device handles accept.
 * `mark-good` ends a trial; `status` tells both slots' state and the last update's outcome.
 */
#ifndef SELFFLASH_UPDATE_H
#define SELFFLASH_UPDATE_H

#include <time.h>

#include "flash.h"

/* Runs an update with c (c->package or c->link is the source; c->plan_only: a dry run).
 * 0, or -1 with err_msg(). */
int update_run(const struct flash_config *c);

/* The running slot confirmed through the configured backend. 0 or -1. */
int update_mark_good(const struct flash_config *c);

/* Both slots' state and the last update's outcome, in words, to out. 0 or -1. */
int update_status(const struct flash_config *c, FILE *out);

/* `doctor`: every check in words to out, one line each ("ok", "note" or "PROBLEM ... fix:"),
 * with the clock read as `now`; *problems counts the PROBLEM lines. 0, or -1 when the
 * checks themselves could not run. Writes nothing. */
int update_doctor(const struct flash_config *c, FILE *out, time_t now, int *problems);

#endif
