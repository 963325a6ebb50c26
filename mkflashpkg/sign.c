/* SPDX-License-Identifier: MIT */
/* P-256 signing keys: generation, PEM files, deterministic ECDSA signatures (BearSSL). */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <bearssl_ec.h>
#include <bearssl_pem.h>
#include <bearssl_rand.h>
#include <bearssl_x509.h>

#include "error.h"

static const uint8_t spki_p256_prefix[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

static int set_public(struct pkg_privkey *key)
{
	br_ec_private_key sk = { BR_EC_secp256r1, key->x, sizeof(key->x) };
	br_ec_public_key pk;
	uint8_t buf[BR_EC_KBUF_PUB_MAX_SIZE];
	if (br_ec_compute_pub(br_ec_get_default(), &pk, buf, &sk) != P256_POINT_LEN)
		return err_set("cannot compute the public key");
	memcpy(key->pub.point, pk.q, P256_POINT_LEN);
	pkg_pubkey_set_id(&key->pub);
	return 0;
}

int pkg_keygen(struct pkg_privkey *key)
{
	uint8_t seed[48];
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return err_set("getrandom: %s", strerror(errno));
	br_hmac_drbg_context rng;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	br_ec_private_key sk;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	size_t n = br_ec_keygen(&rng.vtable, br_ec_get_default(), &sk, kbuf, BR_EC_secp256r1);
	if (n != sizeof(key->x))
		return err_set("key generation failed");
	memcpy(key->x, sk.x, sizeof(key->x));
	memset(kbuf, 0, sizeof(kbuf));
	return set_public(key);
}

int pkg_privkey_load(const char *path, struct pkg_privkey *key)
{
	size_t len;
	char *text = read_small_file(path, 65536, &len);
	if (!text)
		return -1;
	uint8_t der[512];
	long n = pem_decode(text, len, "EC PRIVATE KEY", der, sizeof(der));
	if (n < 0)
		n = pem_decode(text, len, "PRIVATE KEY", der, sizeof(der));
	memset(text, 0, len);
	free(text);
	if (n < 0)
		return err_set("%s: no \"EC PRIVATE KEY\" or \"PRIVATE KEY\" PEM object", path);
	br_skey_decoder_context dc;
	br_skey_decoder_init(&dc);
	br_skey_decoder_push(&dc, der, (size_t)n);
	memset(der, 0, sizeof(der));
	const br_ec_private_key *sk =
		br_skey_decoder_last_error(&dc) == 0 && br_skey_decoder_key_type(&dc) == BR_KEYTYPE_EC
			? br_skey_decoder_get_ec(&dc)
			: NULL;
	if (!sk)
		return err_set("%s: not an EC private key", path);
	if (sk->curve != BR_EC_secp256r1 || sk->xlen > sizeof(key->x))
		return err_set("%s: key is not on P-256", path);
	/* SEC1 may drop leading zero bytes of the scalar */
	memset(key->x, 0, sizeof(key->x));
	memcpy(key->x + sizeof(key->x) - sk->xlen, sk->x, sk->xlen);
	memset(&dc, 0, sizeof(dc));
	return set_public(key);
}

int pkg_pubkey_pem(const struct pkg_pubkey *key, char *out, size_t size)
{
	uint8_t der[sizeof(spki_p256_prefix) + P256_POINT_LEN];
	memcpy(der, spki_p256_prefix, sizeof(spki_p256_prefix));
	memcpy(der + sizeof(spki_p256_prefix), key->point, P256_POINT_LEN);
	size_t need = br_pem_encode(NULL, der, sizeof(der), "PUBLIC KEY", BR_PEM_LINE64);
	if (need + 1 > size)
		return err_set("PEM buffer too small");
	br_pem_encode(out, der, sizeof(der), "PUBLIC KEY", BR_PEM_LINE64);
	return 0;
}

static int write_new_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	if (n != (ssize_t)len || close(fd) != 0) {
		unlink(path);
		return err_set("%s: write failed", path);
	}
	return 0;
}

int pkg_keys_write(const struct pkg_privkey *key, const char *base)
{
	char keypath[4096], pubpath[4096];
	if (snprintf(keypath, sizeof(keypath), "%s.key", base) >= (int)sizeof(keypath) ||
	    snprintf(pubpath, sizeof(pubpath), "%s.pub", base) >= (int)sizeof(pubpath))
		return err_set("key file name too long");
	br_ec_private_key sk = { BR_EC_secp256r1, (unsigned char *)(uintptr_t)key->x,
				 sizeof(key->x) };
	br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)(uintptr_t)key->pub.point,
				P256_POINT_LEN };
	uint8_t der[256];
	size_t der_len = br_encode_ec_raw_der(NULL, &sk, &pk);
	if (der_len == 0 || der_len > sizeof(der))
		return err_set("cannot encode the private key");
	br_encode_ec_raw_der(der, &sk, &pk);
	char keypem[1024], pubpem[256];
	if (br_pem_encode(NULL, der, der_len, "EC PRIVATE KEY", BR_PEM_LINE64) + 1 > sizeof(keypem))
		return err_set("PEM buffer too small");
	br_pem_encode(keypem, der, der_len, "EC PRIVATE KEY", BR_PEM_LINE64);
	memset(der, 0, sizeof(der));
	int rc = pkg_pubkey_pem(&key->pub, pubpem, sizeof(pubpem));
	if (rc == 0)
		rc = write_new_file(keypath, keypem, 0600);
	if (rc == 0 && write_new_file(pubpath, pubpem, 0644) != 0) {
		unlink(keypath);
		rc = -1;
	}
	memset(keypem, 0, sizeof(keypem));
	return rc;
}

int pkg_sign_digest(const struct pkg_privkey *key, const uint8_t digest[SHA256_LEN],
		    uint8_t sig[PKG_SIG_MAX], uint32_t *len)
{
	br_ec_private_key sk = { BR_EC_secp256r1, (unsigned char *)(uintptr_t)key->x,
				 sizeof(key->x) };
	size_t n = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable, digest,
						    &sk, sig);
	if (n == 0 || n > PKG_SIG_MAX)
		return err_set("signing failed");
	*len = (uint32_t)n;
	return 0;
}
