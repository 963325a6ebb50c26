/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for board identity: the module EEPROM parser (DESIGN.md section 5) on any
 * bytes, and the chip-SKU text parser on the same bytes as text. What the parser accepts must
 * be a well-formed identity: terminated strings of the sizes it promises, a CRC that holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identify.h"

static void check_string(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort(); /* an identity string that is not terminated inside its field */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct board_id id;
	memset(&id, 0, sizeof(id));
	if (identify_parse_eeprom(data, size, &id) == 0) {
		if (size != EEPROM_SIZE || identify_crc8_maxim(data, EEPROM_SIZE - 1) != data[255])
			abort(); /* accepted bytes that are not a whole EEPROM with a good CRC */
		check_string(id.part_number, sizeof(id.part_number));
		check_string(id.board, sizeof(id.board));
		check_string(id.sku, sizeof(id.sku));
		check_string(id.fab, sizeof(id.fab));
		check_string(id.rev, sizeof(id.rev));
		check_string(id.serial, sizeof(id.serial));
		check_string(id.compat_fab, sizeof(id.compat_fab));
		char line[200];
		identify_describe(&id, line, sizeof(line));
		check_string(line, sizeof(line));
	}
	char text[64];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	if (identify_set_chip_sku(&id, text) == 0)
		check_string(id.chip_sku, sizeof(id.chip_sku));
	return 0;
}
