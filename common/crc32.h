/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 of zlib, gzip and PNG (reflected polynomial 0xEDB88320) for the link's frames and the
 * package's chunks. One interface with several backends behind it: the CPU's instructions
 * where it has them (x86-64 carry-less multiply, ARMv8 CRC32), else zlib's crc32(). All of
 * them give zlib's values (tests/unit/test_crc32.c checks each one against the same
 * known answers and against zlib).
 */
#ifndef SELFFLASH_CRC32_H
#define SELFFLASH_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The implementations that can sit behind this interface. */
enum crc32_backend_id {
	CRC32_BACKEND_PORTABLE,   /* zlib's crc32_z(): any CPU */
	CRC32_BACKEND_X86_PCLMUL, /* x86-64 PCLMULQDQ (CPUID.1:ECX bit 1) and SSE4.1 */
	CRC32_BACKEND_ARMV8,      /* ARMv8 CRC32 instructions (AT_HWCAP & HWCAP_CRC32) */
	CRC32_BACKEND_COUNT
};

/*
 * Returns the CRC-32 of the len bytes at data (any alignment) continued from crc, the CRC-32
 * of what came before them: 0 to start. Exactly zlib's crc32(crc, data, len), so
 * crc32_update(crc32_update(0, a, n), b, m) is the CRC-32 of a followed by b. Like zlib, a
 * NULL data returns 0 (the starting value) whatever len is. Uses the default backend (see
 * crc32_backend()); safe from any thread.
 */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

/*
 * Name of the backend that crc32_update() uses: "x86-pclmul", "armv8-crc32" or "portable" (a
 * static string). The choice is made once per process, on first use, safely from any
 * thread: the fastest backend this CPU runs, unless the environment variable SELFFLASH_CRC32
 * is "portable", which forces zlib's code (for tests and benchmarks; other values are
 * ignored).
 */
const char *crc32_backend(void);

/* Name of backend id ("portable", "x86-pclmul", "armv8-crc32"; "?" for an unknown id). */
const char *crc32_backend_name(enum crc32_backend_id id);

/* 1 when backend id is built into this program and this CPU can run it, else 0. Ignores
 * SELFFLASH_CRC32. */
int crc32_backend_available(enum crc32_backend_id id);

/* Like *crc = crc32_update(*crc, data, len), with the given backend. Returns 0, or -1 with
 * err_msg() set when crc32_backend_available(id) is 0 (*crc is then untouched). */
int crc32_update_backend(enum crc32_backend_id id, uint32_t *crc, const void *data, size_t len);

#endif
