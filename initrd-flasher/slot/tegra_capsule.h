/* SPDX-License-Identifier: MIT */
/*
 * The tegra backend's boot-firmware update by UEFI capsule on disk (docs/t234-firmware-facts.md
 * section 3.1): a running T234 has no /dev/mtd* (UEFI hides the QSPI), so the new chain's
 * firmware goes as NVIDIA's capsule file to <ESP>/EFI/UpdateCapsule/, OsIndications bit 0x4
 * asks UEFI to apply it at the next boot (edk2 CoDCheckCapsuleOnDiskFlag), TegraFmp writes the
 * inactive chain and rewrites the BR-BCT to it (no BootChainFwNext), and the board resets into
 * it; its rootfs follows the chain. Refused by the firmware (status 3, LAS 6163) while
 * BootChainFwNext or BootChainFwStatus exists, so arm deletes both and never requests a chain.
 *
 * Order within an update (slot_backend.h): install = tegra_capsule_install (the request taken
 * back, stale capsules removed, the capsule staged); arm = tegra_capsule_clear_switch, the
 * rootfs slot armed (slot_tegra.c), tegra_capsule_request last. A power cut at any step leaves
 * either no request (the running chain boots as before) or a complete capsule, the target
 * rootfs armed and the request: never a request without the rootfs armed.
 * Every function returns 0, or -1 with err_msg().
 */
#ifndef SELFFLASH_TEGRA_CAPSULE_H
#define SELFFLASH_TEGRA_CAPSULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slot_backend.h"

/* EFI_OS_INDICATIONS_FILE_CAPSULE_DELIVERY_SUPPORTED (MdePkg Uefi/UefiSpec.h) */
#define TEGRA_CAPSULE_OS_INDICATION 0x4u
/* the ESP directory (EFI_CAPSULE_FILE_DIRECTORY) and NVIDIA's name for the file */
#define TEGRA_CAPSULE_DIR "EFI/UpdateCapsule"
#define TEGRA_CAPSULE_NAME "TEGRA_BL.Cap"

/*
 * The install step: nothing without b->capsule. Else: the capsule checked against the board's
 * TnSpec variables when efivarfs has them (capsule.h), the OsIndications bit taken back if a
 * stale one is set, every file already in <ESP>/EFI/UpdateCapsule removed and logged (UEFI
 * would apply each one), and the capsule written under EFI/ (so a cut-off copy is never in
 * the directory UEFI reads), fsync'ed, renamed to EFI/UpdateCapsule/TEGRA_BL.Cap, the
 * directories fsync'ed.
 */
int tegra_capsule_install(const struct slot_env *e, uint8_t target, const struct slot_boot *b);

/* arm, first: BootChainFwStatus and BootChainFwNext deleted (BootChainCheckAndCancelUpdate
 * would cancel the capsule), each one removed logged. */
int tegra_capsule_clear_switch(const struct slot_env *e);

/* arm, last: OsIndications read, bit 0x4 ORed in, written (EFI global GUID, u64, NV|BS|RT). */
int tegra_capsule_request(const struct slot_env *e);

/* For `status`: each ESRT entry's last capsule result in words (e->esrt), and a capsule still
 * waiting on the ESP with or without the request. Writes nothing. */
int tegra_capsule_describe(const struct slot_env *e, FILE *out);

/* `doctor`: a capsule waiting on the ESP checked (a capsule, for this board, requested), and
 * the ESRT's last result; a line each, *problems counted. Writes nothing. */
void tegra_capsule_doctor(const struct slot_env *e, FILE *out, int *problems);

/* The capsule refused (-1, naming both specs) when its update package names none of the
 * board's TnSpecs (TegraPlatformCompatSpec, TegraPlatformSpec), as TegraFmp would at boot
 * (6151); a line to e->log when either side cannot tell. check runs it before anything is
 * written, install again on the bytes it stages. */
int tegra_capsule_check_board(const struct slot_env *e, const uint8_t *capsule, size_t len);

/* OsIndications (EFI global GUID, u64) in *value; *present 0 when missing. 0 or -1. */
int tegra_os_indications_read(const char *efivars, uint64_t *value, int *present);

/* A TnSpec variable of the board (TegraPlatformCompatSpec, TegraPlatformSpec) into spec; ""
 * when missing. */
void tegra_board_spec(const char *efivars, const char *name, char *spec, size_t size);

#endif
