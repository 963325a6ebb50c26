/* SPDX-License-Identifier: MIT */
/* Trust anchors for TLS from a PEM bundle (tls.h): every CERTIFICATE block, deep-copied. */
#include "tls_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"

/* A CA bundle is a few hundred KiB at most (Debian's ca-certificates.crt: about 200 KiB). */
#define TLS_BUNDLE_MAX (1u << 20)

/* Bytes that grow as a decoder hands them over (PEM → DER, certificate → DN). */
struct byte_sink {
	unsigned char *data;
	size_t len, cap;
	int failed; /* out of memory: the bytes are incomplete */
};

static void sink_append(void *ctx, const void *data, size_t len)
{
	struct byte_sink *b = ctx;
	if (b->failed)
		return;
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap - b->len < len && cap <= TLS_BUNDLE_MAX)
			cap *= 2;
		unsigned char *p = cap - b->len < len ? NULL : realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* The one PEM label BearSSL's X.509 decoder reads ("X509 CERTIFICATE" is the old name). */
static int is_certificate_label(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

static int anchors_add(struct tls_anchors *a, const br_x509_trust_anchor *ta)
{
	if (a->count == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		br_x509_trust_anchor *p = realloc(a->ta, cap * sizeof(*p));
		if (!p)
			return -1;
		a->ta = p;
		a->cap = cap;
	}
	a->ta[a->count++] = *ta;
	return 0;
}

/*
 * One certificate (DER) → one anchor: its subject DN and public key copied into a single
 * allocation that starts at dn.data (what tls_anchors_free frees). Every anchor is a CA: a
 * bundle lists the authorities that sign servers' certificates (a self-signed server
 * certificate in it works too, it signs itself).
 */
static int anchor_from_der(struct tls_anchors *a, const unsigned char *der, size_t len,
			   const char *path, size_t index)
{
	struct byte_sink dn = { 0 };
	br_x509_decoder_context dc;
	br_x509_decoder_init(&dc, sink_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.failed) {
		free(dn.data);
		if (dn.failed)
			return err_set("%s: certificate %zu: out of memory", path, index);
		int e = br_x509_decoder_last_error(&dc);
		return err_set("%s: certificate %zu cannot be decoded (%s)", path, index,
			       e ? tls_error_name(e) : "truncated DER");
	}
	size_t key_len;
	if (pk->key_type == BR_KEYTYPE_RSA)
		key_len = pk->key.rsa.nlen + pk->key.rsa.elen;
	else if (pk->key_type == BR_KEYTYPE_EC)
		key_len = pk->key.ec.qlen;
	else
		key_len = SIZE_MAX;
	if (key_len == SIZE_MAX) {
		free(dn.data);
		return err_set("%s: certificate %zu: its key is neither RSA nor EC (type %d)", path,
			       index, pk->key_type);
	}
	unsigned char *blob = malloc(dn.len + key_len + 1);
	if (!blob) {
		free(dn.data);
		return err_set("%s: certificate %zu: out of memory", path, index);
	}
	if (dn.len)
		memcpy(blob, dn.data, dn.len);
	free(dn.data);
	br_x509_trust_anchor ta = { .dn = { blob, dn.len }, .flags = BR_X509_TA_CA };
	ta.pkey.key_type = pk->key_type;
	unsigned char *key = blob + dn.len;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		memcpy(key, pk->key.rsa.n, pk->key.rsa.nlen);
		memcpy(key + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		ta.pkey.key.rsa = (br_rsa_public_key){ key, pk->key.rsa.nlen,
						       key + pk->key.rsa.nlen, pk->key.rsa.elen };
	} else {
		memcpy(key, pk->key.ec.q, pk->key.ec.qlen);
		ta.pkey.key.ec = (br_ec_public_key){ pk->key.ec.curve, key, pk->key.ec.qlen };
	}
	if (anchors_add(a, &ta) != 0) {
		free(blob);
		return err_set("%s: certificate %zu: out of memory", path, index);
	}
	return 0;
}

/* The PEM text → anchors; blocks counted from 1 in messages, lines too. */
static int anchors_from_pem(struct tls_anchors *a, const char *pem, size_t len,
			    const char *path)
{
	br_pem_decoder_context pc;
	br_pem_decoder_init(&pc);
	struct byte_sink der = { 0 };
	size_t pos = 0, blocks = 0, certs = 0, line = 1, block_line = 0, block_start = 0;
	int in_block = 0, is_cert = 0, rc = 0;
	/* the decoder only ends a line it has seen the end of: a newline is pushed after the
	 * text, so a file whose last line has none still ends its last block */
	while (rc == 0 && pos <= len) {
		const char *p = pos < len ? pem + pos : "\n";
		size_t avail = pos < len ? len - pos : 1;
		size_t used = br_pem_decoder_push(&pc, p, avail);
		for (size_t i = 0; i < used; i++)
			line += p[i] == '\n';
		pos += used; /* len + 1 once the pushed newline was taken: the loop ends */
		/* the line the decoder was on (it reports an error after that line's newline) */
		size_t at_line = line - (used > 0 && p[used - 1] == '\n');
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			blocks++;
			in_block = 1;
			block_line = at_line;
			block_start = pos;
			is_cert = is_certificate_label(br_pem_decoder_name(&pc));
			der.len = 0;
			br_pem_decoder_setdest(&pc, is_cert ? sink_append : NULL, &der);
			break;
		case BR_PEM_END_OBJ:
			in_block = 0;
			if (!is_cert)
				break;
			certs++;
			if (der.failed)
				rc = err_set("%s: certificate %zu: out of memory", path, certs);
			else
				rc = anchor_from_der(a, der.data, der.len, path, certs);
			break;
		case BR_PEM_ERROR:
			/* a block cut inside a line ends in bad base64: say it is cut short */
			if (in_block && !memmem(pem + block_start, len - block_start, "-----END", 8)) {
				pos = len + 1;
				break;
			}
			rc = err_set("%s: line %zu: not valid PEM (bad base64 or a broken BEGIN/END "
				     "line)", path, at_line);
			break;
		default:
			break;
		}
	}
	free(der.data);
	if (rc != 0)
		return -1;
	if (in_block)
		return err_set("%s: the PEM block that starts on line %zu has no END line (cut "
			       "short?)", path, block_line);
	if (certs == 0)
		return err_set("%s: no certificate in it (%zu other PEM blocks; a CA bundle holds "
			       "-----BEGIN CERTIFICATE----- blocks)", path, blocks);
	return 0;
}

