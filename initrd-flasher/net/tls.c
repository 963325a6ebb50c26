/* SPDX-License-Identifier: MIT */
/*
 * A TCP stream turned into a TLS stream (tls.h): BearSSL's client over the TCP stream's own
 * read and write, which wait with poll and the stream's timeout. Each connection owns all its
 * state (no globals), so threads may each run their own.
 */
#include "tls_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "error.h"
#include "timing.h"

/* Bytes of fresh randomness the key exchange is seeded with (BearSSL wants 32 at least). */
#define TLS_SEED_LEN 32
/* The longest DNS name (RFC 1035; tls_host_check refuses longer hosts). */
#define TLS_HOST_MAX 253
/*
 * Wire bytes a connection may take after the handshake without one byte of application data
 * reaching tls_read. BearSSL drops records that decrypt to nothing and keeps reading
 * (ssl_engine.c, bearssl 0.6), so a server sending empty records would hold br_sslio_read
 * for ever while each byte moves the stream's minimum-rate deadline on. An honest server's
 * record holds up to 16 KiB of data (16.3 KiB on the wire), and any record with data ends
 * the wait; 64 KiB is four such records of nothing (an alert or a HelloRequest is a few dozen
 * bytes), so no honest server comes near it. An empty record is 21 (ChaCha20) to 29 (GCM)
 * bytes on the wire: 3,100 of them at most, 3.7 s at one a millisecond (measured); at the
 * slowest rate that still moves the deadline on (HTTP_MIN_RATE, 1 KiB/s) about 64 s, and
 * then the request is retried.
 */
#define TLS_NO_DATA_MAX (64 * 1024)

/* One connection, about 45 KiB on the heap: 33178 bytes of record buffer (one full record
 * each way, so reads and writes never wait on each other), BearSSL's client context (3720),
 * the X.509 check (6536: BearSSL's validator and 100 name slots) and the names' text (99 x
 * the host's length + 1: 2.2 KiB for updates.selfflash.test). Four at once cost 180 KiB. */
struct tls_conn {
	br_ssl_client_context client;
	struct tls_x509 x509;
	br_sslio_context io;
	const struct net_stream_ops *tcp; /* the TCP stream's ops, under the TLS ones */
	struct net_stream *s;
	uint64_t deadline_ms; /* while the handshake runs: when it must be done; else 0 */
	unsigned timeout_ms;  /* the stream's own timeout, for each later read and write */
	int peer_closed;      /* the TCP stream ended (the peer closed its side) */
	int socket_failed;    /* a read or write of the socket failed: err_msg() says why */
	/* wire bytes read since the handshake, tls_read's last data or the last request */
	uint64_t bytes_without_data;
	char host[TLS_HOST_MAX + 1]; /* the name the certificate must carry, and the SNI */
	unsigned char buf[BR_SSL_BUFSIZE_BIDI];
	char san_text[]; /* the certificate's DNS names (tls_x509_text_size) */
};

/* The handshake as a whole keeps to the timeout: each wait gets what is left of it. */
static int handshake_time_left(struct tls_conn *c)
{
	if (!c->deadline_ms)
		return 0;
	uint64_t left = timing_ms_left(c->deadline_ms);
	if (!left)
		return -1;
	c->s->timeout_ms = (unsigned)left;
	return 0;
}

static int low_read(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	if (handshake_time_left(c) != 0) {
		c->socket_failed = 1;
		return err_set("%s: TLS handshake not done within %u s (timed out)", c->s->peer,
			       c->timeout_ms / 1000);
	}
	/* records that bring nothing must not hold a request (TLS_NO_DATA_MAX); the handshake
	 * keeps to its own deadline, so it is no part of the count */
	if (!c->deadline_ms && c->bytes_without_data > TLS_NO_DATA_MAX) {
		c->socket_failed = 1;
		return err_set("%s: %llu bytes of TLS records brought no data (empty records): "
			       "dropped", c->s->peer, (unsigned long long)c->bytes_without_data);
	}
	ssize_t n = c->tcp->read(c->s, buf, len);
	if (n == 0)
		c->peer_closed = 1;
	if (n < 0)
		c->socket_failed = 1;
	if (n > 0 && !c->deadline_ms)
		c->bytes_without_data += (uint64_t)n;
	return n > 0 ? (int)n : -1;
}

