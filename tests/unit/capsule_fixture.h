/* SPDX-License-Identifier: MIT */
/*
 * Test capsules built in memory the way NVIDIA's l4t_generate_soc_capsule.sh has
 * GenerateCapsule.py write them (R35.3.1 generate_capsule/): EFI_CAPSULE_HEADER with the FMP
 * capsule GUID, the FMP capsule header, one v3 item for the T234 image type, an
 * authentication header, an FMP payload header "MSS1", then the BUP (NVIDIA__BLOB__V3, one
 * 184-byte entry per image). Test code.
 */
#ifndef SELFFLASH_CAPSULE_FIXTURE_H
#define SELFFLASH_CAPSULE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* A capsule whose BUP has n entries named names[i], TnSpec specs[i] (each 16 data bytes),
 * into buf (room for cap bytes); its length, 0 when it does not fit. */
size_t capsule_fixture(uint8_t *buf, size_t cap, const char *const *names,
		       const char *const *specs, int n);

/* Offsets in a fixture, for tests that break one field. */
#define FIXTURE_CAPSULE_HEADER 28
#define FIXTURE_ITEM (FIXTURE_CAPSULE_HEADER + 16)
#define FIXTURE_AUTH (FIXTURE_ITEM + 48)
#define FIXTURE_AUTH_SIZE (8 + 24 + 8)
#define FIXTURE_BUP (FIXTURE_AUTH + FIXTURE_AUTH_SIZE + 16)

#endif
