/* SPDX-License-Identifier: MIT */
/*
 * Where a board keeps what identifies it (common/identify.h reads it): the module EEPROM and
 * the chip SKU, on a Jetson and on the QEMU board. Looked up below a root prefix so tests can
 * hand it a fake tree.
 */
#ifndef SELFFLASH_DISCOVER_H
#define SELFFLASH_DISCOVER_H

#include <stddef.h>

/*
 * The module EEPROM: the first place a board keeps it that can be read below root ("" for the
 * running system). Writes root and the place into path (size bytes) and returns the place
 * without the root (a constant string); NULL, and path untouched, when no board place holds
 * one (a host, or a QEMU board started without an EEPROM).
 */
const char *discover_eeprom(const char *root, char *path, size_t size);

/* The places discover_eeprom() looks, for a message: "A or B" into text (size bytes, cut
 * short if it must be). */
void discover_eeprom_places(char *text, size_t size);

/*
 * The file that holds the chip SKU as text, as discover_eeprom() finds and returns places. The
 * QEMU board has one; a Jetson has none here: its configuration names chip-sku or
 * chip-sku-file, else the board is identified by its EEPROM alone.
 */
const char *discover_chip_sku_file(const char *root, char *path, size_t size);

#endif