static int low_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	if (handshake_time_left(c) != 0) {
		c->socket_failed = 1;
		return err_set("%s: TLS handshake not done within %u s (timed out)", c->s->peer,
			       c->timeout_ms / 1000);
	}
	if (c->tcp->write(c->s, buf, len) != 0) {
		c->socket_failed = 1;
		return -1;
	}
	return (int)len;
}

/* Records why the engine stopped: the socket's own message, or BearSSL's error in words. */
static int conn_fail(struct tls_conn *c, const char *host, const char *during)
{
	int err = br_ssl_engine_last_error(&c->client.eng);
	if (c->socket_failed)
		return -1; /* low_read or low_write said it already */
	if (c->peer_closed)
		return err_set("%s: the server closed the connection %s", c->s->peer, during);
	if (err == BR_ERR_X509_BAD_SERVER_NAME)
		return tls_x509_name_error(&c->x509, c->s->peer, host);
	return tls_error_set(c->s->peer, host, err);
}

static ssize_t tls_read(struct net_stream *s, void *buf, size_t len)
{
	struct tls_conn *c = s->priv;
	if (len > INT32_MAX)
		len = INT32_MAX; /* br_sslio_read returns an int */
	int n = br_sslio_read(&c->io, buf, len);
	if (n > 0) {
		c->bytes_without_data = 0;
		return n;
	}
	/* a close_notify ends the stream cleanly; a bare TCP end could be a cut (truncation) */
	if (br_ssl_engine_current_state(&c->client.eng) == BR_SSL_CLOSED &&
	    br_ssl_engine_last_error(&c->client.eng) == BR_ERR_OK)
		return 0;
	return conn_fail(c, "", "without TLS close_notify (data may be cut short)");
}

static int tls_write(struct net_stream *s, const void *buf, size_t len)
{
	struct tls_conn *c = s->priv;
	c->bytes_without_data = 0; /* a new request: the answer's wait starts now */
	if (br_sslio_write_all(&c->io, buf, len) != 0 || br_sslio_flush(&c->io) != 0)
		return conn_fail(c, "", "while we were sending");
	return 0;
}

/* Sends close_notify if the engine is still open, without waiting for the server's own
 * (br_sslio_close would wait for it: a slow server would hold a closing board). */
static void send_close_notify(struct tls_conn *c)
{
	br_ssl_engine_context *eng = &c->client.eng;
	if (br_ssl_engine_current_state(eng) == BR_SSL_CLOSED || c->socket_failed)
		return;
	br_ssl_engine_close(eng);
	c->s->timeout_ms = c->timeout_ms < 1000 ? c->timeout_ms : 1000;
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		size_t len;
		unsigned char *rec = br_ssl_engine_sendrec_buf(eng, &len);
		if (c->tcp->write(c->s, rec, len) != 0)
			break;
		br_ssl_engine_sendrec_ack(eng, len);
	}
}

static void tls_close(struct net_stream *s)
{
	struct tls_conn *c = s->priv;
	if (c) {
		char saved[ERR_MSG_MAX];
		snprintf(saved, sizeof(saved), "%s", err_msg()); /* closing must not hide an error */
		send_close_notify(c);
		c->tcp->close(s);
		explicit_bzero(c, sizeof(*c)); /* the session keys (the names after them are public) */
		free(c);
		if (saved[0])
			err_set("%s", saved);
		else
			err_clear();
	}
	s->priv = NULL;
}

static const struct net_stream_ops tls_ops = { .read = tls_read, .write = tls_write,
					       .close = tls_close };

/*
 * Fresh randomness for the key exchange. getrandom waits until the kernel's pool was seeded
 * once (since Linux 5.4 the kernel gathers jitter entropy itself, about a second on a quiet
 * board) and never after; /dev/urandom is for kernels without getrandom. 0 or -1.
 */
static int tls_seed(struct tls_conn *c)
{
	unsigned char seed[TLS_SEED_LEN];
	ssize_t n;
	do
		n = getrandom(seed, sizeof(seed), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(seed)) {
		int getrandom_errno = n < 0 ? errno : EIO;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, seed, sizeof(seed)) : -1;
		if (fd >= 0)
			close(fd);
		if (n != (ssize_t)sizeof(seed))
			return err_set("%s: TLS: no randomness to seed the key exchange (getrandom: "
				       "%s; /dev/urandom: %s)", c->s->peer, strerror(getrandom_errno),
				       n < 0 ? strerror(errno) : "short read");
	}
	br_ssl_engine_inject_entropy(&c->client.eng, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	return 0;
}

