/* SPDX-License-Identifier: MIT */
/*
 * The boot firmware's UEFI capsule a package may carry (`--capsule FILE`): checked as a capsule
 * (common/capsule.h) and against the package's boards before it goes in, so a capsule the
 * firmware would refuse at the next boot (another board: LAS 6151) is refused here.
 */
#ifndef SELFFLASH_BUILD_CAPSULE_H
#define SELFFLASH_BUILD_CAPSULE_H

#include <stdint.h>
#include <stdio.h>

#include "pkg.h"

/* the name the package gives the file: NVIDIA's, and what a board stages */
#define BUILD_CAPSULE_NAME "TEGRA_BL.Cap"

/*
 * path read and checked: an FMP capsule (capsule_parse), and, where its BUP carries TnSpecs,
 * naming every variant's board id and SKU (a variant with neither: any board). *size gets its
 * length. log gets a line of what was found. 0, or -1 naming the problem.
 */
int build_capsule_check(const char *path, const struct pkg_variant *variants, uint32_t n,
			uint64_t *size, FILE *log);

#endif
