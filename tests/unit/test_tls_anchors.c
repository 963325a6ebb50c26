/* SPDX-License-Identifier: MIT */
/*
 * The PEM bundle loader (tls_anchors.c): bundles of 0, 1 and 3 certificates, CRLF, garbage
 * between blocks, a non-certificate block, a block cut short, bad base64, a certificate
 * BearSSL cannot decode (named by its index), a missing file, a file over the size cap.
 * The anchors are checked field by field against the certificates below (made once with
 * `openssl req -x509`: EC P-256, RSA-1024 and EC P-384 self-signed CAs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/error.h"
#include "net/tls_internal.h"
#include "check.h"

static const char CERT_1[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgTCCASegAwIBAgIUQavQ12p70gfE4ZGQwo3HRWvHt2cwCgYIKoZIzj0EAwIw\n"
	"FTETMBEGA1UEAwwKdGVzdC1lYy1jYTAgFw0yNjEyMDExNjQ3MjBaGA8yMTI2MTEw\n"
	"NzE2NDcyMFowFTETMBEGA1UEAwwKdGVzdC1lYy1jYTBZMBMGByqGSM49AgEGCCqG\n"
	"SM49AwEHA0IABOtwyktey4ZrwO7RqslStzTERDKo+snBjFl3RiWtH6ESFpVVbgnU\n"
	"ZUZ5iodrlSLbjSlXS0e8xbHYs3NZLpwUss6jUzBRMB0GA1UdDgQWBBTCRX+l6JF/\n"
	"7jMeJvknQmEONWUdIjAfBgNVHSMEGDAWgBTCRX+l6JF/7jMeJvknQmEONWUdIjAP\n"
	"BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC+Y3dcqEcAtYy0dE6r\n"
	"tQMKrXxpLS3RA3zBln7wq5fIAwIgfdhpyglar7iYjf6ETvuRUoavilLAW3t5JJ+k\n"
	"L++xYxI=\n"
	"-----END CERTIFICATE-----\n"
	;
static const char CERT_2[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICCjCCAXOgAwIBAgIUE4jip4lUatBqz3iJk0uUnofyNwMwDQYJKoZIhvcNAQEL\n"
	"BQAwFjEUMBIGA1UEAwwLdGVzdC1yc2EtY2EwIBcNMjYxMjAxMTY0NzIwWhgPMjEy\n"
	"NjExMDcxNjQ3MjBaMBYxFDASBgNVBAMMC3Rlc3QtcnNhLWNhMIGfMA0GCSqGSIb3\n"
	"DQEBAQUAA4GNADCBiQKBgQC47R9AbDVZxdRC3PvrPQ+zaJPn77aNCv00E2lxDWDO\n"
	"BBOFNHEX890awf3llV/TLiIgb8y6kv7bRmhX+7hgr0M2CgALL80bpB0I9TE19MJQ\n"
	"KOISXEC36ThVSIw0qoaQWWatitpTwso+ekYAdXDLfi4UYf4QpoRnBawSW3Yd+iVY\n"
	"pwIDAQABo1MwUTAdBgNVHQ4EFgQUbBcxvcT6qb/2jCBkrsTE5yV7tzMwHwYDVR0j\n"
	"BBgwFoAUbBcxvcT6qb/2jCBkrsTE5yV7tzMwDwYDVR0TAQH/BAUwAwEB/zANBgkq\n"
	"hkiG9w0BAQsFAAOBgQCx7/U5ON6AvaVvU3dPsXjkENnD17Xi3JoxFcB5ACiP8Nac\n"
	"Zx3MU3OPdE71WOnk5IBrRDc0BC7S3Vr7boZoZ/wUNwXA4j20dfH2e4P1UZB3UjiD\n"
	"zEYsXRjblhljJ39ZkAC2dekVmsEPXC18bdBglzd1v1iMCelsikvrGOJvHDYMQQ==\n"
	"-----END CERTIFICATE-----\n"
	;
static const char CERT_3[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBwzCCAUqgAwIBAgIUV/VAg/Adi1SJZpea+xV9Fabc6uQwCgYIKoZIzj0EAwIw\n"
	"GDEWMBQGA1UEAwwNdGVzdC1lYzM4NC1jYTAgFw0yNjEyMDExNjQ3MjBaGA8yMTI2\n"
	"MTEwNzE2NDcyMFowGDEWMBQGA1UEAwwNdGVzdC1lYzM4NC1jYTB2MBAGByqGSM49\n"
	"AgEGBSuBBAAiA2IABLS9EpOi4iqqlxyJWE0Dqw0fQWUIW68jvyqAYmRJOf1oMYfR\n"
	"Yg3dkHVkOk/Dy2tE8+CzBhiitC2jdzEU4Pqvde7E3fW3F/oT+Wf8/EA2+Ji+Jcvp\n"
	"Pb/QbjZutXM8Xe5RtKNTMFEwHQYDVR0OBBYEFANFdPjFseW1egD/wbGtlIeRfX1I\n"
	"MB8GA1UdIwQYMBaAFANFdPjFseW1egD/wbGtlIeRfX1IMA8GA1UdEwEB/wQFMAMB\n"
	"Af8wCgYIKoZIzj0EAwIDZwAwZAIwRcSO8pJ1kssjxI0bf/Utg19z1tjbQTEBZBkN\n"
	"9LLQEZ67OYF2LwdujDlA+cf3f3KZAjATukbSTcTBUIBNMR0PQImegm1P00dvD1Bl\n"
	"JdLWTRxqSaNZjAWf1fH/KpGpBBF/Mes=\n"
	"-----END CERTIFICATE-----\n"
	;

static const char KEY_BLOCK[] = "-----BEGIN PRIVATE KEY-----\n"
				"MC4CAQAwBQYDK2VwBCIEIBm7oTY2Xr3l5F4zcBg3gEkx8ipqJ1F7cFp2TXLwrXb1\n"
				"-----END PRIVATE KEY-----\n";
/* valid base64 in a CERTIFICATE block, but the bytes are no DER certificate */
static const char NOT_DER_CERT[] = "-----BEGIN CERTIFICATE-----\n"
				   "aGVsbG8sIEkgYW0gbm90IGEgY2VydGlmaWNhdGUgYXQgYWxsIQ==\n"
				   "-----END CERTIFICATE-----\n";

