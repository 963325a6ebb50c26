/* SPDX-License-Identifier: MIT */
/*
 * Verify: the package's signature over its header and manifest bytes is checked with the
 * board's trusted key, and only then is the manifest decoded (pkg_file_authenticate). Without
 * a key, only an initrd built for development accepts an unsigned package, and says so loudly.
 */
#ifndef SELFFLASH_VERIFY_H
#define SELFFLASH_VERIFY_H

#include <stdio.h>

#include "pkg_file.h"

/*
 * Authenticates pkg with the PEM public key at pubkey_path, then decodes its manifest. With
 * pubkey_path NULL: refused unless allow_unsigned, and then only an unsigned package (a signed
 * one needs its key), with a warning on log. 0 or -1 naming what failed.
 */
int verify_package(struct pkg_file *pkg, const char *pubkey_path, int allow_unsigned, FILE *log);

#endif
