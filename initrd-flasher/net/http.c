/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 range requests over a net_stream: keep-alive, redirects, retries (http.h). */
#include "http.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "timing.h"

/* What went wrong, for the retry loop: the network (try again) or the answer (give up). */
enum { ATTEMPT_DONE = 0, ATTEMPT_FINAL = -1, ATTEMPT_NETWORK = -2, ATTEMPT_REDIRECT = 1 };

#define LINE_MAX_BYTES 1024
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000

void http_conn_init(struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->s.fd = -1;
}

void http_conn_close(struct http_conn *c)
{
	net_stream_close(&c->s);
	c->in_pos = c->in_len = 0;
	c->requests = 0;
}

static int conn_open(struct http_conn *c, const struct http_url *u, const struct http_opts *o)
{
	if (c->s.ops && c->https == u->https && strcmp(c->host, u->host) == 0 &&
	    strcmp(c->port, u->port) == 0)
		return 0;
	http_conn_close(c);
	if (u->https && !o->anchors)
		return err_set("https:// needs trust anchors: set 'ca FILE' in the config (or --ca "
			       "FILE)");
	if (net_connect_tcp(&c->s, u->host, u->port, o->io_timeout_ms ? o->io_timeout_ms : 30000))
		return -1;
	if (u->https && tls_wrap(&c->s, o->anchors, u->host) != 0) {
		c->s.ops = NULL;
		return -1;
	}
	c->https = u->https;
	snprintf(c->host, sizeof(c->host), "%s", u->host);
	snprintf(c->port, sizeof(c->port), "%s", u->port);
	return 0;
}

/* The server ended the connection while `what` was under way. */
static int closed_early(const struct http_conn *c, const char *what)
{
	err_set("%s: the server closed the connection %s", c->s.peer, what);
	return ATTEMPT_NETWORK;
}

/* Refills the buffer when it is empty: 1, 0 at the server's end, ATTEMPT_NETWORK. */
static int conn_fill(struct http_conn *c)
{
	if (c->in_pos < c->in_len)
		return 1;
	ssize_t n = c->s.ops->read(&c->s, c->in, sizeof(c->in));
	if (n < 0)
		return ATTEMPT_NETWORK;
	c->in_pos = 0;
	c->in_len = (size_t)n;
	return n > 0;
}

