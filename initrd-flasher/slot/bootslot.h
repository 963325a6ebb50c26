/* SPDX-License-Identifier: MIT */
/*
 * EFI variables in efivarfs: the primitives every read and change of the variable store goes
 * through, and the vendor GUIDs and attributes the boot-slot variables use. What the T234
 * variables mean is the tegra slot backend's (tegra_vars.h, slot_tegra.c).
 */
#ifndef SELFFLASH_BOOTSLOT_H
#define SELFFLASH_BOOTSLOT_H

#include <stddef.h>
#include <stdint.h>

/* the T234 firmware's boot-chain and rootfs variables; UEFI's own (BootNext) */
#define BOOTCHAIN_GUID "781e084c-a330-417c-b678-38e696380cb9"
#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"

/* EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS: what the firmware gives its
 * NV variables (edk2-nvidia BootChainDxe.c mBCVariables, L4TRootfsValidation.c mRFAbVariable) */
#define BOOTSLOT_ATTR_NV_BS_RT 0x7u

/* The largest variable value the primitives below handle: systemd-boot's entry IDs are file
 * names, up to 255 UTF-16 characters and a NUL. */
#define BOOTSLOT_VAR_MAX 512

/*
 * The primitives every change to the variable store goes through (efivarfs in a board, a plain
 * directory in tests; the immutable flag efivarfs sets is cleared first). A variable is the file
 * DIR/NAME-GUID: u32 attributes (LE), then the value.
 *
 * bootslot_var_read: the value (at most cap bytes, <= BOOTSLOT_VAR_MAX) into value, its length
 * in *len; a missing variable is *present = 0, not an error; a larger one is. 0 or -1.
 * bootslot_var_write: the variable written with attributes and len (1..BOOTSLOT_VAR_MAX) bytes
 * of value, in one write as efivarfs requires. 0 or -1.
 * bootslot_var_remove: 1 removed, 0 there was none, -1 error.
 */
int bootslot_var_read(const char *dir, const char *name, const char *guid, uint8_t *value,
		      size_t cap, size_t *len, int *present);
int bootslot_var_write(const char *dir, const char *name, const char *guid, uint32_t attributes,
		       const uint8_t *value, size_t len);
int bootslot_var_remove(const char *dir, const char *name, const char *guid);

#endif
