/* SPDX-License-Identifier: MIT */
/* Trusted public key and package signature verification (BearSSL ECDSA P-256). */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl_ec.h>
#include <bearssl_pem.h>

#include "error.h"

/* SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, up to the point */
static const uint8_t spki_p256_prefix[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

struct pem_sink {
	uint8_t *out;
	size_t max, len;
	int overflow;
};

static void pem_append(void *ctx, const void *data, size_t len)
{
	struct pem_sink *s = ctx;
	if (len > s->max - s->len) {
		s->overflow = 1;
		return;
	}
	memcpy(s->out + s->len, data, len);
	s->len += len;
}

long pem_decode(const char *text, size_t len, const char *banner, uint8_t *out, size_t max)
{
	br_pem_decoder_context pc;
	struct pem_sink sink = { out, max, 0, 0 };
	int inside = 0;
	br_pem_decoder_init(&pc);
	while (len > 0) {
		size_t used = br_pem_decoder_push(&pc, text, len);
		text += used;
		len -= used;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			inside = strcmp(br_pem_decoder_name(&pc), banner) == 0;
			sink.len = 0;
			br_pem_decoder_setdest(&pc, inside ? pem_append : NULL, &sink);
			break;
		case BR_PEM_END_OBJ:
			if (inside) {
				if (sink.overflow)
					return err_set("PEM %s is larger than %zu bytes", banner, max);
				return (long)sink.len;
			}
			break;
		case BR_PEM_ERROR:
			return err_set("malformed PEM");
		default:
			break;
		}
	}
	return err_set("no PEM object '%s' found", banner);
}

void pkg_pubkey_set_id(struct pkg_pubkey *key)
{
	uint8_t digest[SHA256_LEN];
	sha256_buffer(key->point, P256_POINT_LEN, digest);
	memcpy(key->key_id, digest, PKG_KEY_ID_LEN);
}

void pkg_key_id_hex(const uint8_t id[PKG_KEY_ID_LEN], char out[2 * PKG_KEY_ID_LEN + 1])
{
	for (int i = 0; i < PKG_KEY_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

int pkg_pubkey_parse_pem(const char *text, size_t len, struct pkg_pubkey *key)
{
	uint8_t der[256];
	long n = pem_decode(text, len, "PUBLIC KEY", der, sizeof(der));
	if (n < 0)
		return err_prefix("public key");
	if ((size_t)n != sizeof(spki_p256_prefix) + P256_POINT_LEN ||
	    memcmp(der, spki_p256_prefix, sizeof(spki_p256_prefix)) != 0)
		return err_set("public key: not an uncompressed ECDSA P-256 key");
	memcpy(key->point, der + sizeof(spki_p256_prefix), P256_POINT_LEN);
	/* multiplying by 1 makes BearSSL decode and check the point */
	uint8_t check[P256_POINT_LEN];
	memcpy(check, key->point, P256_POINT_LEN);
	if (key->point[0] != 0x04 ||
	    !br_ec_get_default()->mul(check, P256_POINT_LEN, (const uint8_t *)"\x01", 1,
				      BR_EC_secp256r1))
		return err_set("public key: not a point on P-256");
	pkg_pubkey_set_id(key);
	return 0;
}

int pkg_pubkey_load(const char *path, struct pkg_pubkey *key)
{
	size_t len;
	char *text = read_small_file(path, 65536, &len);
	if (!text)
		return -1;
	int rc = pkg_pubkey_parse_pem(text, len, key);
	free(text);
	return rc ? err_prefix("%s", path) : 0;
}

void pkg_signed_digest(const uint8_t *header64, const uint8_t *manifest, uint64_t manifest_size,
		       uint8_t digest[SHA256_LEN])
{
	struct sha256 ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, header64, PKG_HEADER_SIZE);
	/* the manifest is bounded (PKG_MAX_MANIFEST_SIZE) so it fits size_t */
	sha256_update(&ctx, manifest, (size_t)manifest_size);
	sha256_final(&ctx, digest);
}

int pkg_verify_signature(const struct pkg_pubkey *key, const struct pkg_header *h,
			 const uint8_t *header64, const uint8_t *manifest, uint64_t manifest_size)
{
	if (!(h->flags & PKG_FLAG_SIGNED))
		return err_set("package is not signed");
	if (memcmp(h->key_id, key->key_id, PKG_KEY_ID_LEN) != 0) {
		char have[2 * PKG_KEY_ID_LEN + 1], want[2 * PKG_KEY_ID_LEN + 1];
		pkg_key_id_hex(h->key_id, have);
		pkg_key_id_hex(key->key_id, want);
		return err_set("package is signed by another key (key id %s, trusted key %s)", have,
			       want);
	}
	uint8_t digest[SHA256_LEN];
	pkg_signed_digest(header64, manifest, manifest_size, digest);
	if (pkg_verify_digest(key, digest, h->sig, h->sig_len) != 0)
		return err_set("signature does not match the header and manifest");
	return 0;
}

int pkg_verify_digest(const struct pkg_pubkey *key, const uint8_t digest[SHA256_LEN],
		      const uint8_t *sig, size_t sig_len)
{
	br_ec_public_key pk = {
		.curve = BR_EC_secp256r1,
		.q = (unsigned char *)(uintptr_t)key->point,
		.qlen = P256_POINT_LEN,
	};
	if (!br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), digest, SHA256_LEN, &pk, sig,
					       sig_len))
		return err_set("signature does not match");
	return 0;
}
