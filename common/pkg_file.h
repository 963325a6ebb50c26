/* SPDX-License-Identifier: MIT */
/*
 * A package in a file (an embedded package on the board, any package on the host): the
 * header and manifest are read and fully checked on open; the signature is the caller's to
 * check (keys.h), before anything is written.
 */
#ifndef SELFFLASH_PKG_FILE_H
#define SELFFLASH_PKG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"

struct pkg_file {
	int fd;
	struct pkg_header header;
	uint8_t prefix[PKG_PREFIX_SIZE];
	uint8_t *manifest_buf;
	struct pkg_manifest manifest;
};

/* Opens a package and checks its header and manifest (not the signature); 0 or -1. */
int pkg_file_open(const char *path, struct pkg_file *f);

/* Reads len bytes at file offset off; 0 or -1. */
int pkg_file_read(const struct pkg_file *f, void *buf, size_t len, uint64_t off);

void pkg_file_close(struct pkg_file *f);

#endif
