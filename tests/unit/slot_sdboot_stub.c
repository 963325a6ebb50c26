/* SPDX-License-Identifier: MIT */
/*
 * Stands in for initrd-flasher/slot_sdboot.c (the systemd-boot backend, written on another
 * branch) so that slot_backend.c's table links in the tegra test; the Makefile drops this file
 * once slot_sdboot.c exists. Its functions are never called: the test only looks it up by name.
 */
#include "slot_backend.h"

const struct slot_backend_ops slot_backend_systemd_boot = {
	.name = "systemd-boot",
};
