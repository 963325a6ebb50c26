/* SPDX-License-Identifier: MIT */
/*
 * CRC-32: picks the backend once per process and keeps zlib's conventions (a NULL buffer
 * gives the starting value 0) in one place, so the backends only see real bytes.
 */
#include "crc32.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "crc32_impl.h"
#include "error.h"

uint32_t crc32_portable(uint32_t crc, const uint8_t *data, size_t len)
{
	/* crc32_z takes a size_t length (zlib >= 1.2.9), crc32 only a 32-bit one. */
	return (uint32_t)crc32_z(crc, data, len);
}

typedef uint32_t (*crc32_update_fn)(uint32_t crc, const uint8_t *data, size_t len);

static const struct {
	const char *name;
	crc32_update_fn update; /* NULL: not in this build */
	int (*detect)(void);    /* NULL: always available (portable) or not in this build */
} crc32_backends[CRC32_BACKEND_COUNT] = {
	[CRC32_BACKEND_PORTABLE] = { "portable", crc32_portable, NULL },
#ifdef CRC32_HAVE_X86
	[CRC32_BACKEND_X86_PCLMUL] = { "x86-pclmul", crc32_x86_update, crc32_x86_detect },
#else
	[CRC32_BACKEND_X86_PCLMUL] = { "x86-pclmul", NULL, NULL },
#endif
#ifdef CRC32_HAVE_ARM
	[CRC32_BACKEND_ARMV8] = { "armv8-crc32", crc32_arm_update, crc32_arm_detect },
#else
	[CRC32_BACKEND_ARMV8] = { "armv8-crc32", NULL, NULL },
#endif
};

/* Written once under pthread_once, read-only afterwards. Detection is probed once: CPUID
 * traps to the hypervisor in a VM, too slow for every call of crc32_update_backend(). */
static enum crc32_backend_id crc32_default = CRC32_BACKEND_PORTABLE;
static unsigned crc32_available_mask = 1u << CRC32_BACKEND_PORTABLE;
static pthread_once_t crc32_default_once = PTHREAD_ONCE_INIT;

static void crc32_choose_default(void)
{
	for (int id = CRC32_BACKEND_PORTABLE + 1; id < CRC32_BACKEND_COUNT; id++)
		if (crc32_backends[id].update != NULL && crc32_backends[id].detect() != 0)
			crc32_available_mask |= 1u << id;
	const char *force = getenv("SELFFLASH_CRC32");
	if (force && strcmp(force, "portable") == 0)
		return;
	for (int id = CRC32_BACKEND_COUNT - 1; id > CRC32_BACKEND_PORTABLE; id--) {
		if (crc32_available_mask & (1u << id)) {
			crc32_default = (enum crc32_backend_id)id;
			return;
		}
	}
}

static enum crc32_backend_id crc32_default_backend(void)
{
	pthread_once(&crc32_default_once, crc32_choose_default);
	return crc32_default;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	if (data == NULL)
		return 0; /* zlib: crc32(any, Z_NULL, any) is the starting value */
	return crc32_backends[crc32_default_backend()].update(crc, data, len);
}

const char *crc32_backend(void)
{
	return crc32_backends[crc32_default_backend()].name;
}

const char *crc32_backend_name(enum crc32_backend_id id)
{
	if ((unsigned)id >= CRC32_BACKEND_COUNT)
		return "?";
	return crc32_backends[id].name;
}

int crc32_backend_available(enum crc32_backend_id id)
{
	if ((unsigned)id >= CRC32_BACKEND_COUNT)
		return 0;
	crc32_default_backend(); /* probes them all */
	return (int)((crc32_available_mask >> id) & 1);
}

int crc32_update_backend(enum crc32_backend_id id, uint32_t *crc, const void *data, size_t len)
{
	if (!crc32_backend_available(id))
		return err_set("CRC-32 backend %s (%d): expected one this build and CPU have, "
			       "this one is not", crc32_backend_name(id), (int)id);
	*crc = data == NULL ? 0 : crc32_backends[id].update(*crc, data, len);
	return 0;
}
