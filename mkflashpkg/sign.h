/* SPDX-License-Identifier: MIT */
/*
 * Signing keys (host side only): generate, read and write P-256 keys as PEM, sign a
 * package digest. The board only ever holds the public key (common/keys.h).
 */
#ifndef SELFFLASH_SIGN_H
#define SELFFLASH_SIGN_H

#include <stdint.h>

#include "keys.h"

struct pkg_privkey {
	uint8_t x[32];
	struct pkg_pubkey pub;
};

/* Generates a key from the system's random source; 0 or -1. */
int pkg_keygen(struct pkg_privkey *key);

/* Reads "EC PRIVATE KEY" (SEC1) or "PRIVATE KEY" (PKCS#8) PEM holding a P-256 key. */
int pkg_privkey_load(const char *path, struct pkg_privkey *key);

/* Writes BASE.key (mode 0600, never over an existing file) and BASE.pub; 0 or -1. */
int pkg_keys_write(const struct pkg_privkey *key, const char *base);

/* Writes the public key as PEM "PUBLIC KEY" to a string (at most 256 bytes with the NUL). */
int pkg_pubkey_pem(const struct pkg_pubkey *key, char *out, size_t size);

/* Signs a digest (deterministic, RFC 6979); DER signature into sig, length into *len. */
int pkg_sign_digest(const struct pkg_privkey *key, const uint8_t digest[SHA256_LEN],
		    uint8_t sig[PKG_SIG_MAX], uint32_t *len);

#endif
