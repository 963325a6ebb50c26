/* SPDX-License-Identifier: MIT */
/*
 * Board inventory: what the flasher can see before it touches anything. Read from sysfs,
 * below a root prefix so tests can hand it a fake tree.
 */
#ifndef SELFFLASH_INVENTORY_H
#define SELFFLASH_INVENTORY_H

#include <stdio.h>

/*
 * Prints one line per MTD device, block device (whole disks only), virtio port and EEPROM
 * source found below `root` ("" for the running system), each starting "inventory: ".
 * Missing sysfs classes are not errors (a board may have no MTD at all); an attribute that
 * exists but cannot be parsed is printed as "?" so the line still names the device.
 * Returns the number of devices printed.
 */
int inventory_print(FILE *out, const char *root);

#endif
