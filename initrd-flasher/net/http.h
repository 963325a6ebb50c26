/* SPDX-License-Identifier: MIT */
/*
 * An HTTP/1.1 client for one job: byte ranges of one immutable file (DESIGN.md section 11,
 * the link's contract). Over a net_stream (TCP, or TLS for https://); keep-alive, a closed
 * connection reopened; Content-Length and chunked bodies; 206 checked against the range
 * asked; redirects followed (at most HTTP_REDIRECTS_MAX, never https to http); a dropped
 * connection retried with backoff for as long as the caller allows. One connection is used
 * by one thread at a time; the caller owns it (source_http.c keeps a pool).
 */
#ifndef SELFFLASH_HTTP_H
#define SELFFLASH_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include "http_parse.h"
#include "net_stream.h"
#include "tls.h"

#define HTTP_REDIRECTS_MAX 5
#define HTTP_IN_BUF 16384
/* the X-Selfflash-Board value, with its NUL (an EEPROM serial is at most 15 bytes) */
#define HTTP_BOARD_MAX 64

/* One connection: where it goes and what was read ahead of the caller. */
struct http_conn {
	struct net_stream s; /* s.ops NULL: not connected */
	int https;
	char host[HTTP_HOST_MAX], port[HTTP_PORT_MAX];
	unsigned requests; /* answered on this connection: a reused one may have been closed */
	size_t in_pos, in_len;
	char in[HTTP_IN_BUF];
};

struct http_opts {
	unsigned io_timeout_ms; /* each connect, read and write; 0: 30 s */
	/* a dropped connection is retried with backoff for this long; 0: not at all (the first
	 * contact: a wrong address must fail at once, not after minutes) */
	unsigned retry_ms;
	const struct tls_anchors *anchors; /* for https://; NULL refuses https */
	FILE *log;                         /* retries and redirects are told here; may be NULL */
	/* the board's serial number, sent as X-Selfflash-Board so that a server's access log
	 * tells a fleet's boards apart; NULL or "": not sent. Printable ASCII (the EEPROM's) */
	const char *board;
};

/* A range request and what the answer said about the file. */
struct http_range {
	uint64_t off, len;    /* asked for: bytes [off, off + len), len >= 1 */
	const char *if_range; /* a strong ETag to send as If-Range, or NULL */
	/* out */
	uint64_t total;           /* the file's size (Content-Range) */
	char etag[HTTP_ETAG_MAX]; /* the answer's ETag, "" when none */
	int changed;              /* 200 to an If-Range request: the file is not that one now */
	unsigned retries;         /* connections reopened after a failure */
};

/* An unconnected connection. */
void http_conn_init(struct http_conn *c);
void http_conn_close(struct http_conn *c);

/*
 * Fetches bytes [q->off, q->off + q->len) of the file at *url into buf (q->len bytes) over c.
 * Redirects are followed and *url becomes where the file was found. Fails (-1, err_msg()
 * naming the URL and the problem) on: a status other than 206 (in words), a 200 (the server
 * ignores Range; or, with If-Range, the file changed: q->changed), a Content-Range other than
 * the one asked, a body of another length, a timeout or refused connection (after
 * o->retry_ms of retries when that is set), too many redirects, https redirected to http.
 */
int http_get_range(struct http_conn *c, struct http_url *url, const struct http_opts *o,
		   struct http_range *q, void *buf);

/*
 * POSTs body (len bytes of content_type) to url on a connection of its own and reads the
 * status; 0 for any 2xx, else -1 naming the status. No retries, no redirects.
 */
int http_post(const struct http_url *url, const struct http_opts *o, const char *content_type,
	      const void *body, size_t len);

#endif
