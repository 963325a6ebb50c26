/* SPDX-License-Identifier: MIT */
/*
 * Recording the boot slot, the very last step after every read-back passed. On T234 the UEFI
 * firmware reads the boot chain from EFI variables (DESIGN.md §6): BootChainFwNext selects
 * chain A (0) or B (1); a stale BootChainFwStatus or BootNext would block the switch.
 */
#ifndef SELFFLASH_BOOTSLOT_H
#define SELFFLASH_BOOTSLOT_H

#include <stdio.h>

#include "pkg.h"

#define BOOTCHAIN_GUID "781e084c-a330-417c-b678-38e696380cb9"
#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"

/*
 * Selects `slot` (PKG_SLOT_A or PKG_SLOT_B) through the efivarfs mounted at dir (a plain
 * directory in tests): writes BootChainFwNext, removes a stale BootChainFwStatus and BootNext.
 * Returns 0 or -1 with err_msg().
 */
int bootslot_set_efivars(const char *dir, uint8_t slot, FILE *log);

#endif
