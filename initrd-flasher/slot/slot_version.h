/* SPDX-License-Identifier: MIT */
/*
 * Anti-rollback's records beside the slots' own: the running system's version as its image
 * says it (/etc/selfflash/system-version), and the floor, the largest system version ever
 * confirmed on the board, which only grows. The tegra backend keeps its floor in an EFI
 * variable (tegra_record.h); the systemd-boot backend in an ESP file, written here.
 */
#ifndef SELFFLASH_SLOT_VERSION_H
#define SELFFLASH_SLOT_VERSION_H

#include <stdint.h>

#include "slot_backend.h"

/* Where the running system says its own version when the config names no other file. */
#define SLOT_SYSTEM_VERSION_FILE "/etc/selfflash/system-version"
/* The systemd-boot backend's floor, below the ESP's root. */
#define SLOT_FLOOR_FILE "selfflash/version-floor"


/*
 * The running system's version from e->system_version_file (NULL: SLOT_SYSTEM_VERSION_FILE):
 * *known 0 when the file is missing; -1 naming the file when it is unreadable or malformed.
 */
int slot_version_read_own(const struct slot_env *e, int *known, uint64_t *v);

/* The ESP's floor (SLOT_FLOOR_FILE under e->esp): *known 0 when missing. 0 or -1. */
int slot_floor_read_esp(const struct slot_env *e, int *known, uint64_t *floor);

/* The ESP's floor raised to v (new file, fsync, rename): never lowered; a line logged when it
 * grows. 0 or -1. */
int slot_floor_raise_esp(const struct slot_env *e, uint64_t v);

#endif
