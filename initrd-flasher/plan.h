/* SPDX-License-Identifier: MIT */
/*
 * Planning: the package's partitions placed on the real devices. A disk may be larger or
 * smaller than the layout said: partitions at the end move, fill-to-end partitions grow or
 * shrink, and anything that no longer fits is an error before a byte is written.
 */
#ifndef SELFFLASH_PLAN_H
#define SELFFLASH_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "pkg.h"

/*
 * Places the partitions of target `target` on a device of `real_size` bytes. `parts` holds
 * all m->partition_count partitions, filled from the manifest by the caller; only this
 * target's entries change. Returns 0 or -1 naming the partition and the numbers.
 */
int plan_place(const struct pkg_manifest *m, uint16_t target, uint64_t real_size,
	       struct pkg_partition *parts);

/* Prints one line per partition of the chosen variant's plan. */
void plan_print(FILE *out, const struct pkg_manifest *m, const struct pkg_partition *parts,
		int variant);

#endif