/*
 * What this client offers (instead of br_ssl_client_init_full's every suite): TLS 1.2 only
 * (RFC 8996 retired 1.0 and 1.1; BearSSL has no 1.3), forward secrecy (ECDHE) and AEAD
 * ciphers only: no static-RSA key exchange, no CBC, no 3DES. In init_full's order: ChaCha20
 * first (fast and constant-time in software, as on the board's CPU), then AES-GCM. Measured
 * against init_full's list: the aarch64 flasher's code 17 KiB smaller, the initrd (gzip)
 * 11 KiB smaller, with the name check of tls_x509.c included.
 */
static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* The hashes of TLS 1.2's PRFs and of today's certificate and key-exchange signatures;
 * no MD5, SHA-1 or SHA-224 (a chain signed with them is refused). */
static const struct {
	int id;
	const br_hash_class *hash;
} tls_hashes[] = {
	{ br_sha256_ID, &br_sha256_vtable },
	{ br_sha384_ID, &br_sha384_vtable },
	{ br_sha512_ID, &br_sha512_vtable },
};

static void client_configure(struct tls_conn *c, const struct tls_anchors *a)
{
	br_ssl_client_context *cc = &c->client;
	br_ssl_engine_context *eng = &cc->eng;
	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, tls_suites, sizeof(tls_suites) / sizeof(tls_suites[0]));
	/* the EC curves (P-256, P-384, P-521, X25519) for ECDHE and ECDSA; RSA signatures for
	 * ECDHE_RSA and RSA-signed chains */
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_default_rsavrfy(eng);
	tls_x509_init(&c->x509, a, c->san_text, strlen(c->host));
	br_x509_minimal_set_rsa(&c->x509.minimal, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_ecdsa(&c->x509.minimal, br_ssl_engine_get_ec(eng),
				  br_ssl_engine_get_ecdsa(eng));
	for (size_t i = 0; i < sizeof(tls_hashes) / sizeof(tls_hashes[0]); i++) {
		br_ssl_engine_set_hash(eng, tls_hashes[i].id, tls_hashes[i].hash);
		br_x509_minimal_set_hash(&c->x509.minimal, tls_hashes[i].id, tls_hashes[i].hash);
	}
	br_ssl_engine_set_x509(eng, &c->x509.vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
}

static int handshake(struct tls_conn *c, const struct tls_anchors *a)
{
	const char *host = c->host;
	client_configure(c, a);
	if (tls_seed(c) != 0)
		return -1;
	br_ssl_engine_set_buffer(&c->client.eng, c->buf, sizeof(c->buf), 1);
	if (!br_ssl_client_reset(&c->client, host, 0))
		return conn_fail(c, host, "");
	br_sslio_init(&c->io, &c->client.eng, low_read, c, low_write, c);
	c->deadline_ms = timing_now_ms() + c->timeout_ms;
	/* flushing runs the engine until it can send application data: the whole handshake */
	int rc = br_sslio_flush(&c->io);
	c->deadline_ms = 0;
	c->s->timeout_ms = c->timeout_ms;
	if (rc != 0)
		return conn_fail(c, host, "during the TLS handshake");
	return 0;
}

int tls_wrap(struct net_stream *s, const struct tls_anchors *a, const char *host)
{
	if (!s->ops)
		return err_set("%s: TLS over a closed stream", s->peer);
	if (!a || a->count == 0) {
		net_stream_close(s);
		return err_set("%s: TLS without a CA bundle", s->peer);
	}
	/* the URL parser refused an IP host already; this holds for every caller */
	if (tls_host_check(host) != 0) {
		net_stream_close(s);
		return err_prefix("%s", s->peer);
	}
	size_t host_len = strlen(host);
	if (host[host_len - 1] == '.')
		host_len--; /* the root's dot is no part of the SNI (RFC 6066) nor of a SAN */
	size_t size = sizeof(struct tls_conn) + tls_x509_text_size(host_len);
	struct tls_conn *c = calloc(1, size);
	if (!c) {
		net_stream_close(s);
		return err_set("%s: TLS: out of memory (%zu bytes)", s->peer, size);
	}
	memcpy(c->host, host, host_len);
	c->tcp = s->ops;
	c->s = s;
	c->timeout_ms = s->timeout_ms;
	s->ops = &tls_ops;
	s->priv = c;
	if (handshake(c, a) != 0) {
		c->socket_failed = 1; /* no close_notify into a failed handshake */
		net_stream_close(s);
		return -1;
	}
	return 0;
}
