/* SPDX-License-Identifier: MIT */
/*
 * Reader of an edk2 UEFI variable store as it lies in the QSPI's `uefi_variables` partition: a
 * firmware volume header (gEfiSystemNvDataFvGuid), a variable store header, then the variables
 * one after another. It tells the flasher which variables that steer a T234's next boot the
 * store holds, so that a first flash can say what its erase of the store removes (in RCM boot
 * UEFI keeps its variables in RAM, so the bytes are the only way to see them: see
 * docs/t234-firmware-facts.md section 4). The bytes are hostile; nothing is allocated.
 */
#ifndef SELFFLASH_EFI_VARSTORE_H
#define SELFFLASH_EFI_VARSTORE_H

#include <stddef.h>
#include <stdint.h>

/* The variables that steer the next boot (DESIGN.md sections 9 and 13). */
enum efi_boot_var {
	EFI_BOOT_VAR_CHAIN_NEXT,    /* BootChainFwNext: a boot chain switch request */
	EFI_BOOT_VAR_CHAIN_STATUS,  /* BootChainFwStatus: blocks capsules and switches */
	EFI_BOOT_VAR_ROOTFS_A,      /* RootfsStatusSlotA: 0xFF = unbootable */
	EFI_BOOT_VAR_ROOTFS_B,      /* RootfsStatusSlotB */
	EFI_BOOT_VAR_BOOT_NEXT,     /* BootNext (EFI global variable): blocks a chain switch */
	EFI_BOOT_VAR_COUNT
};

/* Bytes of a variable's value kept for the report; longer values are cut (data_size says). */
#define EFI_VARSTORE_VALUE_MAX 8

/* What a store held. */
struct efi_varstore_found {
	int authenticated;   /* the store's header is gEfiAuthenticatedVariableGuid's format */
	uint32_t entries;    /* variable headers walked, whatever their state */
	uint32_t live;       /* of them in state VAR_ADDED */
	struct {
		int present; /* live: VAR_ADDED, or in deleted transition with no newer copy */
		uint32_t data_size;
		uint8_t value[EFI_VARSTORE_VALUE_MAX];
	} vars[EFI_BOOT_VAR_COUNT];
};

/*
 * Reads the store in p[0, len) into *out. 0: a store was read to its end; 1: p starts with an
 * erased (0xFF) firmware volume header, nothing to read; -1 with err_msg() saying why the bytes
 * are not a store the firmware would accept (what was found so far stays in *out).
 */
int efi_varstore_read(const uint8_t *p, uint64_t len, struct efi_varstore_found *out);

/* The variable's name as UEFI spells it ("BootChainFwNext"). */
const char *efi_boot_var_name(enum efi_boot_var v);

/*
 * The live boot variables of f as text into out ("BootChainFwNext=1, RootfsStatusSlotB=0xff");
 * "" when none. Returns the number of variables written.
 */
unsigned efi_varstore_describe(const struct efi_varstore_found *f, char *out, size_t size);

#endif
