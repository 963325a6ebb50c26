/* SPDX-License-Identifier: MIT */
/* Board identity: EEPROM parsing and CRC, compat-spec FAB, chip SKU, variant choice. */
#include <stdio.h>
#include <string.h>

#include "../../common/error.h"
#include "../../common/le.h"
#include "../../common/identify.h"
#include "check.h"

static uint8_t ee[EEPROM_SIZE];

/* A module EEPROM as NVIDIA lays it out, padded with 0xFF, with a valid CRC. */
static void make_eeprom(const char *part_number, const char *serial)
{
	memset(ee, 0xff, sizeof(ee));
	memset(ee, 0, 20);
	le16_store(ee + 0, 2);
	le16_store(ee + 2, 256);
	le16_store(ee + 4, 3701);
	memcpy(ee + 20, part_number, strlen(part_number));
	memcpy(ee + 74, serial, strlen(serial));
	memcpy(ee + 150, "NVCB", 4);
	ee[255] = identify_crc8_maxim(ee, 255);
}

static int error_has(const char *s)
{
	if (strstr(err_msg(), s))
		return 1;
	fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err_msg(), s);
	return 0;
}

static void test_crc8_maxim_check_value(void)
{
	/* the catalogue check value of CRC-8/MAXIM-DOW over "123456789" */
	CHECK(identify_crc8_maxim((const uint8_t *)"123456789", 9) == 0xa1);
}

static void test_eeprom_fields(void)
{
	struct board_id id;
	make_eeprom("699-13701-0005-500 M.0", "1424321012345");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	CHECK(id.eeprom_version == 2);
	CHECK_STR_EQ(id.board, "3701");
	CHECK_STR_EQ(id.sku, "0005");
	CHECK_STR_EQ(id.fab, "500");
	CHECK_STR_EQ(id.rev, "M.0");
	CHECK_STR_EQ(id.serial, "1424321012345");
	CHECK_STR_EQ(id.compat_fab, ""); /* SKU 0005 ignores the FAB */
}

static void test_eeprom_damage_is_named(void)
{
	struct board_id id;
	make_eeprom("699-13701-0005-500 M.0", "1");
	ee[30] ^= 1;
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == -1);
	CHECK(error_has("EEPROM CRC is"));
	make_eeprom("699-13701-0005-500 M.0", "1");
	CHECK(identify_parse_eeprom(ee, 255, &id) == -1);
	CHECK(error_has("255 bytes"));
	make_eeprom("not a part number", "1");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == -1);
	CHECK(error_has("not of the form"));
	make_eeprom("699-13701-0005-500 M.0", "1");
	memcpy(ee + 150, "XXXX", 4);
	ee[255] = identify_crc8_maxim(ee, 255);
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == -1);
	CHECK(error_has("NVCB"));
	make_eeprom("699-13701-0005-500 M.0", "1");
	ee[45] = 'x'; /* text after the padding */
	ee[255] = identify_crc8_maxim(ee, 255);
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == -1);
	CHECK(error_has("after the padding"));
	make_eeprom("699-13701-0005-500 M.0", "\x01");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == -1);
	CHECK(error_has("not printable"));
}

static void test_compat_fab(void)
{
	struct board_id id;
	make_eeprom("699-13701-0000-200 A.0", "1");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	CHECK_STR_EQ(id.compat_fab, "000");
	make_eeprom("699-13701-0000-300 A.0", "1");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	CHECK_STR_EQ(id.compat_fab, "300");
	make_eeprom("699-13701-0000-TS1 A.0", "1");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	CHECK_STR_EQ(id.compat_fab, "300");
	make_eeprom("699-13767-0000-400 J.2", "1");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	CHECK_STR_EQ(id.compat_fab, "400"); /* no rule: the FAB as read */
}

static void test_chip_sku_text(void)
{
	struct board_id id = { 0 };
	CHECK(identify_set_chip_sku(&id, "D0") == 0);
	CHECK_STR_EQ(id.chip_sku, "D0");
	CHECK(identify_set_chip_sku(&id, " 0xd3\n") == 0);
	CHECK_STR_EQ(id.chip_sku, "D3");
	CHECK(identify_set_chip_sku(&id, "1FF") == -1);
	CHECK(identify_set_chip_sku(&id, "xyz") == -1);
	CHECK(error_has("not a byte in hex"));
	CHECK(identify_set_chip_sku(&id, "") == -1);
}

static uint8_t mbuf[4096];

static int manifest_with(const struct pkg_variant *v, uint32_t n, struct pkg_manifest *m)
{
	struct pkg_target t = { .kind = PKG_TARGET_MTD, .sector_size = 512, .size = 1 << 20,
				.type = "spi" };
	struct pkg_manifest_src src = { .variants = v, .targets = &t, .variant_count = n,
					.target_count = 1, .chunk_size = 4096 };
	uint64_t size = pkg_manifest_encoded_size(&src);
	if (pkg_manifest_encode(&src, mbuf, size) != 0)
		return -1;
	return pkg_manifest_decode(mbuf, size, 0, m);
}

static void test_variant_choice(void)
{
	struct board_id id;
	make_eeprom("699-13701-0000-200 A.0", "1");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	CHECK(identify_set_chip_sku(&id, "D0") == 0);
	struct pkg_variant v[3] = {
		{ .name = "agx-64-fab300", .board = "3701", .sku = "0000", .fab = "300" },
		{ .name = "agx-64-fab000", .board = "3701", .sku = "0000", .fab = "000", .chip_sku = "d0" },
		{ .name = "orin-nx", .board = "3767" },
	};
	struct pkg_manifest m;
	CHECK(manifest_with(v, 3, &m) == 0);
	CHECK(identify_pick_variant(&m, &id) == 1);
	/* another chip: nothing fits, and the error says what the board is and what is offered */
	CHECK(identify_set_chip_sku(&id, "D2") == 0);
	CHECK(identify_pick_variant(&m, &id) == -1);
	CHECK(error_has("no variant for this board: board 3701 SKU 0000 FAB 200"));
	CHECK(error_has("chip D2"));
	CHECK(error_has("orin-nx(3767/*/*/*)"));
	/* two variants that both fit are a packaging mistake, not a choice */
	struct pkg_variant twice[2] = { { .name = "a", .board = "3701" }, { .name = "b" } };
	CHECK(manifest_with(twice, 2, &m) == 0);
	CHECK(identify_pick_variant(&m, &id) == -1);
	CHECK(error_has("2 variants match"));
}

int main(void)
{
	RUN(test_crc8_maxim_check_value);
	RUN(test_eeprom_fields);
	RUN(test_eeprom_damage_is_named);
	RUN(test_compat_fab);
	RUN(test_chip_sku_text);
	RUN(test_variant_choice);
	return CHECK_EXIT();
}
