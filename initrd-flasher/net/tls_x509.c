/* SPDX-License-Identifier: MIT */
/*
 * The server's certificate checked the RFC 6125 way (tls_internal.h): BearSSL's minimal X.509
 * validator does the chain, the dates and the key, but it would take the subject's CN when
 * there is no subjectAltName and compare an IP host with a dNSName's text. So it is given no
 * server name at all, and this wrapper compares the host with the dNSName entries it collects.
 */
#include "tls_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* BearSSL's name-element code for a subjectAltName entry (first byte 0) of GeneralName tag 2,
 * dNSName (bearssl_x509.h, br_name_element). */
static const unsigned char SAN_DNS_NAME[] = { 0, 2 };

static struct tls_x509 *from_ctx(const br_x509_class *const *ctx)
{
	return (struct tls_x509 *)(void *)(uintptr_t)ctx;
}

static void wrap_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_x509 *x = from_ctx(ctx);
	x->host = server_name;
	x->name_matched = 0;
	/* no name: the validator then neither falls back to the CN nor refuses by name */
	x->minimal.vtable->start_chain(&x->minimal.vtable, NULL);
}

static void wrap_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *x = from_ctx(ctx);
	x->minimal.vtable->start_cert(&x->minimal.vtable, length);
}

static void wrap_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct tls_x509 *x = from_ctx(ctx);
	x->minimal.vtable->append(&x->minimal.vtable, buf, len);
}

static void wrap_end_cert(const br_x509_class **ctx)
{
	struct tls_x509 *x = from_ctx(ctx);
	x->minimal.vtable->end_cert(&x->minimal.vtable);
}

/* 1 when a dNSName the validator collected from the end-entity certificate names the host.
 * status 1: decoded whole; -1: longer than its buffer (so longer than the host: no match)
 * or not a valid string; 0: no such entry. */
static int names_host(const struct tls_x509 *x)
{
	for (size_t i = 0; i < TLS_SAN_MAX; i++)
		if (x->san[i].status == 1 && tls_name_match(x->san[i].buf, x->host))
			return 1;
	return 0;
}

static unsigned wrap_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *x = from_ctx(ctx);
	unsigned err = x->minimal.vtable->end_chain(&x->minimal.vtable);
	if (err != 0)
		return err;
	x->name_matched = x->host && names_host(x);
	return x->name_matched ? 0 : BR_ERR_X509_BAD_SERVER_NAME;
}

/* The key only of a certificate that names the host: the engine must not use another. */
static const br_x509_pkey *wrap_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct tls_x509 *x = from_ctx(ctx);
	if (!x->name_matched)
		return NULL;
	return x->minimal.vtable->get_pkey(&x->minimal.vtable, usages);
}

static const br_x509_class wrap_vtable = {
	sizeof(struct tls_x509), wrap_start_chain, wrap_start_cert, wrap_append,
	wrap_end_cert,           wrap_end_chain,   wrap_get_pkey,
};

size_t tls_x509_text_size(size_t host_len)
{
	return (TLS_SAN_MAX - 1) * (host_len + 1);
}

void tls_x509_init(struct tls_x509 *x, const struct tls_anchors *a, char *text,
		   size_t host_len)
{
	memset(x, 0, sizeof(*x));
	x->vtable = &wrap_vtable;
	/* SHA-256 hashes DNs for matching issuers with subjects, as br_ssl_client_init_full */
	br_x509_minimal_init(&x->minimal, &br_sha256_vtable, a->ta, a->count);
	x->san_text = text;
	x->san_text_each = host_len + 1;
	/* the first entry gets room to be shown in a message; the others only need to hold a
	 * name as long as the host, which is all that can match it */
	x->san[0] = (br_name_element){ SAN_DNS_NAME, x->first_name, sizeof(x->first_name), 0 };
	for (size_t i = 1; i < TLS_SAN_MAX; i++)
		x->san[i] = (br_name_element){ SAN_DNS_NAME, text + (i - 1) * x->san_text_each,
					       x->san_text_each, 0 };
	br_x509_minimal_set_name_elements(&x->minimal, x->san, TLS_SAN_MAX);
}

/* A name from a certificate, fit for a message: printable ASCII, others as '?'. */
static void printable(const char *in, char *out, size_t size)
{
	size_t i = 0;
	for (; in[i] && i + 1 < size; i++)
		out[i] = in[i] > 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

int tls_x509_name_error(const struct tls_x509 *x, const char *peer, const char *host)
{
	size_t names = 0;
	while (names < TLS_SAN_MAX && x->san[names].status != 0)
		names++;
	if (names == 0)
		return err_set("%s: the server's certificate is not for %s: it names no DNS name in "
			       "its subjectAltName (a CN is not used, RFC 6125)", peer, host);
	char first[TLS_SAN_SHOWN], more[64] = "";
	printable(x->san[0].status == 1 ? x->first_name : "(a name too long or not text)", first,
		  sizeof(first));
	if (names > 1)
		snprintf(more, sizeof(more), " and %zu more DNS names%s", names - 1,
			 names == TLS_SAN_MAX ? " (only those were compared)" : "");
	return err_set("%s: the server's certificate is not for %s: it is for %s%s", peer, host,
		       first, more);
}
