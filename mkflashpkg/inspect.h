/* SPDX-License-Identifier: MIT */
/* Reading a package file on the host: show its manifest, verify all of it. */
#ifndef SELFFLASH_INSPECT_H
#define SELFFLASH_INSPECT_H

#include <stdio.h>

#include "keys.h"
#include "pkg.h"
#include "pkg_file.h"

/* Prints the manifest as text; with chunks != 0 one line per chunk as well. */
void pkg_file_show(const struct pkg_file *f, FILE *out, int chunks);

/*
 * Verifies everything: the signature against key (NULL: accept an unsigned package), then
 * the manifest (decoded only after the signature holds), then every chunk (unpacked and
 * hashed). Prints a summary on success; 0 or -1.
 */
int pkg_file_verify(struct pkg_file *f, const struct pkg_pubkey *key, FILE *out);

#endif
