/* SPDX-License-Identifier: MIT */
/*
 * A package in a file (an embedded package on the board, any package on the host) or read
 * through a function (the link). Opening reads and checks the header and reads the manifest's
 * raw bytes; the manifest is decoded only by pkg_file_authenticate, after the signature over
 * those bytes holds (or, for inspection and development mode, by pkg_file_decode_unverified).
 */
#ifndef SELFFLASH_PKG_FILE_H
#define SELFFLASH_PKG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "pkg.h"

/* Where a package's bytes come from when it is not a local file (the link). */
typedef int (*pkg_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

struct pkg_file {
	int fd;
	pkg_read_fn read; /* NULL: pread on fd */
	void *read_ctx;
	struct pkg_header header;
	uint8_t prefix[PKG_PREFIX_SIZE];
	uint8_t *manifest_buf; /* the manifest's raw bytes, as signed */
	struct pkg_manifest manifest; /* valid once `decoded` */
	int decoded;
};

/* Opens a package: checks its header, reads the manifest bytes (not decoded); 0 or -1. */
int pkg_file_open(const char *path, struct pkg_file *f);

/*
 * Opens a package of `size` bytes read through `read` (the link); name is for messages.
 * Same as pkg_file_open; 0 or -1.
 */
int pkg_file_open_reader(struct pkg_file *f, const char *name, uint64_t size, pkg_read_fn read,
			 void *ctx);

/*
 * Checks the signature over the header and manifest bytes with `key`, and only when it holds
 * decodes and checks the manifest (f->manifest). 0, or -1 with the reason (another key, a
 * signature that does not match, an unsigned package, then a malformed manifest).
 */
int pkg_file_authenticate(struct pkg_file *f, const struct pkg_pubkey *key);

/*
 * Decodes and checks the manifest with no signature check: for inspecting a package
 * (`mkflashpkg show`) and for the loudly announced development mode; 0 or -1.
 */
int pkg_file_decode_unverified(struct pkg_file *f);

/* Reads len bytes at file offset off; 0 or -1. */
int pkg_file_read(const struct pkg_file *f, void *buf, size_t len, uint64_t off);

void pkg_file_close(struct pkg_file *f);

#endif