static char dir[] = "/tmp/test_tls_anchors.XXXXXX";
static char path[300];

/* Writes len bytes of text to the bundle file; the file the loader reads. */
static void write_bundle(const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void write_text(const char *text)
{
	write_bundle(text, strlen(text));
}

/* Loads the bundle expecting failure, with a message that contains want. */
static int load_fails_with(const char *want)
{
	struct tls_anchors *a = (struct tls_anchors *)1;
	err_clear();
	if (tls_anchors_load(path, &a) != -1 || a != NULL)
		return 0;
	if (!strstr(err_msg(), want)) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err_msg(), want);
		return 0;
	}
	return 1;
}

static int dn_contains(const br_x509_trust_anchor *ta, const char *text)
{
	return memmem(ta->dn.data, ta->dn.len, text, strlen(text)) != NULL;
}

static void test_one_ec_certificate(void)
{
	write_text(CERT_1);
	struct tls_anchors *a = NULL;
	CHECK(tls_anchors_load(path, &a) == 0);
	CHECK(tls_anchors_count(a) == 1);
	const br_x509_trust_anchor *ta = &a->ta[0];
	CHECK(ta->flags == BR_X509_TA_CA);
	CHECK(dn_contains(ta, "test-ec-ca"));
	CHECK(ta->pkey.key_type == BR_KEYTYPE_EC);
	CHECK(ta->pkey.key.ec.curve == BR_EC_secp256r1);
	CHECK(ta->pkey.key.ec.qlen == 65 && ta->pkey.key.ec.q[0] == 0x04);
	tls_anchors_free(a);
}

/* Three certificates with garbage, a private key and a blank line between them. */
static void test_three_with_garbage_and_other_blocks(void)
{
	char text[4096];
	snprintf(text, sizeof(text), "# a comment\ngarbage -----\n%s\n%sstray words\n%s%s\n", CERT_1,
		 KEY_BLOCK, CERT_2, CERT_3);
	write_text(text);
	struct tls_anchors *a = NULL;
	CHECK(tls_anchors_load(path, &a) == 0);
	CHECK(tls_anchors_count(a) == 3);
	CHECK(dn_contains(&a->ta[0], "test-ec-ca"));
	CHECK(dn_contains(&a->ta[1], "test-rsa-ca"));
	CHECK(a->ta[1].pkey.key_type == BR_KEYTYPE_RSA);
	CHECK(a->ta[1].pkey.key.rsa.nlen >= 128 && a->ta[1].pkey.key.rsa.nlen <= 129);
	CHECK(a->ta[1].pkey.key.rsa.elen >= 1 && a->ta[1].pkey.key.rsa.elen <= 4);
	CHECK(dn_contains(&a->ta[2], "test-ec384-ca"));
	CHECK(a->ta[2].pkey.key.ec.curve == BR_EC_secp384r1);
	CHECK(a->ta[2].pkey.key.ec.qlen == 97);
	tls_anchors_free(a);
}

