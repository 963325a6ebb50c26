/* SPDX-License-Identifier: MIT */
/*
 * First flash: the QSPI partitions the package gives no image are left blank, as NVIDIA's
 * flash leaves them (it erases the whole QSPI every time). Above all `uefi_variables` and
 * `uefi_ftw`: a variable store that survived from an earlier install would keep its
 * BootChainFwNext, RootfsStatusSlotX = 0xFF or BootNext, and the flasher cannot reach it
 * through efivarfs (UEFI keeps its variables in RAM in RCM boot). An erased store is a valid
 * blank one: the firmware formats it on the next normal boot (docs/t234-firmware-facts.md
 * section 4). What a stale store held is reported before it is erased. An update never blanks
 * anything.
 */
#ifndef SELFFLASH_FLASH_BLANK_H
#define SELFFLASH_FLASH_BLANK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pkg.h"
#include "target/target.h"
#include "write/image_job.h"

/*
 * Whether a first flash blanks partition i of parts (every partition as placed): a data
 * partition on an MTD target with no image in variant, other than the one the GPT step writes
 * the copy of the QSPI GPT into (gpt_qspi_backup()).
 */
int flash_blank_due(const struct pkg_manifest *m, const struct pkg_partition *parts, uint32_t i,
		    uint32_t variant);

/* One plan line per partition flash_blank_due() names. */
void flash_blank_print(FILE *log, const struct pkg_manifest *m, const struct pkg_partition *parts,
		       uint32_t variant);

/*
 * Blanks every partition flash_blank_due() names on targets (indexed like the manifest's
 * targets) through the NOR writer (write_nor_blank()): only blocks holding data are erased,
 * each read back. Before `uefi_variables` is erased, the boot variables its store held are
 * logged. buf_a, buf_b: buf_size bytes each, at least an erase block. Counts go into nor; one
 * log line per partition. 0, or -1 naming the partition.
 */
int flash_blank_partitions(const struct pkg_manifest *m, const struct pkg_partition *parts,
			   uint32_t variant, struct target *targets, uint8_t *buf_a, uint8_t *buf_b,
			   size_t buf_size, struct write_stats *nor, FILE *log);

#endif
