/* SPDX-License-Identifier: MIT */
/*
 * The board's own partition tables, read from its devices for an update: a disk's GPT (with
 * libblkid) and the QSPI's GPT as NVIDIA keeps it (DESIGN.md section 8: only a backup-style
 * GPT that ends at the end of the device, and the same bytes at the start of
 * secondary_gpt_backup). Read as hostile input: every field is bounds-checked, both CRCs.
 */
#ifndef SELFFLASH_UPDATE_QSPI_H
#define SELFFLASH_UPDATE_QSPI_H

#include <stdint.h>

#include "pkg.h"
#include "target/target.h"
#include "update_layout.h"

/*
 * dev's disk GPT as libblkid reads it, into *out (slots from the names). 0, or -1 naming the
 * device (no partition table, more than UPDATE_TABLE_MAX partitions).
 */
int update_read_disk_table(struct target *dev, struct update_table *out);

/*
 * NVIDIA's QSPI GPT from the end of dev (sector_size-byte LBAs), checked as UEFI checks it
 * (edk2-nvidia r35.3.1 GptLib: signature, header size and CRC, entry size, entry-array CRC,
 * every entry inside the usable LBAs), into *out (slots from the names); when it lists
 * secondary_gpt_backup, the copy there must be the same bytes. 0, or -1 naming what is wrong
 * (no readable GPT: an update cannot tell where the board's partitions are).
 */
int update_read_qspi_table(struct target *dev, uint32_t sector_size, struct update_table *out);

/*
 * An update with update-qspi: the package's QSPI partitions (all but secondary_gpt, the
 * GPT's own place) against the board's QSPI GPT, read into *board. 0, or -1 naming the
 * partition and both values.
 */
int update_check_qspi(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		      struct target *dev, struct update_table *board);

#endif
