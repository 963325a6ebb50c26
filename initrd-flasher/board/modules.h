/* SPDX-License-Identifier: MIT */
/*
 * Kernel modules the initrd carries (the `module` lines of the config): loaded from their
 * files with finit_module(2) before anything looks for a device (a Jetson kernel's QSPI,
 * EEPROM, disk, UDC and gadget drivers when it does not build them in).
 */
#ifndef SELFFLASH_MODULES_H
#define SELFFLASH_MODULES_H

#include <stddef.h>
#include <stdio.h>

/*
 * Loads each of the n module files in order, reporting each on console (may be NULL). A
 * module that is already loaded counts as loaded. No modprobe: each module's dependencies
 * come before it in paths, and so do modules the kernel would ask modprobe for
 * (request_module(), symbol_get()). 0, or -1 at the first that failed, naming it: a file not
 * there ("module nvme.ko: not in the initrd (/lib/modules/nvme.ko: ...)"), or the kernel's
 * refusal with what it means (a dependency not loaded yet, a module for another kernel).
 */
int modules_load(const char *const *paths, size_t n, FILE *console);

#endif
