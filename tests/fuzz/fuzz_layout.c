/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the XML reader and the NVIDIA layout interpreter (offsets, placeholders,
 * fill-to-end), and for the flash.idx reader on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../mkflashpkg/layout.h"
#include "../../mkflashpkg/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct layout_set sets[] = { { "APPSIZE", "0x10000000" },
						  { "MB1FILE", "mb1.bin" } };
	struct xml_node *root = xml_parse((const char *)data, size);
	xml_free(root);
	struct layout l;
	if (layout_from_xml((const char *)data, size, sets, 2, &l) == 0)
		layout_free(&l);
	if (layout_from_flash_idx((const char *)data, size, &l) == 0)
		layout_free(&l);
	return 0;
}
