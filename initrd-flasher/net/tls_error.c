/* SPDX-License-Identifier: MIT */
/* BearSSL's error codes in words (tls_internal.h): what a person fixing a server needs. */
#include "tls_internal.h"

#include "error.h"

static const struct {
	int code;
	const char *name;
} error_names[] = {
#define NAME(e) { e, #e }
	NAME(BR_ERR_OK), NAME(BR_ERR_BAD_PARAM), NAME(BR_ERR_BAD_STATE),
	NAME(BR_ERR_UNSUPPORTED_VERSION), NAME(BR_ERR_BAD_VERSION), NAME(BR_ERR_BAD_LENGTH),
	NAME(BR_ERR_TOO_LARGE), NAME(BR_ERR_BAD_MAC), NAME(BR_ERR_NO_RANDOM),
	NAME(BR_ERR_UNKNOWN_TYPE), NAME(BR_ERR_UNEXPECTED), NAME(BR_ERR_BAD_CCS),
	NAME(BR_ERR_BAD_ALERT), NAME(BR_ERR_BAD_HANDSHAKE), NAME(BR_ERR_OVERSIZED_ID),
	NAME(BR_ERR_BAD_CIPHER_SUITE), NAME(BR_ERR_BAD_COMPRESSION), NAME(BR_ERR_BAD_FRAGLEN),
	NAME(BR_ERR_BAD_SECRENEG), NAME(BR_ERR_EXTRA_EXTENSION), NAME(BR_ERR_BAD_SNI),
	NAME(BR_ERR_BAD_HELLO_DONE), NAME(BR_ERR_LIMIT_EXCEEDED), NAME(BR_ERR_BAD_FINISHED),
	NAME(BR_ERR_RESUME_MISMATCH), NAME(BR_ERR_INVALID_ALGORITHM), NAME(BR_ERR_BAD_SIGNATURE),
	NAME(BR_ERR_WRONG_KEY_USAGE), NAME(BR_ERR_NO_CLIENT_AUTH), NAME(BR_ERR_IO),
	NAME(BR_ERR_X509_INVALID_VALUE), NAME(BR_ERR_X509_TRUNCATED),
	NAME(BR_ERR_X509_EMPTY_CHAIN), NAME(BR_ERR_X509_INNER_TRUNC),
	NAME(BR_ERR_X509_BAD_TAG_CLASS), NAME(BR_ERR_X509_BAD_TAG_VALUE),
	NAME(BR_ERR_X509_INDEFINITE_LENGTH), NAME(BR_ERR_X509_EXTRA_ELEMENT),
	NAME(BR_ERR_X509_UNEXPECTED), NAME(BR_ERR_X509_NOT_CONSTRUCTED),
	NAME(BR_ERR_X509_NOT_PRIMITIVE), NAME(BR_ERR_X509_PARTIAL_BYTE),
	NAME(BR_ERR_X509_BAD_BOOLEAN), NAME(BR_ERR_X509_OVERFLOW), NAME(BR_ERR_X509_BAD_DN),
	NAME(BR_ERR_X509_BAD_TIME), NAME(BR_ERR_X509_UNSUPPORTED),
	NAME(BR_ERR_X509_LIMIT_EXCEEDED), NAME(BR_ERR_X509_WRONG_KEY_TYPE),
	NAME(BR_ERR_X509_BAD_SIGNATURE), NAME(BR_ERR_X509_TIME_UNKNOWN),
	NAME(BR_ERR_X509_EXPIRED), NAME(BR_ERR_X509_DN_MISMATCH),
	NAME(BR_ERR_X509_BAD_SERVER_NAME), NAME(BR_ERR_X509_CRITICAL_EXTENSION),
	NAME(BR_ERR_X509_NOT_CA), NAME(BR_ERR_X509_FORBIDDEN_KEY_USAGE),
	NAME(BR_ERR_X509_WEAK_PUBLIC_KEY), NAME(BR_ERR_X509_NOT_TRUSTED),
#undef NAME
};

const char *tls_error_name(int err)
{
	if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256)
		return "BR_ERR_SEND_FATAL_ALERT";
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_RECV_FATAL_ALERT + 256)
		return "BR_ERR_RECV_FATAL_ALERT";
	for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
		if (error_names[i].code == err)
			return error_names[i].name;
	return "unknown";
}

/* What tls.c offers, for the server's admin when there is nothing in common. */
#define TLS_OFFER                                                                          \
	"this client offers TLS 1.2 ECDHE (ECDSA or RSA) with AES-GCM or ChaCha20-Poly1305 "   \
	"only, no 3DES, CBC or static-RSA suite"

/* The alerts a server sends when it will not talk to this client, with the likely cause. */
static const char *alert_words(int alert)
{
	switch (alert) {
	case 40:
		return "handshake_failure: no cipher suite or curve in common; " TLS_OFFER;
	case 70:
		return "protocol_version: the server may only speak TLS 1.3";
	case 71:
		return "insufficient_security: the server wants stronger ciphers";
	case 112:
		return "unrecognized_name: the server does not serve that host name";
	default:
		return "see RFC 5246 section 7.2";
	}
}

int tls_error_set(const char *peer, const char *host, int err)
{
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		return err_set("%s: the server's certificate has expired or is not valid yet (check "
			       "the board's clock too)", peer);
	case BR_ERR_X509_BAD_SERVER_NAME:
		return err_set("%s: the server's certificate is not for %s", peer, host);
	case BR_ERR_X509_NOT_TRUSTED:
		return err_set("%s: the server's certificate is not signed by a CA in the bundle",
			       peer);
	case BR_ERR_UNSUPPORTED_VERSION:
		/* the first bytes back were no TLS record header: a plain server's answer */
		return err_set("%s: the server does not speak TLS (http:// instead of https://?)",
			       peer);
	case BR_ERR_BAD_CIPHER_SUITE:
		/* the server chose a suite it was not offered */
		return err_set("%s: the server chose a cipher suite this client did not offer (%s)",
			       peer, TLS_OFFER);
	case BR_ERR_NO_RANDOM:
		return err_set("%s: TLS: no randomness to seed the key exchange", peer);
	default:
		break;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_RECV_FATAL_ALERT + 256)
		return err_set("%s: the server refused the TLS handshake: alert %d (%s)", peer,
			       err - BR_ERR_RECV_FATAL_ALERT, alert_words(err - BR_ERR_RECV_FATAL_ALERT));
	return err_set("%s: TLS error %d (%s)", peer, err, tls_error_name(err));
}
