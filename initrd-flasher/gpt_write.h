/* SPDX-License-Identifier: MIT */
/*
 * GPT stage: a disk target's partition table, built (gpt.h) from its data partitions as
 * placed on the real device, written (primary at the start, backup at the real end), then read
 * back by an independent parser (libblkid) that must find every partition where it goes; the
 * kernel is asked to re-read it.
 */
#ifndef SELFFLASH_GPT_WRITE_H
#define SELFFLASH_GPT_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pkg.h"
#include "target.h"

/*
 * Writes and checks the GPT of manifest target t on dev, using buf_a and buf_b (buf_size
 * bytes each) for the primary and backup tables. parts: every partition as placed. Logs one
 * line on log. 0 or -1 naming the device.
 */
int gpt_write_target(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		     struct target *dev, uint8_t *buf_a, uint8_t *buf_b, size_t buf_size, FILE *log);

#endif
