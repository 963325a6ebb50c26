/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the package decoders the board runs on untrusted bytes: the header,
 * the manifest, and chunk unpacking (CRC32, inflate, SHA-256). The input is a whole package.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_header h;
	struct pkg_manifest m;
	if (size < PKG_PREFIX_SIZE || pkg_header_decode(data, size, &h) != 0)
		return 0;
	/* the header decoder guarantees prefix + manifest + data == size */
	const uint8_t *manifest = data + PKG_PREFIX_SIZE;
	if (pkg_manifest_decode(manifest, h.manifest_size, h.data_size, &m) != 0)
		return 0;
	const uint8_t *region = manifest + h.manifest_size;
	for (uint32_t i = 0; i < m.chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(&m, i, &c);
		if (c.raw_size > (1u << 20))
			continue; /* keep each run fast; the size checks are the decoder's */
		uint8_t *raw = malloc(c.raw_size);
		if (!raw)
			return 0;
		(void)pkg_chunk_unpack(&c, region + c.stored_offset, raw);
		free(raw);
	}
	return 0;
}
