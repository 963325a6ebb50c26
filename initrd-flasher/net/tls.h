/* SPDX-License-Identifier: MIT */
/*
 * TLS for fetching packages over https (DESIGN.md section 11): BearSSL's client with trust
 * anchors from a PEM bundle, the server name checked against the certificate's DNS names
 * (RFC 6125) and sent as SNI.
 * The package signature stays the authority; TLS keeps a fleet's images private.
 */
#ifndef SELFFLASH_TLS_H
#define SELFFLASH_TLS_H

#include "net_stream.h"

struct tls_anchors;

/*
 * Reads every CERTIFICATE of the PEM bundle at path as a trust anchor. 0 (*out to free with
 * tls_anchors_free) or -1 naming the file and what is wrong (no certificate, bad PEM or DER).
 */
int tls_anchors_load(const char *path, struct tls_anchors **out);
void tls_anchors_free(struct tls_anchors *a);

/* How many anchors were loaded (for messages and tests). */
size_t tls_anchors_count(const struct tls_anchors *a);

/*
 * Whether host may be the host of an https:// URL: a DNS name, never an IP address (RFC 6125:
 * a certificate is checked against its subjectAltName DNS names only, so an address could
 * only match a DNS name that spells it). For the URL parser, before any connection. 0, or
 * -1 naming the host and the rule.
 */
int tls_host_check(const char *host);

/*
 * Turns the connected TCP stream s into a TLS stream to server `host` (SNI, and the name the
 * certificate must carry), handshake done within s->timeout_ms. From then on s reads and
 * writes plaintext. Only TLS 1.2 with ECDHE and an AEAD cipher (AES-GCM, ChaCha20-Poly1305)
 * is offered; host must be a DNS name (tls_host_check) and match a DNS name of the
 * certificate's subjectAltName (RFC 6125; its CN is never used). On failure -1, s closed,
 * and err_msg() gives the reason in words: the host is an IP address, the certificate
 * expired or is not valid yet, it is for another name (and which), it is not signed by a
 * trusted CA, no cipher suite in common, the server speaks no TLS, or BearSSL's error code
 * and name.
 */
int tls_wrap(struct net_stream *s, const struct tls_anchors *a, const char *host);

#endif
