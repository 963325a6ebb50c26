/* SPDX-License-Identifier: MIT */
/*
 * An HTTP/1.1 client for one job: byte ranges of one immutable file (DESIGN.md section 11,
 * the link's contract). Over a net_stream (TCP, or TLS for https://); keep-alive, a closed
 * connection reopened; Content-Length and chunked bodies; 206 checked against the range
 * asked; redirects followed (at most HTTP_REDIRECTS_MAX, never https to http). A server's
 * passing trouble is retried with backoff for as long as the caller allows: a dropped
 * connection, 408, 429 and 5xx answers (their Retry-After honoured, up to
 * HTTP_RETRY_AFTER_MAX_MS), and an answer too slow to finish. Every request has a deadline:
 * its head within the I/O timeout, its body at HTTP_MIN_RATE bytes a second or more, never
 * silent for HTTP_STALL_MS. One connection is used by one thread at a time; the caller owns
 * it (source_http.c keeps a pool).
 */
#ifndef SELFFLASH_HTTP_H
#define SELFFLASH_HTTP_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "http_conn.h"
#include "http_parse.h"
#include "tls.h"

#define HTTP_REDIRECTS_MAX 5
/* the X-Selfflash-Board value, with its NUL (an EEPROM serial is at most 15 bytes) */
#define HTTP_BOARD_MAX 64
/* A Retry-After longer than this is not waited for in full: asked again after this long. */
#define HTTP_RETRY_AFTER_MAX_MS 60000

struct http_opts {
	/* each connect, and the wait for an answer's head; 0: 30 s (never past retry_ms) */
	unsigned io_timeout_ms;
	/* a call gives up when this long has passed since it began, retrying until then (a
	 * dropped connection, 408/429/5xx, a body too slow), every wait cut to fit; 0: one try */
	unsigned retry_ms;
	/* the run's end (timing_now_ms; 0: none), run_timeout_s after it began (for messages): no
	 * call, retry or body read goes past it, however the server trickles or asks to wait */
	uint64_t run_end_ms;
	unsigned run_timeout_s;
	/* set (by anyone) when the caller gives up: a call under way stops retrying; may be NULL */
	atomic_int *stop;
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
	/* a server not reached at all (no such name, refused, unreachable, no TLS) is final at
	 * once: the first contact, where a wrong address must fail now, not after minutes */
	int unreached_final;
	/* out */
	uint64_t total;           /* the file's size (Content-Range) */
	char etag[HTTP_ETAG_MAX]; /* the answer's ETag, "" when none */
	int changed;              /* 200 to an If-Range request: the file is not that one now */
	unsigned retries;         /* attempts made again, whatever the reason (all below) */
	unsigned transient;       /* ... after a 408, 429 or 5xx answer */
	unsigned slow;            /* ... after an answer slower than HTTP_MIN_RATE was dropped */
};

/* An unconnected connection. */
void http_conn_init(struct http_conn *c);
void http_conn_close(struct http_conn *c);

/*
 * Fetches bytes [q->off, q->off + q->len) of the file at *url into buf (q->len bytes) over c.
 * Redirects are followed and *url becomes where the file was found. Each retry is logged to
 * o->log with its reason (the status in words, the rate). Fails (-1, err_msg() naming the URL
 * and the problem) on: a status other than 206 that is not transient (in words), a 200 (the
 * server ignores Range; or, with If-Range, the file changed: q->changed), a Content-Encoding
 * other than identity (named), a Content-Range other than the one asked, a body of another
 * length, too many redirects, https redirected to http; and once o->retry_ms has passed (or
 * *o->stop is set) on a timeout, a refused or dropped connection, a transient status or a
 * body too slow, naming the last of them; at o->run_end_ms whatever it was doing, saying so.
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