/* Every CR before an LF dropped, in place; the new length. */
static size_t crlf_to_lf(char *text, size_t len)
{
	size_t out = 0;
	for (size_t i = 0; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			text[out++] = text[i];
	return out;
}

int tls_anchors_load(const char *path, struct tls_anchors **out)
{
	*out = NULL;
	size_t len;
	char *pem = read_small_file(path, TLS_BUNDLE_MAX, &len);
	if (!pem)
		return err_prefix("CA bundle");
	struct tls_anchors *a = calloc(1, sizeof(*a));
	if (!a) {
		free(pem);
		return err_set("CA bundle %s: out of memory", path);
	}
	/* BearSSL 0.6's PEM decoder keeps a CR in a block's name ("CERTIFICATE-----\r" does
	 * not match): line ends are made LF first */
	len = crlf_to_lf(pem, len);
	int rc = anchors_from_pem(a, pem, len, path);
	free(pem);
	if (rc != 0) {
		tls_anchors_free(a);
		return err_prefix("CA bundle");
	}
	*out = a;
	return 0;
}

void tls_anchors_free(struct tls_anchors *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->count; i++)
		free(a->ta[i].dn.data);
	free(a->ta);
	free(a);
}

size_t tls_anchors_count(const struct tls_anchors *a)
{
	return a ? a->count : 0;
}
