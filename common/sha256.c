/* SPDX-License-Identifier: MIT */
/* SHA-256 through BearSSL. */
#include "sha256.h"

void sha256_init(struct sha256 *ctx)
{
	br_sha256_init(&ctx->br);
}

void sha256_update(struct sha256 *ctx, const void *data, size_t len)
{
	br_sha256_update(&ctx->br, data, len);
}

void sha256_final(struct sha256 *ctx, uint8_t out[SHA256_LEN])
{
	br_sha256_out(&ctx->br, out);
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
