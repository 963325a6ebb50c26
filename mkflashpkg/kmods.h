/* SPDX-License-Identifier: MIT */
/*
 * A kernel's module tree as depmod leaves it (lib/modules/KVER/modules.dep, modules.builtin):
 * which modules exist, which are built in, and what each needs loaded first. The flasher's
 * initrd has no modprobe, so the host resolves the order once and the flasher loads the files
 * one by one (board/modules.c).
 */
#ifndef SELFFLASH_KMODS_H
#define SELFFLASH_KMODS_H

#include <stddef.h>
#include <stdio.h>

#define KMODS_NAME_MAX 64
#define KMODS_MAX_DEPS 64    /* depmod lists all of a module's dependencies, transitively */
#define KMODS_MAX_ORDER 128  /* modules one initrd carries */

struct kmod {
	char name[KMODS_NAME_MAX]; /* "spi_nor": the file's base name, '-' read as '_' */
	char *path;                /* as modules.dep writes it, relative to the tree */
	unsigned deps[KMODS_MAX_DEPS];
	unsigned ndeps;
	int builtin;               /* from modules.builtin: no file, nothing to load */
};

struct kmods {
	char dir[4096];  /* lib/modules/KVER */
	struct kmod *mods;
	size_t count, cap;
};

/* Reads DIR/modules.dep and DIR/modules.builtin (which may be absent). 0 or -1 with err_msg(). */
int kmods_read(struct kmods *k, const char *dir);
void kmods_free(struct kmods *k);

/* The module called name ("spi-nor" and "spi_nor" are one name), or NULL. */
const struct kmod *kmods_find(const struct kmods *k, const char *name);

/*
 * Appends `name` and everything it needs to order[] (indexes into k->mods), dependencies
 * first, each once; a built-in module adds nothing. 0, or -1 with err_msg() naming the
 * module that is missing or the loop.
 */
int kmods_add(const struct kmods *k, const char *name, unsigned *order, size_t *count);

#endif
