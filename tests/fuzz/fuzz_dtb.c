/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the DTB reader (mkflashpkg/fdt_compat.c) that checks an RCM bundle's
 * board: any bytes either fail with a message or give a NUL-terminated list that fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "../../mkflashpkg/fdt_compat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];
	memset(out, 0x55, sizeof(out));
	if (fdt_root_compatible(data, size, out, sizeof(out)) != 0) {
		if (!err_msg()[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	if (!memchr(out, '\0', sizeof(out)))
		abort();
	return 0;
}
