/* SPDX-License-Identifier: MIT */
/* Verify: signature first, then the manifest is decoded; unsigned only in development mode. */
#include "verify.h"

#include "error.h"
#include "keys.h"

int verify_package(struct pkg_file *pkg, const char *pubkey_path, int allow_unsigned, FILE *log)
{
	if (pubkey_path) {
		struct pkg_pubkey key;
		if (pkg_pubkey_load(pubkey_path, &key) != 0)
			return -1;
		return pkg_file_authenticate(pkg, &key);
	}
	if (!allow_unsigned)
		return err_set("no trusted public key: refusing to flash");
	if (pkg->header.flags & PKG_FLAG_SIGNED)
		return err_set("package is signed but no key was given to check it");
	fprintf(log, "flasher: WARNING: DEVELOPMENT MODE: flashing an UNSIGNED package\n");
	return pkg_file_decode_unverified(pkg);
}