/* Exactly len bytes into buf; ATTEMPT_NETWORK when the connection ends or fails first. */
static int read_exact(struct http_conn *c, char *buf, uint64_t len)
{
	while (len) {
		if (c->in_pos == c->in_len && len >= sizeof(c->in)) {
			/* large bodies go straight to the caller's buffer */
			ssize_t n = c->s.ops->read(&c->s, buf, len > (1u << 30) ? (1u << 30) : len);
			if (n <= 0)
				return n == 0 ? closed_early(c, "in the middle of a body")
					      : ATTEMPT_NETWORK;
			buf += n;
			len -= (uint64_t)n;
			continue;
		}
		int rc = conn_fill(c);
		if (rc <= 0)
			return rc == 0 ? closed_early(c, "in the middle of a body") : ATTEMPT_NETWORK;
		size_t n = c->in_len - c->in_pos;
		if (n > len)
			n = (size_t)len;
		memcpy(buf, c->in + c->in_pos, n);
		c->in_pos += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * Reads up to and including `end` (a CRLF or a CRLF CRLF) into out (at most cap bytes, what
 * was read in *len). *answered is set once a byte arrived. 0, ATTEMPT_FINAL (too long),
 * ATTEMPT_NETWORK.
 */
static int read_until(struct http_conn *c, const char *end, char *out, size_t cap, size_t *len,
		      int *answered, const char *what)
{
	size_t n = 0, elen = strlen(end);
	for (;;) {
		int rc = conn_fill(c);
		if (rc <= 0)
			return rc == 0 ? closed_early(c, n ? "in the middle of a line"
							   : "before it answered")
				       : ATTEMPT_NETWORK;
		if (answered)
			*answered = 1;
		if (n == cap)
			return err_set("%s: %s longer than %zu bytes: refused", c->s.peer, what, cap),
			       ATTEMPT_FINAL;
		out[n++] = c->in[c->in_pos++];
		if (n >= elen && memcmp(out + n - elen, end, elen) == 0) {
			*len = n;
			return 0;
		}
	}
}

/* A chunked body of exactly len bytes into buf. */
static int read_chunked(struct http_conn *c, char *buf, uint64_t len)
{
	char line[LINE_MAX_BYTES];
	size_t n;
	uint64_t got = 0;
	for (;;) {
		int rc = read_until(c, "\r\n", line, sizeof(line), &n, NULL, "a chunk size line");
		if (rc != 0)
			return rc;
		uint64_t size;
		if (http_chunk_line_parse(line, n - 2, &size) != 0)
			return ATTEMPT_FINAL;
		if (size == 0)
			break;
		if (size > len - got)
			return err_set("chunked body: more bytes than the %" PRIu64 " asked for", len),
			       ATTEMPT_FINAL;
		if ((rc = read_exact(c, buf + got, size)) != 0 ||
		    (rc = read_until(c, "\r\n", line, 2, &n, NULL, "a chunk's end")) != 0)
			return rc;
		got += size;
	}
	for (int trailers = 0;; trailers++) { /* trailer fields, skipped, then the empty line */
		int rc = read_until(c, "\r\n", line, sizeof(line), &n, NULL, "a trailer line");
		if (rc != 0)
			return rc;
		if (n == 2)
			break;
		if (trailers == HTTP_HEADERS_MAX)
			return err_set("chunked body: too many trailer lines"), ATTEMPT_FINAL;
	}
	if (got != len)
		return err_set("chunked body of %" PRIu64 " bytes for a range of %" PRIu64, got, len),
		       ATTEMPT_FINAL;
	return 0;
}

static int read_head(struct http_conn *c, struct http_response *r, int *answered)
{
	static _Thread_local char head[HTTP_HEAD_MAX];
	size_t n;
	int rc = read_until(c, "\r\n\r\n", head, sizeof(head), &n, answered, "the response head");
	if (rc != 0)
		return rc;
	return http_response_parse(head, n, r) == 0 ? 0 : ATTEMPT_FINAL;
}

/* The 206's range and length against what was asked, then its body into buf. */
static int take_partial(struct http_conn *c, const struct http_response *r,
			struct http_range *q, void *buf)
{
	uint64_t last = q->off + q->len - 1;
	if (!r->has_range || r->range_unsatisfied)
		return err_set("206 without a Content-Range"), ATTEMPT_FINAL;
	if (r->range_first != q->off || r->range_last != last)
		return err_set("the server sent bytes %" PRIu64 "-%" PRIu64 ", asked for %" PRIu64
			       "-%" PRIu64, r->range_first, r->range_last, q->off, last),
		       ATTEMPT_FINAL;
	q->total = r->range_total;
	if (r->chunked)
		return read_chunked(c, buf, q->len);
	if (!r->has_length)
		return err_set("206 without Content-Length or chunked body"), ATTEMPT_FINAL;
	if (r->length != q->len)
		return err_set("Content-Length %" PRIu64 " for a range of %" PRIu64 " bytes",
			       r->length, q->len), ATTEMPT_FINAL;
	return read_exact(c, buf, q->len);
}

static int attempt(struct http_conn *c, const struct http_url *u, const struct http_opts *o,
		   struct http_range *q, void *buf, struct http_url *next, int *answered)
{
	if (conn_open(c, u, o) != 0)
		return ATTEMPT_NETWORK;
	char host[HTTP_HOST_MAX + 16],
		req[HTTP_PATH_MAX + HTTP_HOST_MAX + HTTP_ETAG_MAX + HTTP_BOARD_MAX + 256];
	http_url_host_header(u, host, sizeof(host));
	int board = o->board && o->board[0];
	if (board && strlen(o->board) >= HTTP_BOARD_MAX)
		return err_set("board serial number longer than %d bytes", HTTP_BOARD_MAX - 1),
		       ATTEMPT_FINAL;
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: selfflash/" SELFFLASH_VERSION
			 "\r\nAccept-Encoding: identity\r\nRange: bytes=%" PRIu64 "-%" PRIu64
			 "\r\n%s%s%s%s%s%s\r\n",
			 u->path, host, q->off, q->off + q->len - 1, q->if_range ? "If-Range: " : "",
			 q->if_range ? q->if_range : "", q->if_range ? "\r\n" : "",
			 board ? "X-Selfflash-Board: " : "", board ? o->board : "", board ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		return err_set("request too long"), ATTEMPT_FINAL;
	if (c->s.ops->write(&c->s, req, (size_t)n) != 0)
		return ATTEMPT_NETWORK;
	struct http_response r;
	int rc = read_head(c, &r, answered);
	if (rc != 0)
		return rc;
	c->requests++;
	snprintf(q->etag, sizeof(q->etag), "%s", r.etag);
	if (r.status == 206) {
		rc = take_partial(c, &r, q, buf);
		if (rc == 0 && (!r.keep_alive || c->in_pos != c->in_len))
			http_conn_close(c); /* its end, or bytes nobody asked for: start afresh */
		return rc;
	}
	http_conn_close(c); /* any other answer's body is not read: the connection ends */
	if (r.status == 200 && q->if_range) {
		q->changed = 1;
		return err_set("the file changed on the server (a full answer to If-Range %s)",
			       q->if_range), ATTEMPT_FINAL;
	}
	if (r.status == 200)
		return err_set("the server ignores Range requests: it must support them (lighttpd, "
			       "nginx, any object store do)"), ATTEMPT_FINAL;
	if (r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 ||
	    r.status == 308) {
		if (!r.location[0])
			return err_set("HTTP %d %s without a Location", r.status,
				       http_status_words(r.status)), ATTEMPT_FINAL;
		return http_url_resolve(u, r.location, next) == 0 ? ATTEMPT_REDIRECT : ATTEMPT_FINAL;
	}
	if (r.status == 416 && r.has_range)
		return err_set("HTTP 416 Range Not Satisfiable: the file has %" PRIu64 " bytes, "
			       "asked for bytes up to %" PRIu64, r.range_total, q->off + q->len),
		       ATTEMPT_FINAL;
	const char *words = http_status_words(r.status);
	return err_set("HTTP %d %s", r.status, words[0] ? words : r.reason), ATTEMPT_FINAL;
}

int http_get_range(struct http_conn *c, struct http_url *url, const struct http_opts *o,
		   struct http_range *q, void *buf)
{
	q->changed = 0;
	q->etag[0] = '\0';
	uint64_t deadline = timing_now_ms() + o->retry_ms;
	unsigned backoff = BACKOFF_FIRST_MS, redirects = 0;
	int stale_retried = 0;
	char where[HTTP_LOCATION_MAX + 16];
	for (;;) {
		int reused = c->requests > 0, answered = 0;
		struct http_url next;
		int rc = attempt(c, url, o, q, buf, &next, &answered);
		if (rc == ATTEMPT_DONE)
			return 0;
		http_url_format(url, where, sizeof(where));
		if (rc == ATTEMPT_REDIRECT) {
			if (++redirects > HTTP_REDIRECTS_MAX)
				return err_set("%s: more than %d redirects", where, HTTP_REDIRECTS_MAX);
			if (url->https && !next.https)
				return err_set("%s: redirected from https to http: refused (a downgrade)",
					       where);
			*url = next;
			continue;
		}
		http_conn_close(c);
		if (rc == ATTEMPT_FINAL)
			return err_prefix("%s", where);
		if (reused && !answered && !stale_retried) {
			stale_retried = 1; /* the server ended an idle keep-alive connection */
			continue;
		}
		uint64_t left = timing_ms_left(deadline);
		if (!o->retry_ms || !left)
			return o->retry_ms ? err_prefix("%s: gave up after %u s of retries", where,
							o->retry_ms / 1000)
					   : err_prefix("%s", where);
		if (o->log)
			fprintf(o->log, "http: %s (bytes %" PRIu64 "+%" PRIu64 "): %s; trying again "
					"in %u ms\n", where, q->off, q->len, err_msg(), backoff);
		timing_sleep_ms(left < backoff ? (unsigned)left : backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		q->retries++;
	}
}

int http_post(const struct http_url *url, const struct http_opts *o, const char *content_type,
	      const void *body, size_t len)
{
	static struct http_conn c; /* the in-buffer is large for a stack: one report at a time */
	http_conn_init(&c);
	char host[HTTP_HOST_MAX + 16], req[HTTP_PATH_MAX + HTTP_HOST_MAX + 256], where[400];
	http_url_host_header(url, host, sizeof(host));
	http_url_format(url, where, sizeof(where));
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: selfflash/" SELFFLASH_VERSION
			 "\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 url->path, host, content_type, len);
	if (n < 0 || (size_t)n >= sizeof(req))
		return err_set("%s: request too long", where);
	struct http_response r;
	int answered = 0;
	int rc = conn_open(&c, url, o) != 0 || c.s.ops->write(&c.s, req, (size_t)n) != 0 ||
			 c.s.ops->write(&c.s, body, len) != 0 || read_head(&c, &r, &answered) != 0
		 ? -1
		 : 0;
	http_conn_close(&c);
	if (rc != 0)
		return err_prefix("%s", where);
	if (r.status < 200 || r.status > 299)
		return err_set("%s: HTTP %d %s", where, r.status,
			       http_status_words(r.status)[0] ? http_status_words(r.status) : r.reason);
	return 0;
}
