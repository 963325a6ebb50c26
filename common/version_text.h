/* SPDX-License-Identifier: MIT */
/* A system version as the text of /etc/selfflash/system-version: one rule for the board and
 * mkflashpkg, so a file mkflashpkg accepts is one the board reads the same way. */
#ifndef SELFFLASH_VERSION_TEXT_H
#define SELFFLASH_VERSION_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decimal digits (below 2^64), then at most one newline, nothing else. 0, or -1 with err_set()
 * naming `label` and the problem.
 */
int version_text_parse(const char *text, size_t len, const char *label, uint64_t *version);

#endif
