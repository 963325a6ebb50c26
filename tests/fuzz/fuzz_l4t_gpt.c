/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the reader of NVIDIA's disk GPT file (mkflashpkg/l4t_gpt.c): any bytes
 * either fail with a message or give GUIDs to partitions of the layout and number every
 * partition exactly once (the layout's partitions are only reordered).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pkg.h"
#include "../../mkflashpkg/l4t.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "master_boot_record", "primary_gpt", "esp", "APP", "APP_b",
				     "A_kernel", "secondary_gpt" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct layout_part parts[LAYOUT_MAX_PARTS];
	struct layout l = { .parts = parts, .nparts = 7, .ndev = 1 };
	l.dev[0] = (struct layout_device){ .type = "external", .sector_size = 512, .size = 1u << 30,
					   .first = 0, .count = 7 };
	memset(parts, 0, sizeof(parts));
	for (size_t i = 0; i < 7; i++) {
		strcpy(parts[i].name, names[i]);
		parts[i].kind = i == 0 ? PKG_PART_PMBR : i == 1 ? PKG_PART_PRIMARY_GPT
					 : i == 6 ? PKG_PART_SECONDARY_GPT : PKG_PART_DATA;
		parts[i].offset = i < 2 ? 512 * i : (uint64_t)i << 20;
		parts[i].size = i < 2 ? 512 : 1u << 20;
	}
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	unsigned applied;
	if (l4t_apply_gpt_bytes(&l, &l.dev[0], copy, size, "fuzz", &applied) != 0) {
		if (!err_msg()[0])
			abort(); /* a refusal always says why */
	} else {
		for (size_t i = 0; i < 7; i++) { /* each name still there once */
			size_t seen = 0;
			for (size_t j = 0; j < 7; j++)
				seen += strcmp(parts[j].name, names[i]) == 0;
			if (seen != 1)
				abort();
		}
	}
	free(copy);
	return 0;
}
