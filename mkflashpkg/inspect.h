/* SPDX-License-Identifier: MIT */
/* Reading a package file on the host: show its manifest, verify all of it. */
#ifndef SELFFLASH_INSPECT_H
#define SELFFLASH_INSPECT_H

#include <stdio.h>

#include "keys.h"
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
void pkg_file_close(struct pkg_file *f);

/* Prints the manifest as text; with chunks != 0 one line per chunk as well. */
void pkg_file_show(const struct pkg_file *f, FILE *out, int chunks);

/*
 * Verifies everything: the signature against key (NULL: accept an unsigned package), then
 * every chunk (unpacked and hashed). Prints a summary on success; 0 or -1.
 */
int pkg_file_verify(const struct pkg_file *f, const struct pkg_pubkey *key, FILE *out);

#endif
