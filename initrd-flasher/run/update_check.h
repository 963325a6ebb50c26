/* SPDX-License-Identifier: MIT */
/*
 * An update's checks against the board itself: the package's version against what the board
 * ran (anti-rollback), the disk's partition table must be the one the
 * package places (an update never rewrites a GPT: a layout change needs a flash in recovery
 * mode), and the new slot's boot image, read from the disk after its read-back passed.
 */
#ifndef SELFFLASH_UPDATE_CHECK_H
#define SELFFLASH_UPDATE_CHECK_H

#include <stdint.h>
#include <stdio.h>

#include "bootimg.h"
#include "pkg.h"
#include "slot/slot_backend.h"
#include "target/target.h"

/*
 * Anti-rollback, failing closed: the package's system version `pkg` must be at least the
 * running slot's recorded version and the board's floor (the largest version ever confirmed,
 * slot_backend.h read_floor). A running slot whose version was never recorded is refused too:
 * an unknown version cannot be compared. allow_downgrade lets either pass, said in the log
 * (the floor stays: it never goes down). 0, or -1 saying what was compared and what to do.
 */
int update_check_version(const struct slot_view *running, int floor_known, uint64_t floor,
			 uint64_t pkg, int allow_downgrade, FILE *log);

/*
 * Every partition the package places on disk target t is in the disk's GPT (read with
 * libblkid) under its name, at the same offset with the same size. 0 or -1 naming the first
 * partition that differs.
 */
int update_check_gpt(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		     struct target *dev);

/*
 * Reads the boot image written to partition `part` (its image's bytes, from the device) into
 * a buffer of its own and parses it. 0 (*data to free) or -1 naming what is wrong.
 */
int update_read_bootimg(const struct pkg_manifest *m, uint32_t variant,
			const struct pkg_partition *parts, uint32_t part, struct target *dev,
			uint8_t **data, struct bootimg_info *info);

#endif
