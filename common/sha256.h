/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 for chunk hashes and signatures. One interface with several backends behind it:
 * the CPU's SHA instructions where it has them (x86-64 SHA-NI, ARMv8 SHA2), else BearSSL's
 * portable code. All of them give the same digests (tests/unit/test_sha256.c checks each one
 * against the same known-answer vectors and against BearSSL).
 */
#ifndef SELFFLASH_SHA256_H
#define SELFFLASH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl_hash.h>

#define SHA256_LEN 32

/* The implementations that can sit behind this interface. */
enum sha256_backend_id {
	SHA256_BACKEND_PORTABLE,  /* BearSSL's C code: any CPU */
	SHA256_BACKEND_X86_SHANI, /* x86-64 SHA extensions (CPUID.7.0:EBX bit 29) and SSE4.1 */
	SHA256_BACKEND_ARMV8,     /* ARMv8 Cryptography Extension SHA2 (AT_HWCAP & HWCAP_SHA2) */
	SHA256_BACKEND_COUNT
};

/*
 * Incremental hashing context; the caller owns it and it needs no cleanup. It may be copied
 * (to hash a common prefix once); a context is used by one thread at a time, different
 * contexts by any number of threads. Its contents are private.
 */
struct sha256 {
	/* The accelerated backend's block function, or NULL for BearSSL. */
	void (*blocks)(uint32_t state[8], const uint8_t *data, size_t nblocks);
	union {
		br_sha256_context br;
		struct {
			uint32_t state[8];
			uint64_t count; /* bytes hashed so far */
			uint8_t buf[64]; /* the partial block: count % 64 bytes */
		} hw;
	} u;
};

/* Starts a hash with the default backend (see sha256_backend()). */
void sha256_init(struct sha256 *ctx);

/* Adds len bytes at data (any alignment; len may be 0) to the hash. */
void sha256_update(struct sha256 *ctx, const void *data, size_t len);

/* Writes the digest of everything added so far to out. ctx is left as it was, so more data
 * may still be added (out is then the digest of a prefix). */
void sha256_final(struct sha256 *ctx, uint8_t out[SHA256_LEN]);

/* One-shot hash of a buffer with the default backend. */
void sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* Lower-case hex of a digest into out (65 bytes with the NUL). */
void sha256_hex(const uint8_t digest[SHA256_LEN], char out[2 * SHA256_LEN + 1]);

/*
 * Name of the backend that sha256_init() and sha256_buffer() use: "x86-sha-ni",
 * "armv8-sha2" or "portable" (a static string). The choice is made once per process, on
 * first use, safely from any thread: the fastest backend this CPU runs, unless the
 * environment variable SELFFLASH_SHA256 is "portable", which forces BearSSL's code (for
 * tests and benchmarks; other values are ignored).
 */
const char *sha256_backend(void);

/* Name of backend id ("portable", "x86-sha-ni", "armv8-sha2"; "?" for an unknown id). */
const char *sha256_backend_name(enum sha256_backend_id id);

/* 1 when backend id is built into this program and this CPU can run it, else 0. Ignores
 * SELFFLASH_SHA256. */
int sha256_backend_available(enum sha256_backend_id id);

/* Like sha256_init(), with the given backend. Returns 0, or -1 with err_msg() set when
 * sha256_backend_available(id) is 0 (ctx is then untouched). */
int sha256_init_backend(struct sha256 *ctx, enum sha256_backend_id id);

#endif
