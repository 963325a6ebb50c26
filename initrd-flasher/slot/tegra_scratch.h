/* SPDX-License-Identifier: MIT */
/*
 * The T234 scratch register in which L4TLauncher keeps the rootfs A/B tries (SR_RF), read and
 * written through a memory device (/dev/mem on a board, a sparse file in tests).
 *
 * Facts (docs/t234-firmware-facts.md section 1, edk2-nvidia r35.3.1, r35.4.1, r36.4.3):
 *   - address PcdRootfsRegisterBaseAddressT234 = 0x0C3903A8 (Silicon/NVIDIA/NVIDIA.dec:288
 *     @r35.3.1, :296 @r35.4.1, :372 @r36.4.3), a plain 32-bit MMIO register
 *     (T234ResourceConfig.c T234Get/SetRootfsStatusReg);
 *   - bits 0..15 magic 0xFACE, 16..17 current slot, 18..19 tries left of slot B, 20..21 of
 *     slot A (RootfsValidationPrivate.h:15-45 @r35.3.1, L4TRootfsValidation.h @r35.4.1/r36.4.3);
 *   - without the magic, the launcher sets it up on its next boot: RootfsRetryCountMax tries
 *     for every slot whose RootfsStatusSlotX is not 0xFF (InitializeRootfsStatusReg,
 *     RootfsValidationLib.c:180-249 @r35.3.1, L4TRootfsValidation.c:234-300 @r36.4.3);
 *   - NVIDIA's own confirmation, `nvbootctrl verify` (nvidia-l4t-tools 35.3.1, usr/sbin/
 *     nvbootctrl, disassembled: its scratch table for chip 0x23 has index 2 = 0x0C3903A8),
 *     writes 0 to it through /dev/mem on every good boot: that is how the tries come back.
 */
#ifndef SELFFLASH_TEGRA_SCRATCH_H
#define SELFFLASH_TEGRA_SCRATCH_H

#include <stdint.h>

#define TEGRA_SR_RF_ADDRESS 0x0C3903A8u
#define TEGRA_SR_RF_MAGIC 0xFACEu
#define TEGRA_DEFAULT_MEM_DEVICE "/dev/mem"

/* SR_RF as fields; valid only when magic_ok. */
struct tegra_sr_rf {
	uint32_t raw;
	int magic_ok;   /* the launcher set it up since it was last cleared */
	int slot;       /* the rootfs slot the launcher booted: 0 A, 1 B */
	int tries[2];   /* tries left: [0] slot A, [1] slot B (0..3) */
};

void tegra_sr_rf_decode(uint32_t raw, struct tegra_sr_rf *out);

/* The register read from physical address `address` through `mem` (NULL: /dev/mem). 0 or -1
 * naming the device and why (a kernel in lockdown, or one built with STRICT_DEVMEM that
 * claims the range, refuses the mapping). */
int tegra_scratch_read(const char *mem, uint32_t address, uint32_t *value);

/* value written there, then read back: -1 when it does not read back as written. */
int tegra_scratch_write(const char *mem, uint32_t address, uint32_t value);

#endif
