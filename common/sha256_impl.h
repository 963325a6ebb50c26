/* SPDX-License-Identifier: MIT */
/* Private to common/sha256*.c: which SHA-256 backends this build has, and their entries. */
#ifndef SELFFLASH_SHA256_IMPL_H
#define SELFFLASH_SHA256_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* The round constants of FIPS 180-4 §4.2.2, for the accelerated backends. */
extern const uint32_t sha256_round_constants[64];

/* The compilers that build this project (gcc >= 12, clang >= 14) know the target attribute
 * and the intrinsics these backends need; the backend is in the build when the target is. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_HAVE_X86 1
/* 1 when the CPU has SHA-NI, SSSE3 and SSE4.1. */
int sha256_x86_detect(void);
/* Hashes nblocks 64-byte blocks at data into state (FIPS 180-4 order: a..h). */
void sha256_x86_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks);
#endif

#if defined(__aarch64__) && defined(__GNUC__)
#define SHA256_HAVE_ARM 1
/* 1 when the kernel reports the SHA2 instructions (AT_HWCAP). */
int sha256_arm_detect(void);
/* Hashes nblocks 64-byte blocks at data into state (FIPS 180-4 order: a..h). */
void sha256_arm_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks);
#endif

#endif
