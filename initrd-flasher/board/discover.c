/* SPDX-License-Identifier: MIT */
/* The places a board keeps its module EEPROM and chip SKU, tried in order. */
#include "discover.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

static const char *const eeprom_places[] = {
	/* module EEPROM on T194/T234 (I2C bus 0, address 0x50) */
	"/sys/bus/i2c/devices/0-0050/eeprom",
	/* the QEMU board: fed with -fw_cfg name=opt/selfflash/eeprom,file=... */
	"/sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw",
	NULL,
};

static const char *const chip_sku_places[] = {
	/* the QEMU board: fed with -fw_cfg name=opt/selfflash/chip_sku,string=D0 */
	"/sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/chip_sku/raw",
	NULL,
};

/* The first of places that can be read below root, as the interface says. */
static const char *first_readable(const char *const *places, const char *root, char *path,
				  size_t size)
{
	char at[PATH_MAX];
	for (const char *const *p = places; *p; p++) {
		int n = snprintf(at, sizeof(at), "%s%s", root, *p);
		if (n < 0 || (size_t)n >= sizeof(at) || (size_t)n >= size || access(at, R_OK) != 0)
			continue;
		snprintf(path, size, "%s", at);
		return *p;
	}
	return NULL;
}

const char *discover_eeprom(const char *root, char *path, size_t size)
{
	return first_readable(eeprom_places, root, path, size);
}

void discover_eeprom_places(char *text, size_t size)
{
	size_t at = 0;
	if (size)
		text[0] = '\0';
	for (const char *const *p = eeprom_places; *p && at < size; p++)
		at += (size_t)snprintf(text + at, size - at, "%s%s", at ? " or " : "", *p);
}

const char *discover_chip_sku_file(const char *root, char *path, size_t size)
{
	return first_readable(chip_sku_places, root, path, size);
}
