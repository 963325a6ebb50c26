/* SPDX-License-Identifier: MIT */
/*
 * The T234 boot-chain state in EFI variables (DESIGN.md sections 6 and 9), read, checked and
 * told in words, for the tegra slot backend (slot_tegra.c), which changes it. UEFI reads
 * BootChainFwNext (0 chain A, 1 chain B) as a switch request and leaves the outcome in
 * BootChainFwStatus; a stale status blocks the next capsule update, and UEFI refuses any
 * switch while BootNext exists.
 */
#ifndef SELFFLASH_TEGRA_VARS_H
#define SELFFLASH_TEGRA_VARS_H

#include <stdint.h>
#include <stdio.h>

/* One u32 variable (efivarfs file: u32 attributes, then the value) and whether it exists. */
struct tegra_var {
	int present;
	uint32_t value;
};

/* What the board's variable store says about its boot chains and rootfs slots. */
struct tegra_state {
	struct tegra_var current;      /* BootChainFwCurrent: the chain running now */
	struct tegra_var next;         /* BootChainFwNext: a switch requested */
	struct tegra_var status;       /* BootChainFwStatus: the last switch's outcome */
	struct tegra_var rootfs[2];    /* RootfsStatusSlotA/B: 0 normal, 0xFF unbootable */
	struct tegra_var redundancy;   /* RootfsRedundancyLevel: 1 = rootfs A/B follows */
	struct tegra_var retry_max;    /* RootfsRetryCountMax */
	int boot_next_present;         /* UEFI BootNext (global GUID) */
	uint16_t boot_next;            /* its Boot#### number */
};

/*
 * Reads the variables from the efivarfs at dir (a plain directory in tests). A variable that
 * is missing is not an error; one of the wrong size is, naming it. 0 or -1.
 */
int tegra_vars_read(const char *dir, struct tegra_state *s);

/* BootChainFwStatus in words ("boot chain failed"), from edk2-nvidia's BootChainDxe. */
const char *tegra_vars_status_text(uint32_t code);

/* A BootChainFwCurrent/Next value as a chain's name: "A", "B", or "?". */
const char *tegra_vars_chain_name(uint32_t v);

/* The running chain (0 A, 1 B) in *running, from a state read from dir: -1 naming what is
 * wrong when BootChainFwCurrent is missing (not a T234, or no efivarfs at dir) or not 0/1. */
int tegra_vars_running_chain(const char *dir, const struct tegra_state *s, int *running);

/* -1 with the way out while UEFI BootNext exists: BootChainExecuteUpdate (BootChainDxe.c)
 * refuses any boot-chain switch then (status 14). 0 otherwise. */
int tegra_vars_refuse_boot_next(const struct tegra_state *s);

/* A u32 boot-chain variable (BOOTCHAIN_GUID, attributes NV|BS|RT) written. 0 or -1. */
int tegra_vars_write_u32(const char *dir, const char *name, uint32_t value);

/* Prints the state in words, one "boot chain: ..." line per fact, each with prefix. */
void tegra_vars_describe(const struct tegra_state *s, const char *prefix, FILE *out);

#endif
