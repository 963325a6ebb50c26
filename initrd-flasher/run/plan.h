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
#include "target/target.h"

/* Which device serves a package target (the board's config: `target TYPE[:INSTANCE] SPEC`). */
struct flash_target_spec {
	/* the package's target type (spi, nvme, sdmmc_user, ...), or TYPE:INSTANCE (nvme:1) */
	const char *type;
	const char *spec; /* target_open_spec(): mtd:/dev/mtd0@67108864, block:/dev/nvme0n1 */
};

/*
 * Places the partitions of target `target` on a device of `real_size` bytes. `parts` holds
 * all m->partition_count partitions, filled from the manifest by the caller; only this
 * target's entries change. Returns 0 or -1 naming the partition and the numbers.
 */
int plan_place(const struct pkg_manifest *m, uint16_t target, uint64_t real_size,
	       struct pkg_partition *parts);

/*
 * The spec of the device configured for target t of m, matched by instance: a spec named
 * TYPE:INSTANCE serves that target only; one named TYPE serves the package's only target of
 * that type (with two, e.g. nvme:0 and nvme:1, each must be named by its instance). *spec is
 * NULL when none is configured. 0, or -1 naming the ambiguity (a name given twice, a TYPE for
 * several targets).
 */
int plan_target_spec(const struct pkg_manifest *m, uint16_t t, const struct flash_target_spec *specs,
		     size_t nspecs, const char **spec);

/*
 * No two opened targets are one device (the same file, block or MTD device): two package
 * targets writing one device would each place their partitions over the other's. 0, or -1
 * naming both targets.
 */
int plan_check_distinct(const struct pkg_manifest *m, const struct target *targets,
			const int *opened);

/*
 * Opens the device for every target of m (from specs, by instance: plan_target_spec), checks that its kind matches
 * (NOR needs an erase size of at most max_erase), fills parts from the manifest and places
 * them on the real sizes. opened[t] is set for each device opened, also on failure, so the
 * caller closes them. Logs a line per device. 0 or -1 naming the device or the partition.
 */
int plan_open_targets(const struct pkg_manifest *m, const struct flash_target_spec *specs,
		      size_t nspecs, uint32_t max_erase, struct target *targets, int *opened,
		      struct pkg_partition *parts, FILE *log);

/* Prints one line per partition of the chosen variant's plan. */
void plan_print(FILE *out, const struct pkg_manifest *m, const struct pkg_partition *parts,
		int variant);

#endif
