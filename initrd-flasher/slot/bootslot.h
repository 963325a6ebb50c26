/* SPDX-License-Identifier: MIT */
/*
 * Boot slot: the T234 boot-chain state in EFI variables (DESIGN.md sections 6 and 9), read and
 * told in words, and the boot slot recorded as the very last step after every read-back
 * passed. UEFI reads BootChainFwNext (0 chain A, 1 chain B) as a switch request and leaves the
 * outcome in BootChainFwStatus; a stale status blocks the next capsule update, and UEFI
 * refuses any switch while BootNext exists.
 */
#ifndef SELFFLASH_BOOTSLOT_H
#define SELFFLASH_BOOTSLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pkg.h"

#define BOOTCHAIN_GUID "781e084c-a330-417c-b678-38e696380cb9"
#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"

/* EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS: what the firmware gives its
 * NV variables (edk2-nvidia BootChainDxe.c mBCVariables, L4TRootfsValidation.c mRFAbVariable) */
#define BOOTSLOT_ATTR_NV_BS_RT 0x7u

/* The largest variable value the primitives below handle. */
#define BOOTSLOT_VAR_MAX 64

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

/* One u32 variable (efivarfs file: u32 attributes, then the value) and whether it exists. */
struct bootslot_var {
	int present;
	uint32_t value;
};

/* What the board's variable store says about its boot chains and rootfs slots. */
struct bootslot_state {
	struct bootslot_var current;      /* BootChainFwCurrent: the chain running now */
	struct bootslot_var next;         /* BootChainFwNext: a switch requested */
	struct bootslot_var status;       /* BootChainFwStatus: the last switch's outcome */
	struct bootslot_var rootfs[2];    /* RootfsStatusSlotA/B: 0 normal, 0xFF unbootable */
	struct bootslot_var redundancy;   /* RootfsRedundancyLevel: 1 = rootfs A/B follows */
	struct bootslot_var retry_max;    /* RootfsRetryCountMax */
	int boot_next_present;            /* UEFI BootNext (global GUID) */
	uint16_t boot_next;               /* its Boot#### number */
};

/*
 * Reads the variables from the efivarfs at dir (a plain directory in tests). A variable that
 * is missing is not an error; one of the wrong size is, naming it. 0 or -1.
 */
int bootslot_read(const char *dir, struct bootslot_state *s);

/* BootChainFwStatus in words ("boot chain failed"), from edk2-nvidia's BootChainDxe. */
const char *bootslot_status_text(uint32_t code);

/* Prints the state in words, one "boot chain: ..." line per fact, each with prefix. */
void bootslot_describe(const struct bootslot_state *s, const char *prefix, FILE *out);

/*
 * Checks that a switch to `slot` can be requested: refused (with the way out) while UEFI
 * BootNext exists, since the firmware would refuse the switch; the flasher calls it before it
 * writes anything. 0 or -1.
 */
int bootslot_check(const char *dir, uint8_t slot);

/*
 * Selects `slot` (PKG_SLOT_A or PKG_SLOT_B): removes a stale BootChainFwStatus (it would block
 * the next capsule update), then writes BootChainFwNext, unless `slot` is already the current
 * chain (a request for the running chain ends as status "no operation required", which would
 * itself be stale): then a stale BootChainFwNext is removed instead. Refused while BootNext
 * exists. Logs what it did and the state after. 0 or -1 with err_msg().
 */
int bootslot_set_efivars(const char *dir, uint8_t slot, FILE *log);

#endif
