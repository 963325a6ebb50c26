/* SPDX-License-Identifier: MIT */
/*
 * A model of the T234 firmware's A/B state machine, per release, run on the same variable
 * directory, memory file and sysfs tree the tegra slot backend reads and writes (test code).
 * It follows edk2-nvidia's source at each tag (docs/t234-firmware-facts.md has the lines):
 *   - BootChainDxe (Silicon/NVIDIA/Drivers/BootChainDxe/BootChainDxe.c, BootChainExecuteUpdate
 *     and BootChainFinishUpdate): BootChainFwNext processed into a BR-BCT switch and a reset,
 *     BootChainFwStatus left for the OS (14 BootNext exists, 2 no operation, 12 the new chain
 *     failed, 5 too many resets); with a status already there, a request is only deleted
 *     (:327-342 @r35.3.1); BootChainFwPrevious and BootChainFwResetCount (at most 3) kept where
 *     the OS cannot see them (no RUNTIME_ACCESS);
 *   - L4TLauncher (RootfsValidationLib.c @r35.3.1, L4TRootfsValidation.c @r35.4.1/r36.4.3,
 *     ValidateRootfsStatus): the SR_RF scratch register at 0x0C3903A8 (magic 0xFACE, current
 *     slot, 2-bit tries per slot), set up from RootfsRetryCountMax and RootfsStatusSlotX only
 *     when its magic is gone, a try taken on every boot, a slot with none left marked 0xFF and
 *     the other chain requested with a reset -- BootChainFwStatus deleted first from r35.4.1
 *     only (L4TRootfsValidation.c:889-890 @r35.4.1; not in r35.3.1) -- both unbootable: the
 *     recovery kernel;
 *   - the UEFI image's device-tree defaults (L4TConfiguration.dts: RootfsRedundancyLevel,
 *     RootfsRetryCountMax) put into a variable store that lacks them;
 *   - recovery mode keeps the variables in memory (TegraPlatformInitDxe.c:446-458 @r35.3.1):
 *     model_rcm_session gives the first flash a store of its own, dropped at its reset.
 * Outside edk2-nvidia: a chain whose firmware does not reach UEFI brings the board back on the
 * other chain (the BootROM/MB1 chain fallback); SR_RF survives resets and is lost at power-off
 * (a scratch register; not confirmed on hardware). The running system confirms its boot with
 * the backend's own mark_good, which must restore the tries itself: the model never does.
 */
#ifndef SELFFLASH_T234_MODEL_H
#define SELFFLASH_T234_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "slot/slot_backend.h"

struct model_capsule;

/* What a slot holds. */
enum model_content {
	CONTENT_GOOD,             /* boots, its system runs mark_good */
	CONTENT_NEVER_CONFIRMS,   /* boots, its system never confirms */
	CONTENT_FIRMWARE_BROKEN,  /* its boot chain never reaches UEFI */
	CONTENT_HALF_WRITTEN,     /* an update stopped writing it: must never come up */
};

/* The firmware releases the model reproduces. */
enum model_release {
	MODEL_R35_3_1,
	MODEL_R35_4_1,
	MODEL_R36_4_3,
};

/* model_boot: the recovery kernel came up (besides PKG_SLOT_A / PKG_SLOT_B) */
#define MODEL_RECOVERY 3
/* model_boot: the board resets for ever (no system within MODEL_MAX_RESETS resets) */
#define MODEL_RESET_LOOP (-1)
#define MODEL_MAX_RESETS 32

struct t234_model {
	char dir[256];              /* the efivarfs directory (the QSPI variable store) */
	char mem[256];              /* the memory file SR_RF lives in (/dev/mem) */
	char sysfs[256];            /* bios_version and the ESRT */
	enum model_release release;
	enum model_release chain_release[2]; /* each chain's firmware (a capsule changes one) */
	struct model_capsule *capsule;       /* capsule on disk (t234_model_capsule.h); NULL: no ESP */
	enum model_release capsule_release;  /* the firmware a capsule applied puts on its chain */
	uint32_t dtb_redundancy;    /* the UEFI image's defaults */
	uint32_t dtb_retry_max;
	uint32_t br_bct_chain;      /* the chain the BR-BCT boots: 0 A, 1 B */
	int previous_present;       /* BootChainFwPrevious */
	uint32_t previous;
	int reset_count_present;    /* BootChainFwResetCount */
	uint32_t reset_count;
	enum model_content content[2];
	int resets;                 /* resets during the last model_boot */
	int confirm_failed;         /* the system's mark_good failed in the last model_boot */
	int confirms;               /* mark_good run by the system in the last model_boot */
	struct slot_env os;         /* what the system's mark_good is given */
	/* each slot's system's own word on its version (slot_version.h): root/system-version-a,
	 * -b; the one of the slot that came up is the os's system_version_file; missing until a
	 * test writes it */
	char version_file[2][300];
};

/*
 * A board of `release` flashed with rootfs A/B: the variable store under root/efivars (root
 * must exist), the memory file root/mem, sysfs root/sys; chain A current, both rootfs slots
 * normal, the UEFI image's defaults RootfsRedundancyLevel `redundancy` and
 * RootfsRetryCountMax `retry_max` (1..3), both slots CONTENT_GOOD, powered off. 0 or -1.
 */
int model_init(struct t234_model *m, const char *root, enum model_release release,
	       uint32_t redundancy, uint32_t retry_max, FILE *log);

/* Power lost: SR_RF and the volatile BootChainFwCurrent are gone. */
void model_power_off(struct t234_model *m);

/* SR_RF as the firmware sees it. */
uint32_t model_sr_rf(const struct t234_model *m);

/*
 * A first flash in recovery mode: the variable store the OS would see in it is the
 * directory `session` (emptied: the in-memory store), dropped at the end; the boot BCT written
 * selects chain A; `store_erased`: the flash blanked the QSPI variable store (every variable
 * gone; the firmware puts its image's defaults back). Powered off at the end.
 */
void model_first_flash(struct t234_model *m, const char *session, int store_erased);

/*
 * One boot from reset to a running system: firmware, BootChainDxe, L4TLauncher, and the
 * system's confirmation (the backend's mark_good) if its slot is good. Returns the slot whose
 * system came up (PKG_SLOT_A/PKG_SLOT_B), MODEL_RECOVERY, or MODEL_RESET_LOOP.
 */
int model_boot(struct t234_model *m);

/* The tries SR_RF holds for slot index i (0 A, 1 B), or -1 when SR_RF is not set up. */
int model_tries_left(const struct t234_model *m, int i);

#endif
