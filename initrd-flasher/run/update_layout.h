/* SPDX-License-Identifier: MIT */
/*
 * An update's view of the board's own partition tables: a device's table as the board holds it
 * (its GPT, read by update_qspi.h), each partition's slot derived from NVIDIA's names, the
 * package's layout compared with it, and the ranges an update may write built from it — never
 * from the package's offsets. The running slot's partitions and the running root partition
 * are denied by construction, whatever the package says.
 */
#ifndef SELFFLASH_UPDATE_LAYOUT_H
#define SELFFLASH_UPDATE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"
#include "target/target.h"

/* At most as many partitions as a GPT's entry array holds (128, NVIDIA's and the standard). */
#define UPDATE_TABLE_MAX 128

struct update_table_part {
	char name[PKG_PART_NAME_LEN];
	uint64_t offset, size; /* bytes */
	uint8_t slot;          /* PKG_SLOT_A, PKG_SLOT_B or 0, from the name (update_table_slots) */
};

/* One device's partition table as the board holds it. */
struct update_table {
	struct update_table_part part[UPDATE_TABLE_MAX];
	uint32_t count;
};

/* Fills each partition's slot from its name and the names beside it on the device
 * (pkg_slot_of_name, slot_name.h). */
void update_table_slots(struct update_table *t);

/*
 * Every partition of the package (but file partitions) has the slot its name gives it among
 * the partitions of its target: the manifest's slot byte is checked, never trusted. 0, or -1
 * naming the partition, the manifest's slot and the name's.
 */
int update_check_slots(const struct pkg_manifest *m, const struct pkg_partition *parts);

/*
 * The package's partitions on target t whose kind `listed` says a GPT lists (its data
 * partitions on a disk; all but secondary_gpt on the QSPI) against the board's table of that
 * device: the same names, each at the same offset with the same size, none missing on either
 * side. dev names the device in messages. 0, or -1 naming the partition and both values.
 */
int update_table_compare(const struct update_table *board, const struct pkg_manifest *m,
			 uint16_t t, const struct pkg_partition *parts, int (*listed)(uint8_t kind),
			 const char *dev);

/*
 * The ranges an update may write on target t, from the board's table: for every partition
 * parts[i] on t with write[i] set, the board's partition of that name — which must be of
 * slot `target`, not the running root partition `root` — at the board's offset and size.
 * The running slot's partitions and `root` on this device are the deny list: an allowed range
 * that overlaps one is refused. Fills out (TARGET_GUARD_MAX) and *count. 0, or -1 naming
 * the partition.
 */
int update_guard_ranges(const struct update_table *board, const struct pkg_partition *parts,
			uint32_t nparts, const uint8_t *write, uint16_t t, uint8_t target,
			const char *root, const char *dev, struct target_range *out, size_t *count);

#endif
