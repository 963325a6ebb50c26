/* SPDX-License-Identifier: MIT */
/*
 * Which kernel modules the flasher needs on a board, per platform: the drivers of the QSPI,
 * the disk, the module EEPROM and the link. Each need is met by a module in the tree (loaded,
 * with its dependencies first) or by a driver built into the kernel (modules.builtin).
 */
#ifndef SELFFLASH_L4T_MODULES_H
#define SELFFLASH_L4T_MODULES_H

#include <stdio.h>

#include "kmods.h"

/* Which devices the flasher will use: a need is checked only when its device is used. */
enum l4t_use {
	L4T_USE_QSPI = 1u << 0,
	L4T_USE_NVME = 1u << 1,
	L4T_USE_MMC = 1u << 2,
	L4T_USE_USB_DISK = 1u << 3,
	L4T_USE_EEPROM = 1u << 4,
	L4T_USE_USB_LINK = 1u << 5,
	L4T_USE_VIRTIO_LINK = 1u << 6,
};

struct l4t_module_profile;

/* The profile called name ("t234-r35", "t234-r36", "qemu-virt"), or NULL. */
const struct l4t_module_profile *l4t_profile_find(const char *name);
/* The T234 profile for an L4T branch (35, 36), or NULL. */
const struct l4t_module_profile *l4t_profile_for_branch(unsigned branch);
const char *l4t_profile_name(const struct l4t_module_profile *p);
/* The flasher's `link` and QSPI `target` settings on this platform. */
const char *l4t_profile_link(const struct l4t_module_profile *p);
const char *l4t_profile_qspi_target(const struct l4t_module_profile *p);
const char *l4t_profile_on_failure(const struct l4t_module_profile *p);
/* L4T_USE_USB_LINK or L4T_USE_VIRTIO_LINK, after the link */
unsigned l4t_profile_link_use(const struct l4t_module_profile *p);
/* "t234-r35, t234-r36, qemu-virt" */
const char *l4t_profile_list(void);

/*
 * Resolves the profile's needs for the devices in `use`, plus extra[] (module names the user
 * added), into order[] (indexes into k->mods, load order). Prints one line per need to
 * report. 0, or -1 with err_msg() naming the first module that is missing.
 */
int l4t_modules_resolve(const struct l4t_module_profile *p, unsigned use, const struct kmods *k,
			const char *const *extra, size_t nextra, unsigned *order, size_t *count,
			FILE *report);

#endif
