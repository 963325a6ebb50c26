/* SPDX-License-Identifier: MIT */
/* Private to common/crc32*.c: which CRC-32 backends this build has, and their entries. */
#ifndef SELFFLASH_CRC32_IMPL_H
#define SELFFLASH_CRC32_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* The portable backend (zlib's crc32_z), for lengths the accelerated ones leave over.
 * Same convention as crc32_update(); data is not NULL. */
uint32_t crc32_portable(uint32_t crc, const uint8_t *data, size_t len);

/* The compilers that build this project (gcc >= 12, clang >= 14) know the target attribute
 * and the intrinsics these backends need; the backend is in the build when the target is. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32_HAVE_X86 1
/* 1 when the CPU has PCLMULQDQ and SSE4.1. */
int crc32_x86_detect(void);
/* crc32_update() with carry-less multiplication; data is not NULL. */
uint32_t crc32_x86_update(uint32_t crc, const uint8_t *data, size_t len);
#endif

/* The CRC32X instruction takes eight bytes as one little-endian register. */
#if defined(__aarch64__) && defined(__GNUC__) && defined(__BYTE_ORDER__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CRC32_HAVE_ARM 1
/* 1 when the kernel reports the CRC32 instructions (AT_HWCAP). */
int crc32_arm_detect(void);
/* crc32_update() with the CRC32B/CRC32X instructions; data is not NULL. */
uint32_t crc32_arm_update(uint32_t crc, const uint8_t *data, size_t len);
#endif

#endif
