/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 with the ARMv8 CRC32 instructions (every Jetson Orin core has them). Only this
 * function is compiled for them (target attribute), and crc32.c calls it only after
 * crc32_arm_detect() said yes. Empty on other architectures.
 */
#include "crc32_impl.h"

#ifdef CRC32_HAVE_ARM

#include <arm_acle.h>
#include <string.h>
#include <sys/auxv.h>

#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7) /* arch/arm64/include/uapi/asm/hwcap.h */
#endif

int crc32_arm_detect(void)
{
	return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}

/*
 * CRC32B and CRC32X divide by zlib's polynomial in its bit order, one byte or eight at a
 * time, but without zlib's inversion of the register before and after. Byte steps up to an
 * 8-byte boundary, then aligned 8-byte loads (memcpy, which compiles to one LDR), four per
 * loop pass to spend less on the loop itself.
 */
__attribute__((target("+crc")))
uint32_t crc32_arm_update(uint32_t crc, const uint8_t *data, size_t len)
{
	uint32_t c = ~crc;
	for (; len > 0 && ((uintptr_t)data & 7) != 0; data++, len--)
		c = __crc32b(c, *data);
	for (; len >= 32; data += 32, len -= 32) {
		uint64_t w[4];
		memcpy(w, data, sizeof(w));
		c = __crc32d(c, w[0]);
		c = __crc32d(c, w[1]);
		c = __crc32d(c, w[2]);
		c = __crc32d(c, w[3]);
	}
	for (; len >= 8; data += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, data, sizeof(w));
		c = __crc32d(c, w);
	}
	for (; len > 0; data++, len--)
		c = __crc32b(c, *data);
	return ~c;
}

#endif
