/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 for chunk hashes and signatures. One interface; the implementation behind it is
 * BearSSL's portable code. (The hot path will get the CPU's SHA instructions behind the same
 * interface, checked against the same known-answer vectors.)
 */
#ifndef SELFFLASH_SHA256_H
#define SELFFLASH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl_hash.h>

#define SHA256_LEN 32

/* Incremental hashing context; needs no cleanup. */
struct sha256 {
	br_sha256_context br;
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, uint8_t out[SHA256_LEN]);

/* One-shot hash of a buffer. */
void sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* Lower-case hex of a digest into out (65 bytes with the NUL). */
void sha256_hex(const uint8_t digest[SHA256_LEN], char out[2 * SHA256_LEN + 1]);

#endif
