/* SPDX-License-Identifier: MIT */
/*
 * Kernel modules the initrd carries (the `module` lines of the config): loaded from their
 * files with finit_module(2) before anything needs them (the UDC and gadget drivers of a
 * Jetson kernel that does not build them in).
 */
#ifndef SELFFLASH_MODULES_H
#define SELFFLASH_MODULES_H

#include <stddef.h>
#include <stdio.h>

/*
 * Loads each of the n module files in order, reporting each on console (may be NULL). A
 * module that is already loaded counts as loaded. 0, or -1 at the first that failed, naming
 * it and the errno text.
 */
int modules_load(const char *const *paths, size_t n, FILE *console);

#endif
