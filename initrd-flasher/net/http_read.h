/* SPDX-License-Identifier: MIT */
/*
 * Private to the HTTP client (http.c): reading an answer off a connection — the head, a
 * body of a known length, a chunked body — each read kept to the request's deadline (the
 * net_stream's clock, set by http.c). Every function returns an attempt code for the retry
 * loop: ATTEMPT_DONE, or what went wrong with err_msg() saying it.
 */
#ifndef SELFFLASH_HTTP_READ_H
#define SELFFLASH_HTTP_READ_H

#include <stdint.h>

#include "http_conn.h"
#include "http_parse.h"

/* What went wrong, for the retry loop: the answer (give up), or something passing: the
 * network, a server that could not be reached, a transient status, an answer too slow. */
enum {
	ATTEMPT_DONE = 0,
	ATTEMPT_FINAL = -1,
	ATTEMPT_NETWORK = -2,
	ATTEMPT_UNREACHED = -3,
	ATTEMPT_TRANSIENT = -4,
	ATTEMPT_SLOW = -5,
	ATTEMPT_REDIRECT = 1,
};

/* The server ended the connection while `what` was under way: ATTEMPT_NETWORK. */
int http_closed_early(const struct http_conn *c, const char *what);

/*
 * A read or write on c failed: when the request's deadline passed, says so in terms of the
 * request (no head in time, a body too slow or stalled: c->in_body and its counters) and
 * returns ATTEMPT_SLOW; else the stream's own message stands (ATTEMPT_NETWORK).
 */
int http_io_failed(struct http_conn *c);

/* Exactly len bytes of body into buf (counted in c->body_got). */
int http_read_exact(struct http_conn *c, char *buf, uint64_t len);

/* A chunked body of exactly len bytes into buf; trailers skipped (HTTP_TRAILERS_MAX). */
int http_read_chunked(struct http_conn *c, char *buf, uint64_t len);

/* The response head (at most HTTP_HEAD_MAX bytes) parsed into r; *answered is set once a
 * byte of it arrived (a reused connection that got none was closed while idle). */
int http_read_head(struct http_conn *c, struct http_response *r, int *answered);

#endif
