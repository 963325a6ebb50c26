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

/* Where a package's bytes come from when it is not a local file (the link). */
typedef int (*pkg_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

struct pkg_file {
	int fd;
	pkg_read_fn read; /* NULL: pread on fd */
	void *read_ctx;
	struct pkg_header header;
	uint8_t prefix[PKG_PREFIX_SIZE];
	uint8_t *manifest_buf;
	struct pkg_manifest manifest;
};

/* Opens a package and checks its header and manifest (not the signature); 0 or -1. */
int pkg_file_open(const char *path, struct pkg_file *f);

/*
 * Opens a package of `size` bytes read through `read` (the link); name is for messages.
 * Same checks as pkg_file_open; 0 or -1.
 */
int pkg_file_open_reader(struct pkg_file *f, const char *name, uint64_t size, pkg_read_fn read,
			 void *ctx);

/* Reads len bytes at file offset off; 0 or -1. */
int pkg_file_read(const struct pkg_file *f, void *buf, size_t len, uint64_t off);

void pkg_file_close(struct pkg_file *f);

#endif
