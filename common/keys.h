/* SPDX-License-Identifier: MIT */
/*
 * Package signature verification and the public key it trusts. Keys are ECDSA P-256 in the
 * usual PEM files: the public key as "PUBLIC KEY" (SubjectPublicKeyInfo), the private key as
 * "EC PRIVATE KEY" (SEC1) or "PRIVATE KEY" (PKCS#8), the formats openssl reads and writes.
 * The signature is ASN.1 DER over SHA-256 of header || manifest.
 */
#ifndef SELFFLASH_KEYS_H
#define SELFFLASH_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "io.h" /* read_small_file, for the key files */
#include "pkg.h"

#define P256_POINT_LEN 65 /* 0x04 || X || Y */

struct pkg_pubkey {
	uint8_t point[P256_POINT_LEN];
	uint8_t key_id[PKG_KEY_ID_LEN]; /* first bytes of SHA-256 of the point */
};

/* Parses a PEM "PUBLIC KEY" holding a P-256 point that lies on the curve; 0 or -1. */
int pkg_pubkey_parse_pem(const char *text, size_t len, struct pkg_pubkey *key);

/* Reads and parses a public key file (at most 64 KiB); 0 or -1 naming the file. */
int pkg_pubkey_load(const char *path, struct pkg_pubkey *key);

/* Sets key->key_id from key->point. */
void pkg_pubkey_set_id(struct pkg_pubkey *key);

/* Lower-case hex of a key id (17 bytes with the NUL). */
void pkg_key_id_hex(const uint8_t id[PKG_KEY_ID_LEN], char out[2 * PKG_KEY_ID_LEN + 1]);

/* The digest that is signed: SHA-256(header64 || manifest). */
void pkg_signed_digest(const uint8_t *header64, const uint8_t *manifest, uint64_t manifest_size,
		       uint8_t digest[SHA256_LEN]);

/* Checks a DER ECDSA signature over a SHA-256 digest; 0, or -1 with err_msg(). */
int pkg_verify_digest(const struct pkg_pubkey *key, const uint8_t digest[SHA256_LEN],
		      const uint8_t *sig, size_t sig_len);

/*
 * Checks a package's signature against the trusted key. Fails, naming the reason, when the
 * package is unsigned, was signed by another key (key ids differ) or the signature does not
 * match. Returns 0 or -1.
 */
int pkg_verify_signature(const struct pkg_pubkey *key, const struct pkg_header *h,
			 const uint8_t *header64, const uint8_t *manifest, uint64_t manifest_size);

/* Decodes the first PEM object labelled `banner` in text into out; returns its length or -1. */
long pem_decode(const char *text, size_t len, const char *banner, uint8_t *out, size_t max);

#endif
