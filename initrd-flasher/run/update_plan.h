/* SPDX-License-Identifier: MIT */
/*
 * What an update writes: the running slot found (the root filesystem's partition), the other
 * slot's partitions chosen, each paired with its running-slot twin (delta copies chunks from
 * there), the kernel partition and the rootfs name the slot boots with — all decided before
 * anything is written, and refused with a message where the package or the board does not fit.
 */
#ifndef SELFFLASH_UPDATE_PLAN_H
#define SELFFLASH_UPDATE_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pkg.h"

/*
 * The slot a partition name belongs to by NVIDIA's naming (what mkflashpkg's layout reader
 * assigns): A_x and B_x (T234 firmware), x and x_b (the rootfs; x given as slot A's rootfs
 * name). 0 when the name is no slot's.
 */
uint8_t update_slot_of_name(const char *name, const char *rootfs_a);

/*
 * The partition the running root filesystem lives on, by its GPT name (PARTNAME in sysfs for
 * the device of "/", under sysfs_root, normally ""). 0 or -1 naming what is missing (a root
 * that is no partition: tmpfs, NFS, an overlay — then `root-partition` in the config says it).
 */
int update_root_partition(const char *sysfs_root, char *name, size_t size);

/* The index of the partition on the same target that is the other slot's twin of parts[i]
 * (A_x <-> B_x, x <-> x_b, reserved_for_chain_A_x <-> reserved_for_chain_B_x), or -1. */
int update_twin(const struct pkg_partition *parts, uint32_t count, uint32_t i);

struct update_selection {
	uint8_t running, target;                 /* PKG_SLOT_A / PKG_SLOT_B */
	uint8_t write[PKG_MAX_PARTITIONS];       /* 1: the update writes this partition */
	/* 1: a boot-firmware (QSPI) partition of the target slot with no image, erased as a
	 * flash leaves it (flash_blank.h), so that no other system's bytes stay in the slot */
	uint8_t blank[PKG_MAX_PARTITIONS];
	struct pkg_partition alt[PKG_MAX_PARTITIONS]; /* the running twin (size 0: none) */
	int kernel;                              /* the target slot's kernel partition, or -1 */
	int rootfs;                              /* the target slot's rootfs partition, or -1 */
	uint32_t nwrite;
};

/*
 * Chooses what an update from `running` writes for variant: the other slot's partitions
 * that have an image, on targets that are open (opened[t]); firmware on MTD only when
 * update_qspi, and then the slot's MTD partitions without an image are to be blanked.
 * Refuses a package that writes nothing for that slot, or whose running-slot twin is missing
 * where a target slot partition has one. 0 or -1.
 */
int update_select(const struct pkg_manifest *m, uint32_t variant,
		  const struct pkg_partition *parts, const int *opened, uint8_t running,
		  const char *rootfs_a, int update_qspi, struct update_selection *s);

/* One line per partition: what is written, what is only read. */
void update_plan_print(FILE *out, const struct pkg_manifest *m,
		       const struct pkg_partition *parts, const struct update_selection *s);

#endif
