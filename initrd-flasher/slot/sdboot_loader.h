/* SPDX-License-Identifier: MIT */
/*
 * What else systemd-boot consults when it picks the entry to boot, besides loader/entries and
 * loader.conf (systemd's docs/BOOT_LOADER_INTERFACE.md): its variables under the Boot Loader
 * Interface GUID, and unified kernel images in /EFI/Linux (Type #2 entries). Any of them can
 * make systemd-boot boot something other than the newest slot with tries left, which defeats
 * both the trial boot and the fallback; the systemd-boot backend's check and arm call these.
 */
#ifndef SELFFLASH_SDBOOT_LOADER_H
#define SELFFLASH_SDBOOT_LOADER_H

#include "slot_backend.h"

/* The Boot Loader Interface's vendor GUID (BOOT_LOADER_INTERFACE.md) */
#define LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
/* Where the variables are read when the config names no efivars directory. */
#define SDBOOT_EFIVARS_DEFAULT "/sys/firmware/efi/efivars"

/*
 * Before an update of slot `target` (0 a, 1 b), writes nothing:
 *  - LoaderEntrySelected (the entry systemd-boot booted) must be the other slot's entry: the
 *    root partition and the boot loader then agree on the running slot;
 *  - LoaderEntryDefault (`bootctl set-default`, the menu's 'd' key) is refused: it pins an
 *    entry over the tries, so the new slot never boots, or its bad entry boots for ever;
 *  - LoaderEntryOneShot (`bootctl set-oneshot`) is told in the log: arm clears it;
 *  - /EFI/Linux/ *.efi (unified kernel images) are refused: systemd-boot sorts them with the
 *    slots' entries and may boot one by default;
 *  - LoaderEntries (every entry the boot loader found at this boot) naming an entry that is
 *    not a slot's and not one systemd-boot puts after them ("auto-*", "secure-boot-keys-*")
 *    is refused: an XBOOTLDR partition's entry, which the running system cannot see.
 * esp is the ESP's root directory. 0, or -1 naming what was found and the fix.
 */
int sdboot_loader_check(const struct slot_env *e, int esp, int target);

/* At arm: LoaderEntryOneShot removed (logged); 0, or -1 when it cannot be. */
int sdboot_oneshot_clear(const struct slot_env *e);

#endif
