/* SPDX-License-Identifier: MIT */
/*
 * A model of the T234 firmware's A/B state machine, run on the same variable directory the
 * tegra slot backend writes (test code). It follows edk2-nvidia's source:
 *   - BootChainDxe (Silicon/NVIDIA/Drivers/BootChainDxe/BootChainDxe.c, BootChainExecuteUpdate
 *     and BootChainFinishUpdate): BootChainFwNext processed into a BR-BCT switch and a reset,
 *     BootChainFwStatus left for the OS (14 BootNext exists, 2 no operation, 12 the new chain
 *     failed, 5 too many resets), BootChainFwPrevious and BootChainFwResetCount (at most 3)
 *     kept where the OS cannot see them (no RUNTIME_ACCESS);
 *   - L4TLauncher (Silicon/NVIDIA/Application/L4TLauncher/L4TRootfsValidation.c,
 *     ValidateRootfsStatus): the SR_RF scratch register (magic 0xFACE, current slot, 2-bit tries
 *     per slot, set up from RootfsRetryCountMax and RootfsStatusSlotX only when its magic is
 *     gone), a try taken on every boot, a slot with none left marked 0xFF and the other chain
 *     requested with a reset, both unbootable -> the recovery kernel.
 * Outside edk2-nvidia: a chain whose firmware does not reach UEFI brings the board back on the
 * other chain (the BootROM/MB1 chain fallback, DESIGN.md section 9); SR_RF survives resets and
 * is lost at power-off (NVIDIA's answer on their forum, "Reset Timing of Boot Retry Count");
 * a good system restores its slot's tries after a good boot (NVIDIA's nv-l4t-bootloader-config
 * service): the model does that after the backend's mark_good succeeded.
 */
#ifndef SELFFLASH_T234_MODEL_H
#define SELFFLASH_T234_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "slot/slot_backend.h"

/* What a slot holds. */
enum model_content {
	CONTENT_GOOD,             /* boots, its system runs mark_good */
	CONTENT_NEVER_CONFIRMS,   /* boots, its system never confirms */
	CONTENT_FIRMWARE_BROKEN,  /* its boot chain never reaches UEFI */
	CONTENT_HALF_WRITTEN,     /* an update stopped writing it: must never come up */
};

/* model_boot: the recovery kernel came up (besides PKG_SLOT_A / PKG_SLOT_B) */
#define MODEL_RECOVERY 3

struct t234_model {
	char dir[256];              /* the efivarfs directory */
	uint32_t br_bct_chain;      /* the chain the BR-BCT boots: 0 A, 1 B */
	uint32_t sr_rf;             /* the scratch register */
	int previous_present;       /* BootChainFwPrevious */
	uint32_t previous;
	int reset_count_present;    /* BootChainFwResetCount */
	uint32_t reset_count;
	enum model_content content[2];
	int resets;                 /* resets during the last model_boot */
	int confirm_failed;         /* the system's mark_good failed in the last model_boot */
	struct slot_env os;         /* what the system's mark_good is given */
};

/*
 * A board flashed with rootfs A/B: chain A current, both rootfs slots normal, redundancy
 * level `redundancy`, RootfsRetryCountMax `retry_max` (1..3), both slots CONTENT_GOOD, powered
 * off. dir must exist. 0 or -1.
 */
int model_init(struct t234_model *m, const char *dir, uint32_t redundancy, uint32_t retry_max,
	       FILE *log);

/* Power lost: SR_RF and the volatile BootChainFwCurrent are gone. */
void model_power_off(struct t234_model *m);

/*
 * One boot from reset to a running system: firmware, BootChainDxe, L4TLauncher, and the
 * system's confirmation if its slot is good. Returns the slot whose system came up
 * (PKG_SLOT_A/PKG_SLOT_B) or MODEL_RECOVERY; -1 when no chain reaches UEFI.
 */
int model_boot(struct t234_model *m);

/* The tries SR_RF holds for slot index i (0 A, 1 B), or -1 when SR_RF is not set up. */
int model_tries_left(const struct t234_model *m, int i);

#endif
