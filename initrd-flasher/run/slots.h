/* SPDX-License-Identifier: MIT */
/*
 * The slot backend a config chooses, and the slot the board runs: what a first flash, an
 * update, mark-good and status each start from (slot_backend.h has the backends' contract).
 */
#ifndef SELFFLASH_RUN_SLOTS_H
#define SELFFLASH_RUN_SLOTS_H

#include <stdint.h>

#include "flash_config.h"
#include "slot/slot_backend.h"

/* The boots on trial an update arms a slot with when the config names none (boot-tries). */
#define RUN_SLOTS_DEFAULT_TRIES 3

/* Both slots as the backend sees them, and the one running. */
struct run_slots {
	const struct slot_backend_ops *backend;
	struct slot_env env;
	struct slot_view view[2]; /* [0] slot A, [1] slot B */
	uint8_t running;          /* PKG_SLOT_A or PKG_SLOT_B */
	char root[64];            /* the running root's partition name */
	int floor_known;          /* anti-rollback's floor (the backend's read_floor) */
	uint64_t floor;
};

/* Slot A's rootfs partition name: the config's rootfs, else NVIDIA's "APP" (slot B's is
 * APP_b). */
const char *run_slots_rootfs_a(const struct flash_config *c);

/*
 * The backend c names (slot-backend) in *backend, with its env from c (strings c's, tries
 * defaulted, log c->log). With no slot-backend the first flash's rule: tegra when c names an
 * EFI variable store (efivars: the flasher initrd's flasher.conf has it and no slot-backend),
 * else *backend NULL (nothing to select). 0, or -1 naming a backend that is unknown.
 */
int run_slots_backend(const struct flash_config *c, const struct slot_backend_ops **backend,
		      struct slot_env *env);

/*
 * The backend c names (an update's config must name one) and both slots read; the running
 * slot from the root partition's name (c->root_partition, else the one mounted at /), checked
 * against the chain the firmware booted where the backend can tell. 0, or -1 with err_msg().
 */
int run_slots_read(const struct flash_config *c, struct run_slots *s);

#endif
