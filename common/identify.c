/* SPDX-License-Identifier: MIT */
/* Module EEPROM parsing, compat-spec normalisation and variant matching. */
#include "identify.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"
#include "le.h"

/* EEPROM field offsets (DESIGN.md §5) */
enum {
	EE_VERSION = 0,
	EE_PART_NUMBER = 20,
	EE_PART_NUMBER_LEN = 30,
	EE_SERIAL = 74,
	EE_SERIAL_LEN = 15,
	EE_SIGNATURE = 150,
	EE_CRC = 255,
};

uint8_t identify_crc8_maxim(const uint8_t *data, size_t len)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8c) : (uint8_t)(crc >> 1);
	}
	return crc;
}

/* Copies a padded EEPROM string (padding 0x00 or 0xFF); fails on other non-printables. */
static int copy_field(char *dst, size_t size, const uint8_t *src, size_t len, const char *what)
{
	size_t n = 0;
	while (n < len && src[n] != 0x00 && src[n] != 0xff)
		n++;
	for (size_t i = n; i < len; i++)
		if (src[i] != 0x00 && src[i] != 0xff)
			return err_set("EEPROM %s: byte 0x%02x after the padding", what, src[i]);
	for (size_t i = 0; i < n; i++)
		if (src[i] < 0x20 || src[i] > 0x7e)
			return err_set("EEPROM %s: byte 0x%02x is not printable", what, src[i]);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int identify_parse_eeprom(const uint8_t *ee, size_t len, struct board_id *id)
{
	memset(id, 0, sizeof(*id));
	if (len != EEPROM_SIZE)
		return err_set("EEPROM is %zu bytes, expected %d", len, EEPROM_SIZE);
	uint8_t crc = identify_crc8_maxim(ee, EE_CRC);
	if (crc != ee[EE_CRC])
		return err_set("EEPROM CRC is 0x%02x, the data gives 0x%02x", ee[EE_CRC], crc);
	id->eeprom_version = le16_load(ee + EE_VERSION);
	if (memcmp(ee + EE_SIGNATURE, "NVCB", 4) != 0)
		return err_set("EEPROM has no NVCB signature at byte %d", EE_SIGNATURE);
	if (copy_field(id->part_number, sizeof(id->part_number), ee + EE_PART_NUMBER,
		       EE_PART_NUMBER_LEN, "part number") ||
	    copy_field(id->serial, sizeof(id->serial), ee + EE_SERIAL, EE_SERIAL_LEN, "serial"))
		return -1;
	/* "699-13701-0005-500 M.0": board 5..8, SKU 10..13, FAB 15..17, revision after ' ' */
	const char *pn = id->part_number;
	if (strlen(pn) < 18 || pn[3] != '-' || pn[9] != '-' || pn[14] != '-' ||
	    !all_digits(pn + 5, 4) || !all_digits(pn + 10, 4) || !isalnum((unsigned char)pn[15]) ||
	    !isalnum((unsigned char)pn[16]) || !isalnum((unsigned char)pn[17]))
		return err_set("EEPROM part number '%s' is not of the form 699-NBBBB-SSSS-FFF R", pn);
	memcpy(id->board, pn + 5, 4);
	memcpy(id->sku, pn + 10, 4);
	memcpy(id->fab, pn + 15, 3);
	const char *space = strchr(pn + 18, ' ');
	if (space)
		snprintf(id->rev, sizeof(id->rev), "%s", space + 1);
	identify_normalise_fab(id);
	return 0;
}

int identify_set_chip_sku(struct board_id *id, const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	const char *digits = text;
	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
		digits += 2;
	char *end;
	errno = 0;
	/* always hex: NVIDIA writes chip SKUs as D0, D3, ... */
	unsigned long v = isxdigit((unsigned char)*digits) ? strtoul(digits, &end, 16) : 0;
	if (!isxdigit((unsigned char)*digits))
		end = (char *)(uintptr_t)digits;
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == digits || *end || v > 0xff)
		return err_set("chip SKU '%s' is not a byte in hex (such as D0)", text);
	snprintf(id->chip_sku, sizeof(id->chip_sku), "%02lX", v);
	return 0;
}

/*
 * NVIDIA's compat spec (DESIGN.md §5): rules confirmed for the AGX Orin module; other boards
 * keep their FAB as read. Each rule: board, SKU ("" = any), what to do with the FAB.
 */
