/* SPDX-License-Identifier: MIT */
/*
 * The A/B slot of a partition by NVIDIA's names: one rule for the package builder (which
 * writes it into the manifest) and the board (which derives it again and refuses a manifest
 * that says otherwise), so that the slot byte is never trusted alone.
 */
#ifndef SELFFLASH_SLOT_NAME_H
#define SELFFLASH_SLOT_NAME_H

#include <stddef.h>
#include <stdint.h>

/*
 * The slot (PKG_SLOT_A, PKG_SLOT_B, or 0 for none) of the partition named `name` among the
 * partitions of one device, as NVIDIA's layouts name them (Jetson Linux R35.3.1,
 * bootloader/t186ref/cfg/flash_t234_qspi*.xml, flash_t194_sdmmc.xml,
 * tools/kernel_flash/flash_l4t_nvme_rootfs_ab.xml):
 * - A_x / B_x: the T234 boot chain (A_mb1, B_MB1_BCT, A_VER) and its kernels (A_kernel);
 * - x_b, and x when has_b_twin (x_b is on the same device): APP/APP_b, APP_ENC/APP_ENC_b,
 *   kernel/kernel_b, T194's mb1/mb1_b;
 * - reserved_for_chain_A_... / reserved_for_chain_B_... (flash_l4t_nvme_rootfs_ab.xml).
 * `x_alt` (esp_alt, RECNAME_alt: recovery's copies) and every other name: 0.
 */
uint8_t pkg_slot_of_name(const char *name, int has_b_twin);

/*
 * The name of the other slot's partition for a partition of `slot` (PKG_SLOT_A or _B) named
 * `name`, by the same rule: A_x and B_x, reserved_for_chain_A_x and reserved_for_chain_B_x,
 * x and x_b. 0 with it in out, or -1 (no slot, or cap too small).
 */
int pkg_slot_twin_name(const char *name, uint8_t slot, char *out, size_t cap);

#endif
