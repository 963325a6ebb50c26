/* SPDX-License-Identifier: MIT */
/* The root node's `compatible` strings of a flattened device tree (DTB), read as hostile. */
#ifndef SELFFLASH_FDT_COMPAT_H
#define SELFFLASH_FDT_COMPAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copies the root `compatible` property of the DTB in data[0..size) into out as strings
 * joined by ", " (e.g. "nvidia,p3737-0000+p3701-0000, nvidia,tegra234"). 0, or -1 with
 * err_msg() naming what is wrong with the DTB (or that it has no such property).
 */
int fdt_root_compatible(const uint8_t *data, uint64_t size, char *out, size_t out_size);

#endif
