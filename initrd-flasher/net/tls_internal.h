/* SPDX-License-Identifier: MIT */
/* What the tls_*.c files share: the anchors' layout, the X.509 check, names, error words. */
#ifndef SELFFLASH_TLS_INTERNAL_H
#define SELFFLASH_TLS_INTERNAL_H

#include <stddef.h>

#include <bearssl.h>

#include "tls.h"

/* The anchors BearSSL's X.509 validator reads; each one's DN and key live in one allocation
 * starting at dn.data. Read-only once loaded, so any number of connections share them. */
struct tls_anchors {
	br_x509_trust_anchor *ta;
	size_t count, cap;
};

/*
 * 1 when presented (a dNSName of a certificate) names host, 0 if not (tls_name.c): equal
 * ignoring ASCII case, or "*.rest" where host is one non-empty label followed by ".rest"
 * and rest has two labels at least (RFC 6125 section 6.4.3; no partial wildcards).
 */
int tls_name_match(const char *presented, const char *host);

/* How many dNSName entries of a certificate are compared with the host: Let's Encrypt's
 * limit of names per certificate (a name beyond it is not seen, so never matches). */
#define TLS_SAN_MAX 100
/* Bytes kept of the first dNSName, to name it in a message. */
#define TLS_SAN_SHOWN 128

/*
 * The X.509 check of one connection (tls_x509.c): BearSSL's minimal validator for the chain,
 * dates and key, given no server name so that it never falls back to the CN; the host is
 * compared here with the end-entity certificate's subjectAltName dNSName entries, which
 * BearSSL's name elements collect in order. Lives in the connection; no cleanup.
 */
struct tls_x509 {
	const br_x509_class *vtable; /* first: BearSSL calls through a pointer to it */
	br_x509_minimal_context minimal;
	const char *host;     /* the engine's server name, set when a chain starts */
	int name_matched;     /* the last chain's end-entity certificate names host */
	br_name_element san[TLS_SAN_MAX];
	char first_name[TLS_SAN_SHOWN];
	char *san_text;       /* (TLS_SAN_MAX - 1) buffers of host_len + 1 bytes */
	size_t san_text_each; /* host_len + 1: a longer name cannot match (a wildcard is 1 char) */
};

/* Bytes of name text a tls_x509 for a host of host_len characters needs (san_text). */
size_t tls_x509_text_size(size_t host_len);

/*
 * Sets x up over the anchors, with text (tls_x509_text_size(host_len) bytes, owned by the
 * caller and living as long as x) for the names. The caller then gives x->minimal its hash,
 * RSA and ECDSA implementations and hands &x->vtable to the engine.
 */
void tls_x509_init(struct tls_x509 *x, const struct tls_anchors *a, char *text,
		   size_t host_len);

/* Records, with err_set(), why x found the certificate not for host: the DNS names it has,
 * or that it has none (only a CN or IP addresses). Returns -1. */
int tls_x509_name_error(const struct tls_x509 *x, const char *peer, const char *host);

/* BearSSL's name for error code err ("BR_ERR_X509_EXPIRED"), or "unknown" (static text). */
const char *tls_error_name(int err);

/*
 * Records, with err_set(), why a handshake or a record failed: "PEER: " and the reason in
 * words (the certificate, the name, the CA, no cipher suite in common, no TLS at all), or
 * "TLS error N (BR_ERR_...)". host is the name the certificate had to carry. Returns -1.
 */
int tls_error_set(const char *peer, const char *host, int err);

#endif
