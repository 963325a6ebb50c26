/* SPDX-License-Identifier: MIT */
/*
 * Board identity: the module EEPROM (DESIGN.md §5), the chip SKU, NVIDIA's normalisation of
 * the two into a "compat spec", and the choice of the package variant that matches it.
 */
#ifndef SELFFLASH_IDENTIFY_H
#define SELFFLASH_IDENTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"

#define EEPROM_SIZE 256

struct board_id {
	uint16_t eeprom_version;
	char part_number[32]; /* e.g. "699-13701-0005-500 M.0" */
	char board[8];        /* "3701" */
	char sku[8];          /* "0005" */
	char fab[8];          /* as read: "500" */
	char rev[8];          /* "M.0" */
	char serial[16];
	char chip_sku[8];     /* "D0"; "" when unknown */
	char compat_fab[8];   /* fab after normalisation; "" = fab does not matter */
};

/* CRC-8/MAXIM (polynomial 0x31 reflected, initial value 0), as the EEPROM's last byte. */
uint8_t identify_crc8_maxim(const uint8_t *data, size_t len);

/*
 * Parses a module EEPROM image of exactly EEPROM_SIZE bytes: checks the CRC and the part
 * number's shape, fills id (chip_sku left empty) and normalises the FAB. Returns 0, or -1
 * with err_msg() naming what is wrong ("EEPROM CRC is 0x12, the data gives 0x34").
 */
int identify_parse_eeprom(const uint8_t *eeprom, size_t len, struct board_id *id);

/* Sets id->chip_sku from text such as "0xD0", "D0" or "208"; 0 or -1. */
int identify_set_chip_sku(struct board_id *id, const char *text);

/* NVIDIA's compat-spec FAB for a board (see the table in identify.c). */
void identify_normalise_fab(struct board_id *id);

/* Whether variant v matches the board (empty variant fields match anything). */
int identify_variant_matches(const struct pkg_variant *v, const struct board_id *id);

/*
 * Picks the one variant of m that matches the board. No match, or more than one, is an error
 * listing what the board is and what the package offers. Returns the index or -1.
 */
int identify_pick_variant(const struct pkg_manifest *m, const struct board_id *id);

/*
 * Identifies the board: parses the module EEPROM image at eeprom_path, then sets the chip SKU
 * from chip_sku (text) or, when that is NULL, from the file chip_sku_file if it can be read
 * (the fuse's sysfs file; a board without it is identified by its EEPROM alone). 0 or -1
 * naming the file and what is wrong.
 */
int identify_read_board(const char *eeprom_path, const char *chip_sku, const char *chip_sku_file,
			struct board_id *id);

/* One line describing the board, for logs and errors. */
void identify_describe(const struct board_id *id, char *out, size_t size);

#endif
