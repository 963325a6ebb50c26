/* SPDX-License-Identifier: MIT */
/*
 * A hostile TLS server for tests/host/tls_client.sh, on BearSSL's server API: it does a real
 * handshake, reads the client's request line, then sends encrypted application-data records
 * that hold nothing, one about every millisecond, until the client goes away. BearSSL's
 * client drops such records and reads on, so a client that counts no bytes would wait for
 * ever (tls.c's TLS_NO_DATA_MAX is the bound that ends it). Serves one connection after
 * another (the script's port check connects and closes first) until killed.
 * Usage: tls_empty_server PORT CHAIN.pem KEY.pem (an EC or RSA key; an EC key's certificate
 * is taken to be signed by an EC CA)
 */
#include <arpa/inet.h>
#include <bearssl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CERTS 8
#define PEM_MAX (64 * 1024)

/* One PEM object's DER bytes, grown by the decoder's destination callback. */
struct der {
	unsigned char *data;
	size_t len;
};

static void der_append(void *ctx, const void *buf, size_t len)
{
	struct der *d = ctx;
	unsigned char *grown = realloc(d->data, d->len + len);
	if (!grown) {
		fprintf(stderr, "tls_empty_server: out of memory\n");
		exit(1);
	}
	memcpy(grown + d->len, buf, len);
	d->data = grown;
	d->len += len;
}

/* The PEM objects of PATH, in order, whose name contains WANT; how many, or exits. */
static size_t pem_read(const char *path, const char *want, struct der *out, size_t cap)
{
	static unsigned char text[PEM_MAX];
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tls_empty_server: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	br_pem_decoder_context pc;
	br_pem_decoder_init(&pc);
	size_t count = 0;
	int inside = 0;
	/* then a newline, so that the decoder sees an END line the file does not end */
	for (int pass = 0; pass < 2; pass++) {
		const unsigned char *p = pass ? (const unsigned char *)"\n" : text;
		size_t left = pass ? 1 : len;
		while (left) {
			size_t n = br_pem_decoder_push(&pc, p, left);
			p += n;
			left -= n;
			int ev = br_pem_decoder_event(&pc);
			if (ev == BR_PEM_BEGIN_OBJ) {
				inside = strstr(br_pem_decoder_name(&pc), want) && count < cap;
				if (inside)
					out[count] = (struct der){ 0 };
				br_pem_decoder_setdest(&pc, inside ? der_append : NULL,
						       inside ? &out[count] : NULL);
			} else if (ev == BR_PEM_END_OBJ) {
				count += (size_t)inside;
				inside = 0;
			} else if (ev == BR_PEM_ERROR) {
				fprintf(stderr, "tls_empty_server: %s: bad PEM\n", path);
				exit(1);
			}
		}
	}
	return count;
}

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n;
	do
		n = recv(*(int *)ctx, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n > 0 ? (int)n : -1;
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n;
	do
		n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n > 0 ? (int)n : -1;
}

/* Sends what the engine has ready; -1 when the client went away. */
static int push_records(br_ssl_engine_context *eng, int fd)
{
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		size_t len;
		unsigned char *rec = br_ssl_engine_sendrec_buf(eng, &len);
		int n = sock_write(&fd, rec, len);
		if (n < 0)
			return -1;
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
	}
	return br_ssl_engine_current_state(eng) == BR_SSL_CLOSED ? -1 : 0;
}

static void serve(int fd, const br_x509_certificate *chain, size_t chain_len,
		  const br_skey_decoder_context *key)
{
	static br_ssl_server_context sc;
	static unsigned char buf[BR_SSL_BUFSIZE_BIDI];
	if (br_skey_decoder_key_type(key) == BR_KEYTYPE_EC)
		br_ssl_server_init_full_ec(&sc, chain, chain_len, BR_KEYTYPE_EC,
					   br_skey_decoder_get_ec(key));
	else
		br_ssl_server_init_full_rsa(&sc, chain, chain_len, br_skey_decoder_get_rsa(key));
	br_ssl_engine_set_buffer(&sc.eng, buf, sizeof(buf), 1);
	br_ssl_server_reset(&sc);
	br_sslio_context io;
	br_sslio_init(&io, &sc.eng, sock_read, &fd, sock_write, &fd);
	/* the request line: the handshake runs inside the first read */
	unsigned char c = 0;
	while (c != '\n')
		if (br_sslio_read(&io, &c, 1) != 1)
			return; /* the port check's connection, or a failed handshake */
	unsigned long records = 0;
	struct timespec pause = { 0, 1000 * 1000 };
	for (;;) {
		br_ssl_engine_flush(&sc.eng, 1); /* forced: a record of no bytes */
		if (push_records(&sc.eng, fd) != 0)
			break;
		records++;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "tls_empty_server: sent %lu empty records, then the client left\n",
		records);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tls_empty_server PORT CHAIN.pem KEY.pem\n");
		return 2;
	}
	static struct der certs[MAX_CERTS], key_der[1];
	size_t chain_len = pem_read(argv[2], "CERTIFICATE", certs, MAX_CERTS);
	if (!chain_len || pem_read(argv[3], "PRIVATE KEY", key_der, 1) != 1) {
		fprintf(stderr, "tls_empty_server: no certificate in %s or no key in %s\n", argv[2],
			argv[3]);
		return 1;
	}
	br_x509_certificate chain[MAX_CERTS];
	for (size_t i = 0; i < chain_len; i++)
		chain[i] = (br_x509_certificate){ certs[i].data, certs[i].len };
	static br_skey_decoder_context key;
	br_skey_decoder_init(&key);
	br_skey_decoder_push(&key, key_der[0].data, key_der[0].len);
	if (br_skey_decoder_last_error(&key) != 0) {
		fprintf(stderr, "tls_empty_server: %s: not an EC or RSA key (error %d)\n", argv[3],
			br_skey_decoder_last_error(&key));
		return 1;
	}
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 4) != 0) {
		fprintf(stderr, "tls_empty_server: 127.0.0.1:%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd, chain, chain_len, &key);
		close(fd);
	}
}