enum fab_rule {
	FAB_BELOW_300_IS_000, /* fab < 300 -> "000", else "300" */
	FAB_IGNORED,          /* any fab matches */
};

static const struct {
	const char *board, *sku;
	enum fab_rule rule;
} compat_rules[] = {
	{ "3701", "0000", FAB_BELOW_300_IS_000 },
	{ "3701", "0004", FAB_IGNORED },
	{ "3701", "0005", FAB_IGNORED },
	{ "3701", "0008", FAB_IGNORED },
};

void identify_normalise_fab(struct board_id *id)
{
	snprintf(id->compat_fab, sizeof(id->compat_fab), "%s", id->fab);
	for (size_t i = 0; i < sizeof(compat_rules) / sizeof(compat_rules[0]); i++) {
		if (strcmp(compat_rules[i].board, id->board) != 0 ||
		    (compat_rules[i].sku[0] && strcmp(compat_rules[i].sku, id->sku) != 0))
			continue;
		if (compat_rules[i].rule == FAB_IGNORED) {
			id->compat_fab[0] = '\0';
		} else {
			/* FABs are three digits; letters (engineering samples) sort above */
			int below = all_digits(id->fab, 3) && atoi(id->fab) < 300;
			snprintf(id->compat_fab, sizeof(id->compat_fab), "%s", below ? "000" : "300");
		}
		return;
	}
}

int identify_variant_matches(const struct pkg_variant *v, const struct board_id *id)
{
	if (v->board[0] && strcmp(v->board, id->board) != 0)
		return 0;
	if (v->sku[0] && strcmp(v->sku, id->sku) != 0)
		return 0;
	/* a board whose FAB does not matter matches any variant FAB */
	if (v->fab[0] && id->compat_fab[0] && strcmp(v->fab, id->compat_fab) != 0)
		return 0;
	if (v->chip_sku[0] && strcasecmp(v->chip_sku, id->chip_sku) != 0)
		return 0;
	return 1;
}

void identify_describe(const struct board_id *id, char *out, size_t size)
{
	snprintf(out, size, "board %s SKU %s FAB %s (compat %s) rev %s chip %s", id->board,
		 id->sku, id->fab, id->compat_fab[0] ? id->compat_fab : "any",
		 id->rev[0] ? id->rev : "?", id->chip_sku[0] ? id->chip_sku : "unknown");
}

int identify_pick_variant(const struct pkg_manifest *m, const struct board_id *id)
{
	int found = -1, matches = 0;
	char offers[ERR_MSG_MAX / 2] = "";
	size_t used = 0;
	for (uint32_t i = 0; i < m->variant_count; i++) {
		struct pkg_variant v;
		pkg_manifest_variant(m, i, &v);
		if (identify_variant_matches(&v, id)) {
			if (matches++ == 0)
				found = (int)i;
		}
		int n = snprintf(offers + used, sizeof(offers) - used, "%s%s(%s/%s/%s/%s)",
				 i ? ", " : "", v.name, v.board[0] ? v.board : "*",
				 v.sku[0] ? v.sku : "*", v.fab[0] ? v.fab : "*",
				 v.chip_sku[0] ? v.chip_sku : "*");
		if (n > 0 && (size_t)n < sizeof(offers) - used)
			used += (size_t)n;
	}
	char me[160];
	identify_describe(id, me, sizeof(me));
	if (matches == 0)
		return err_set("no variant for this board: %s; the package offers %s", me, offers);
	if (matches > 1)
		return err_set("%d variants match this board (%s): %s", matches, me, offers);
	return found;
}

int identify_read_board(const char *eeprom_path, const char *chip_sku, const char *chip_sku_file,
			struct board_id *id)
{
	if (!eeprom_path)
		return err_set("no module EEPROM to identify the board by");
	size_t len;
	char *ee = read_small_file(eeprom_path, 4096, &len);
	if (!ee)
		return err_prefix("module EEPROM");
	int rc = identify_parse_eeprom((const uint8_t *)ee, len, id);
	free(ee);
	if (rc != 0)
		return err_prefix("%s", eeprom_path);
	if (chip_sku)
		return identify_set_chip_sku(id, chip_sku);
	if (!chip_sku_file)
		return 0;
	char *text = read_small_file(chip_sku_file, 64, &len);
	if (!text)
		return 0;
	rc = identify_set_chip_sku(id, text);
	free(text);
	return rc != 0 ? err_prefix("%s", chip_sku_file) : 0;
}
