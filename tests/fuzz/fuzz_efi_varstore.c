/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the edk2 variable store reader: the input is the bytes of a
 * uefi_variables partition. Whatever the reader makes of it, it must stay inside the bytes
 * (ASan sees to that, the input being copied to a buffer of exactly its size), report no more
 * live variables than it walked, and describe what it found as a terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board/efi_varstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct efi_varstore_found f;
	int rc = efi_varstore_read(copy, size, &f);
	if (rc < -1 || rc > 1 || f.live > f.entries)
		abort();
	char text[64]; /* short on purpose: a cut description must still end */
	unsigned n = efi_varstore_describe(&f, text, sizeof(text));
	if (n > EFI_BOOT_VAR_COUNT || strnlen(text, sizeof(text)) == sizeof(text))
		abort();
	free(copy);
	return 0;
}
