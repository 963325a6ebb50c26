/* SPDX-License-Identifier: MIT */
/*
 * Which T234 firmware release a board runs, and the rules that follow from it.
 *
 * Two places tell it, both read from sysfs:
 *   - /sys/class/dmi/id/bios_version: SMBIOS type 0 = PcdFirmwareVersionString = the build's
 *     BUILDID_STRING (edk2-nvidia Platform/NVIDIA/NVIDIA.common.dsc.inc:387-389 @r35.3.1,
 *     :923 @r36.4.3; edk2nv/stuart/settings.py:203-229 @r35.3.1). NVIDIA's own builds:
 *     "3.1-32827747" in R35.3.1's bootloader/uefi_jetson.bin (the release without its
 *     branch, then the build's GCID), "36.2.0-gcid-34956989" in R36.2's; a build from the
 *     edk2-nvidia tag: "r35.3.1-<git describe>".
 *   - the ESRT entry of the T234 system firmware (fw_class bf0d4599-20d4-414e-b2c5-3595b1cda402,
 *     Platform/NVIDIA/Jetson/Jetson.dsc.inc:23 @r35.4.1): fw_version is the VER partition's
 *     Version32 (TegraFmp.c:380 @r35.4.1, VerPartitionGetVersion), which NVIDIA's flash.sh
 *     writes as (BSP_BRANCH << 16) | (BSP_MAJOR << 8) | BSP_MINOR (flash.sh:2875-2880 @R35.3.1),
 *     e.g. 0x230301 for 35.3.1.
 * bios_version names the UEFI build itself, whose L4TLauncher does the rollback, so it wins
 * when both are readable; a release given in the config (`firmware-release`) wins over both.
 */
#ifndef SELFFLASH_TEGRA_RELEASE_H
#define SELFFLASH_TEGRA_RELEASE_H

#include <stdint.h>

/* the ESRT class of the T234 system firmware */
#define TEGRA_T234_FMP_GUID "bf0d4599-20d4-414e-b2c5-3595b1cda402"

struct tegra_release {
	int known;
	unsigned major, minor, patch;   /* 35, 4, 1 */
	char bios_version[64];          /* as read ("" when unreadable) */
	int esrt_present;
	uint32_t esrt_version;          /* fw_version of the T234 ESRT entry */
	char source[96];                /* where the release came from, in words */
};

/* "35.4.1" from a bios_version string; 0, or -1 when it has no form this code knows. */
int tegra_release_parse_bios(const char *text, unsigned *major, unsigned *minor, unsigned *patch);

/* Reads bios_version below sysfs (NULL: "/sys") and the ESRT at esrt (NULL: below sysfs), or
 * takes `given` ("35.4.1", from the config) when not NULL. Never fails for a missing file:
 * r->known says. -1 only for a `given` that is not MAJOR.MINOR.PATCH. */
int tegra_release_read(const char *sysfs, const char *esrt, const char *given,
		       struct tegra_release *r);

/* "r35.4.1" or "unknown" */
const char *tegra_release_name(const struct tegra_release *r, char *buf, unsigned size);

/*
 * 1 when this release's L4TLauncher deletes BootChainFwStatus before its rollback reset, so
 * that a slot whose tries ran out brings the board back to the other chain: from r35.4.1
 * (L4TRootfsValidation.c:889-890 @r35.4.1, :914-915 @r36.4.3; edk2-nvidia commit fd241e8d,
 * "delete BootChainFwStatus before switching Rootfs chain", not in r35.3.1, whose
 * RootfsValidationLib.c:747-749,823-840 requests the chain with the status still there: the
 * switch is swallowed (BootChainDxe.c:327-342 @r35.3.1) and the board resets for ever).
 */
int tegra_release_rollback_ends(unsigned major, unsigned minor, unsigned patch);

#endif
