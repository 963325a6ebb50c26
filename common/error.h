/* SPDX-License-Identifier: MIT */
/*
 * The project's one error convention: a failing function records a message at the point of
 * failure with err_set() and returns -1 (or NULL); the top level prints err_msg() once.
 * Messages say what was expected and what was found ("partition A_uefi: image is 3 MiB,
 * slot holds 2 MiB"). The message buffer is per thread, so worker threads do not clobber
 * each other's errors.
 */
#ifndef SELFFLASH_ERROR_H
#define SELFFLASH_ERROR_H

#include <stddef.h>

/* Longest message kept; longer ones are cut. */
#define ERR_MSG_MAX 512

/* Records a printf-style message and returns -1, so `return err_set(...)` reads naturally. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prepends "CONTEXT: " to the recorded message (for callers that know which file or
 * partition was being worked on); returns -1. */
int err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last recorded message of this thread ("" if none). */
const char *err_msg(void);

/* Forgets the recorded message. */
void err_clear(void);

#endif
