/* SPDX-License-Identifier: MIT */
/*
 * The board-variant table: which boards a package is for and which files each gets.
 * One line per variant, white-space separated, '#' starts a comment:
 *
 *   # name     board  sku   fab  chip  [KEY=FILE ...]
 *   agx-64gb   3701   0005  -    D0    DTB_FILE=tegra234-p3701-0005.dtb
 *
 * '-' matches any value. KEY=FILE gives this variant its own file for a layout placeholder
 * (or a partition name); relative paths are relative to the table's directory.
 */
#ifndef SELFFLASH_VARIANTS_H
#define SELFFLASH_VARIANTS_H

#include <stddef.h>

#include "pkg.h"

#define VARIANT_MAX_FILES 64

struct variant_file {
	char key[128];
	char path[1024];
};

struct variant {
	struct pkg_variant v;
	struct variant_file files[VARIANT_MAX_FILES];
	size_t nfiles;
};

/* Parses a table (text of len bytes, from a file in directory dir). 0 or -1. */
int variants_parse(const char *text, size_t len, const char *dir, struct variant *out,
		   size_t max, size_t *count);

/* The file this variant names for key, or NULL. */
const char *variant_file_for(const struct variant *v, const char *key);

#endif