static void test_crlf_line_ends(void)
{
	char lf[4096], crlf[8192];
	snprintf(lf, sizeof(lf), "%s%s%s", CERT_1, CERT_2, CERT_3);
	size_t n = 0;
	for (const char *p = lf; *p; p++) {
		if (*p == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	write_bundle(crlf, n);
	struct tls_anchors *a = NULL;
	CHECK(tls_anchors_load(path, &a) == 0);
	CHECK(tls_anchors_count(a) == 3);
	CHECK(a->ta[1].pkey.key_type == BR_KEYTYPE_RSA);
	tls_anchors_free(a);
}

/* The last line without its newline still ends the block. */
static void test_no_final_newline(void)
{
	write_bundle(CERT_1, strlen(CERT_1) - 1);
	struct tls_anchors *a = NULL;
	CHECK(tls_anchors_load(path, &a) == 0);
	CHECK(tls_anchors_count(a) == 1);
	tls_anchors_free(a);
}

static void test_empty_file(void)
{
	write_text("");
	CHECK(load_fails_with("no certificate in it"));
	CHECK(strstr(err_msg(), "CA bundle") && strstr(err_msg(), path));
}

static void test_only_other_blocks(void)
{
	write_text(KEY_BLOCK);
	CHECK(load_fails_with("no certificate in it (1 other PEM blocks"));
	write_text("just some text\nwithout any PEM\n");
	CHECK(load_fails_with("no certificate in it (0 other PEM blocks"));
}

static void test_truncated_block(void)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%.*s", CERT_1, (int)(strlen(CERT_2) / 2), CERT_2);
	write_text(text);
	CHECK(load_fails_with("starts on line 12 has no END line"));
	/* cut at a line's end: whole base64 lines, no END line */
	snprintf(text, sizeof(text), "%s%.*s", CERT_1, (int)(strchr(CERT_2 + 28, '\n') - CERT_2 + 1),
		 CERT_2);
	write_text(text);
	CHECK(load_fails_with("starts on line 12 has no END line"));
}

static void test_bad_base64(void)
{
	write_text("-----BEGIN CERTIFICATE-----\nMIIB*gTCC\n-----END CERTIFICATE-----\n");
	CHECK(load_fails_with("line 2: not valid PEM"));
}

static void test_undecodable_certificate_named_by_index(void)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s%s", CERT_1, CERT_2, NOT_DER_CERT);
	write_text(text);
	CHECK(load_fails_with("certificate 3 cannot be decoded (BR_ERR_X509_"));
	/* a certificate cut inside its DER: its first 96 bytes (two lines of base64) */
	snprintf(text, sizeof(text), "-----BEGIN CERTIFICATE-----\n%.129s\n-----END CERTIFICATE-----\n",
		 CERT_2 + strlen("-----BEGIN CERTIFICATE-----\n"));
	write_text(text);
	CHECK(load_fails_with("certificate 1 cannot be decoded"));
}

static void test_missing_file(void)
{
	snprintf(path, sizeof(path), "%s/none.pem", dir);
	CHECK(load_fails_with("No such file"));
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
}

/* A file over the cap is refused before anything is decoded. */
static void test_huge_file(void)
{
	size_t len = (1u << 20) + 1;
	char *text = malloc(len);
	CHECK(text);
	memset(text, '#', len);
	memcpy(text, CERT_1, strlen(CERT_1));
	text[len - 1] = '\n';
	write_bundle(text, len);
	free(text);
	CHECK(load_fails_with("larger than 1048576 bytes"));
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
	RUN(test_one_ec_certificate);
	RUN(test_three_with_garbage_and_other_blocks);
	RUN(test_crlf_line_ends);
	RUN(test_no_final_newline);
	RUN(test_empty_file);
	RUN(test_only_other_blocks);
	RUN(test_truncated_block);
	RUN(test_bad_base64);
	RUN(test_undecodable_certificate_named_by_index);
	RUN(test_missing_file);
	RUN(test_huge_file);
	unlink(path);
	rmdir(dir);
	return CHECK_EXIT();
}
