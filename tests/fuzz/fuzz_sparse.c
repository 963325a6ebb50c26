/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Android sparse reader: the input is a whole sparse file. A file the
 * reader accepts is then read back in full, window by window, as the chunker does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mkflashpkg/sparse.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *data;
	size_t size;
};

static int mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct mem *m = ctx;
	/* the reader promises to stay inside the file: hold it to that */
	if (off > m->size || len > m->size - off)
		abort();
	memcpy(buf, m->data + off, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t window[65536];
	struct mem m = { data, size };
	struct sparse_source src = { .read = mem_read, .ctx = &m, .size = size };
	struct sparse_image im;
	if (sparse_detect_image(&src) != 1 || sparse_parse_image(&src, &im) != 0)
		return 0;
	/* extents must tile the image in order; reads must stay in bounds */
	uint64_t at = 0;
	for (size_t i = 0; i < im.count; i++) {
		if (im.extents[i].offset != at || im.extents[i].length == 0)
			abort();
		at += im.extents[i].length;
	}
	if (at != im.size)
		abort();
	/* huge images are mostly holes: visit at most 64 windows, spread over the image */
	uint64_t step = im.size / 64 > sizeof(window) ? im.size / 64 : sizeof(window);
	for (uint64_t off = 0; off < im.size; off += step) {
		size_t n = im.size - off < sizeof(window) ? (size_t)(im.size - off) : sizeof(window);
		if (sparse_read_range(&im, &src, off, window, n) < 0)
			abort();
	}
	sparse_free_image(&im);
	err_clear();
	return 0;
}
