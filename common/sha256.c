/* SPDX-License-Identifier: MIT */
/*
 * SHA-256: picks the backend once per process and does the buffering and padding for the
 * accelerated ones, which only know whole 64-byte blocks. BearSSL's code does its own.
 */
#include "sha256.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sha256_impl.h"

const uint32_t sha256_round_constants[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* FIPS 180-4 §5.3.3 */
static const uint32_t sha256_initial_state[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

typedef void (*sha256_blocks_fn)(uint32_t state[8], const uint8_t *data, size_t nblocks);

static const struct {
	const char *name;
	sha256_blocks_fn blocks; /* NULL: BearSSL, or not in this build */
	int (*detect)(void);     /* NULL: always available (portable) or not in this build */
} sha256_backends[SHA256_BACKEND_COUNT] = {
	[SHA256_BACKEND_PORTABLE] = { "portable", NULL, NULL },
#ifdef SHA256_HAVE_X86
	[SHA256_BACKEND_X86_SHANI] = { "x86-sha-ni", sha256_x86_blocks, sha256_x86_detect },
#else
	[SHA256_BACKEND_X86_SHANI] = { "x86-sha-ni", NULL, NULL },
#endif
#ifdef SHA256_HAVE_ARM
	[SHA256_BACKEND_ARMV8] = { "armv8-sha2", sha256_arm_blocks, sha256_arm_detect },
#else
	[SHA256_BACKEND_ARMV8] = { "armv8-sha2", NULL, NULL },
#endif
};

/* Written once under pthread_once, read-only afterwards. */
static enum sha256_backend_id sha256_default = SHA256_BACKEND_PORTABLE;
static pthread_once_t sha256_default_once = PTHREAD_ONCE_INIT;

static void sha256_choose_default(void)
{
	const char *force = getenv("SELFFLASH_SHA256");
	if (force && strcmp(force, "portable") == 0)
		return;
	for (int id = SHA256_BACKEND_COUNT - 1; id > SHA256_BACKEND_PORTABLE; id--) {
		if (sha256_backend_available((enum sha256_backend_id)id)) {
			sha256_default = (enum sha256_backend_id)id;
			return;
		}
	}
}

static enum sha256_backend_id sha256_default_backend(void)
{
	pthread_once(&sha256_default_once, sha256_choose_default);
	return sha256_default;
}

const char *sha256_backend(void)
{
	return sha256_backends[sha256_default_backend()].name;
}

const char *sha256_backend_name(enum sha256_backend_id id)
{
	if ((unsigned)id >= SHA256_BACKEND_COUNT)
		return "?";
	return sha256_backends[id].name;
}

int sha256_backend_available(enum sha256_backend_id id)
{
	if ((unsigned)id >= SHA256_BACKEND_COUNT)
		return 0;
	if (id == SHA256_BACKEND_PORTABLE)
		return 1;
	return sha256_backends[id].blocks != NULL && sha256_backends[id].detect() != 0;
}

static void sha256_start(struct sha256 *ctx, enum sha256_backend_id id)
{
	ctx->blocks = sha256_backends[id].blocks;
	if (ctx->blocks == NULL) {
		br_sha256_init(&ctx->u.br);
		return;
	}
	memcpy(ctx->u.hw.state, sha256_initial_state, sizeof(sha256_initial_state));
	ctx->u.hw.count = 0;
}

int sha256_init_backend(struct sha256 *ctx, enum sha256_backend_id id)
{
	if (!sha256_backend_available(id))
		return err_set("SHA-256 backend %s (%d): expected one this build and CPU have, "
			       "this one is not", sha256_backend_name(id), (int)id);
	sha256_start(ctx, id);
	return 0;
}

void sha256_init(struct sha256 *ctx)
{
	sha256_start(ctx, sha256_default_backend());
}

void sha256_update(struct sha256 *ctx, const void *data, size_t len)
{
	if (ctx->blocks == NULL) {
		br_sha256_update(&ctx->u.br, data, len);
		return;
	}
	if (len == 0)
		return; /* data may be NULL then */
	const uint8_t *p = data;
	size_t used = (size_t)(ctx->u.hw.count & 63);
	/* The count wraps only after 2^64 bytes, far beyond SHA-256's limit of 2^64 bits. */
	ctx->u.hw.count += len;
	if (used != 0) {
		size_t take = 64 - used < len ? 64 - used : len;
		memcpy(ctx->u.hw.buf + used, p, take);
		p += take;
		len -= take;
		if (used + take < 64)
			return;
		ctx->blocks(ctx->u.hw.state, ctx->u.hw.buf, 1);
	}
	if (len >= 64) {
		ctx->blocks(ctx->u.hw.state, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	if (len != 0)
		memcpy(ctx->u.hw.buf, p, len);
}

static void sha256_put_be32(uint8_t *out, uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

void sha256_final(struct sha256 *ctx, uint8_t out[SHA256_LEN])
{
	if (ctx->blocks == NULL) {
		br_sha256_out(&ctx->u.br, out);
		return;
	}
	/* Padding (FIPS 180-4 §5.1.1) on copies, so ctx can go on. */
	uint32_t state[8];
	uint8_t last[128];
	size_t used = (size_t)(ctx->u.hw.count & 63);
	size_t n = used < 56 ? 64 : 128;
	memcpy(state, ctx->u.hw.state, sizeof(state));
	memcpy(last, ctx->u.hw.buf, used);
	last[used] = 0x80;
	memset(last + used + 1, 0, n - used - 1 - 8);
	uint64_t bits = ctx->u.hw.count << 3;
	sha256_put_be32(last + n - 8, (uint32_t)(bits >> 32));
	sha256_put_be32(last + n - 4, (uint32_t)bits);
	ctx->blocks(state, last, n / 64);
	for (int i = 0; i < 8; i++)
		sha256_put_be32(out + 4 * i, state[i]);
}

void sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256 ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, out);
}

void sha256_hex(const uint8_t digest[SHA256_LEN], char out[2 * SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}
