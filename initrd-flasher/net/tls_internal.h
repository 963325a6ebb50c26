/* SPDX-License-Identifier: MIT */
/* What tls.c, tls_anchors.c and tls_error.c share: the anchors' layout, BearSSL's error names. */
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

/* BearSSL's name for error code err ("BR_ERR_X509_EXPIRED"), or "unknown" (static text). */
const char *tls_error_name(int err);

/*
 * Records, with err_set(), why a handshake or a record failed: "PEER: " and the reason in
 * words (the certificate, the name, the CA, no TLS at all), or "TLS error N (BR_ERR_...)".
 * host is the name the certificate had to carry. Returns -1.
 */
int tls_error_set(const char *peer, const char *host, int err);

#endif
