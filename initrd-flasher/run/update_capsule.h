/* SPDX-License-Identifier: MIT */
/*
 * The firmware capsule a package may carry for an update (a PKG_PART_FILE partition, pkg.h):
 * found in the plan, refused on a backend that cannot stage it, and read before anything is
 * written through the same verified chunk path as every image (each chunk's SHA-256 under the
 * signed manifest) into memory, where the slot backend's install stages it (slot_backend.h).
 */
#ifndef SELFFLASH_UPDATE_CAPSULE_H
#define SELFFLASH_UPDATE_CAPSULE_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/* The file partition of r's variant in *part, or -1 when the package carries none; refuses
 * more than one, and one on a backend other than tegra (backend: its name). 0 or -1. */
int update_capsule_find(const struct run *r, const char *backend, int *part);

/* Partition part's file fetched, every chunk checked, and capsule_parse'd; *buf (the caller
 * frees it) and *len; the FMP payload's FwVersion (the release it carries, 0x230401 = 35.4.1) in
 * *fw_version, 0 when it has none. 0 or -1. */
int update_capsule_read(struct run *r, uint32_t part, uint8_t **buf, size_t *len,
			uint32_t *fw_version);

#endif
