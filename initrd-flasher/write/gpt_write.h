/* SPDX-License-Identifier: MIT */
/*
 * GPT stage. A disk target's partition table, built (gpt.h) from its data partitions as
 * placed on the real device, written (primary at the start, backup at the real end), then read
 * back by an independent parser (libblkid) that must find every partition where it goes; the
 * kernel is asked to re-read it. A QSPI (NOR) whose layout has `secondary_gpt` gets the GPT
 * NVIDIA writes there (DESIGN.md section 8): UEFI finds its variable store and the boot-chain
 * partitions by name through it. It ends at the real end of the device, a copy starts
 * `secondary_gpt_backup`, and both go through the NOR writer (compare, erase only what
 * differs, write, read back), so an identical re-flash erases nothing.
 */
#ifndef SELFFLASH_GPT_WRITE_H
#define SELFFLASH_GPT_WRITE_H

#include <blkid/blkid.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gpt.h"
#include "image_job.h"
#include "pkg.h"
#include "target/target.h"

/*
 * Writes and checks the GPT of manifest target t on dev (a disk, or a NOR whose layout has
 * secondary_gpt; nothing for a NOR without), using buf_a and buf_b (buf_size bytes each, at
 * least an erase block). parts: every partition as placed; variant: the one being flashed
 * (an image of it in secondary_gpt_backup is refused). NOR counts go into st. Logs one line.
 * 0 or -1 naming the device or partition.
 */
int gpt_write_target(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		     uint32_t variant, struct target *dev, uint8_t *buf_a, uint8_t *buf_b,
		     size_t buf_size, struct write_stats *st, FILE *log);

/*
 * The QSPI GPT's entries for target t (tg: its description) from the nparts partitions as
 * placed: every partition of t in manifest (layout) order but secondary_gpt itself; type GUID
 * basic data unless the layout gave one; unique GUIDs derived from the target and the name
 * (stable) unless given. Fills out (GPT_ENTRIES) and *count. Returns 1 when the layout has
 * secondary_gpt (a GPT is due), 0 when not, -1 on error.
 */
int gpt_qspi_parts(const struct pkg_target *tg, uint16_t t, const struct pkg_partition *parts,
		   uint32_t nparts, struct gpt_part *out, uint32_t *count);

/*
 * The partition of NOR target t that gpt_write_target() writes the copy of the QSPI GPT into
 * (`secondary_gpt_backup`, as NVIDIA's flash does) when t's layout has secondary_gpt; NULL
 * when it writes none. parts: every partition as placed.
 */
const struct pkg_partition *gpt_qspi_backup(const struct pkg_manifest *m, uint16_t t,
					    const struct pkg_partition *parts);

/*
 * dev's partition table as libblkid reads it: *pr (free it with blkid_free_probe whatever the
 * result; it may be NULL) and *pl, its partition list. 0; 1 when the device holds no
 * partition table (the caller says what that means); -1 with err_msg() when libblkid cannot
 * read it. An independent parser: the flash checks the GPT it wrote, an update the board's.
 */
int gpt_probe_partitions(struct target *dev, blkid_probe *pr, blkid_partlist *pl);

#endif
