/* SPDX-License-Identifier: MIT */
/*
 * One HTTP connection's state, shared by the client (http.c: requests, retries) and its
 * reader (http_read.c: heads and bodies within a request's deadline). Callers hold it as an
 * opaque pool entry and use http.h's functions.
 */
#ifndef SELFFLASH_HTTP_CONN_H
#define SELFFLASH_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"
#include "net_stream.h"

#define HTTP_IN_BUF 16384

/* A body slower than this (bytes a second, averaged), or silent this long, is dropped and
 * asked again: a trickling server must not hold an update without end. */
#define HTTP_MIN_RATE 1024
#define HTTP_STALL_MS 5000

/* One connection: where it goes and what was read ahead of the caller. */
struct http_conn {
	struct net_stream s; /* s.ops NULL: not connected */
	int https;
	char host[HTTP_HOST_MAX], port[HTTP_PORT_MAX];
	unsigned requests; /* answered on this connection: a reused one may have been closed */
	/* the request under way, for the message when its deadline passes */
	int in_body;
	unsigned head_wait_ms;
	uint64_t body_start_ms, body_got, body_len;
	size_t in_pos, in_len;
	char in[HTTP_IN_BUF];
};

#endif
