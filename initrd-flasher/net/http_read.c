/* SPDX-License-Identifier: MIT */
/* An answer read off a connection within its request's deadline: head, bodies (http_read.h). */
#include "http_read.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "timing.h"

#define LINE_MAX_BYTES 1024

/* The server ended the connection while `what` was under way. */
int http_closed_early(const struct http_conn *c, const char *what)
{
	err_set("%s: the server closed the connection %s", c->s.peer, what);
	return ATTEMPT_NETWORK;
}

/*
 * A read or write failed: when the request's deadline passed, says so in terms of the request
 * (the run's end, no head in time, a body too slow or stalled) and returns ATTEMPT_SLOW; else
 * the stream's own message stands (ATTEMPT_NETWORK).
 */
int http_io_failed(struct http_conn *c)
{
	if (!c->s.deadline_ms || timing_ms_left(c->s.deadline_ms))
		return ATTEMPT_NETWORK;
	if (c->s.end_ms && !timing_ms_left(c->s.end_ms)) {
		if (!c->in_body)
			return err_set("%s: the run's deadline passed before the answer came",
				       c->s.peer), ATTEMPT_SLOW;
		return err_set("%s: the run's deadline passed during the answer (%" PRIu64 " of %"
			       PRIu64 " bytes)", c->s.peer, c->body_got, c->body_len), ATTEMPT_SLOW;
	}
	if (!c->in_body)
		return err_set("%s: no answer within %u s of asking (timed out)", c->s.peer,
			       c->head_wait_ms / 1000), ATTEMPT_SLOW;
	uint64_t ms = timing_now_ms() - c->body_start_ms;
	uint64_t rate = ms ? c->body_got * 1000 / ms : c->body_got;
	if (rate >= HTTP_MIN_RATE)
		return err_set("%s: the answer stalled: nothing for %u s (%" PRIu64 " of %" PRIu64
			       " bytes in %.1f s): dropped", c->s.peer, HTTP_STALL_MS / 1000,
			       c->body_got, c->body_len, (double)ms / 1000), ATTEMPT_SLOW;
	return err_set("%s: the answer came at %" PRIu64 " bytes/s (%" PRIu64 " of %" PRIu64
		       " bytes in %.1f s), below the minimum of %d bytes/s: dropped", c->s.peer,
		       rate, c->body_got, c->body_len, (double)ms / 1000, HTTP_MIN_RATE),
	       ATTEMPT_SLOW;
}

/*
 * The body's own bytes against the minimum rate: the stream's deadline (net_stream.h) is
 * moved by every byte on the wire, chunk-size lines and their extensions (and TLS records'
 * framing) included, so a server sending mostly framing fast enough would keep a request
 * alive with almost no data. The same allowance as the stream's, counted in body bytes:
 * HTTP_STALL_MS, plus 1/HTTP_MIN_RATE s per byte. 0, or ATTEMPT_SLOW naming the rate.
 */
static int body_rate_check(struct http_conn *c)
{
	if (!c->in_body)
		return 0;
	uint64_t ms = timing_now_ms() - c->body_start_ms;
	if (ms <= HTTP_STALL_MS + c->body_got * 1000 / HTTP_MIN_RATE)
		return 0;
	return err_set("%s: the answer's data came at %" PRIu64 " bytes/s (%" PRIu64 " of %" PRIu64
		       " bytes in %.1f s, the rest of what arrived framing), below the minimum of "
		       "%d bytes/s: dropped", c->s.peer, c->body_got * 1000 / ms, c->body_got,
		       c->body_len, (double)ms / 1000, HTTP_MIN_RATE), ATTEMPT_SLOW;
}

/* Refills the buffer when it is empty: 1, 0 at the server's end, ATTEMPT_NETWORK/_SLOW. */
static int conn_fill(struct http_conn *c)
{
	if (c->in_pos < c->in_len)
		return 1;
	int slow = body_rate_check(c);
	if (slow)
		return slow;
	ssize_t n = c->s.ops->read(&c->s, c->in, sizeof(c->in));
	if (n < 0)
		return http_io_failed(c);
	c->in_pos = 0;
	c->in_len = (size_t)n;
	return n > 0;
}

/* Exactly len bytes into buf; ATTEMPT_NETWORK when the connection ends or fails first. */
int http_read_exact(struct http_conn *c, char *buf, uint64_t len)
{
	while (len) {
		if (c->in_pos == c->in_len && len >= sizeof(c->in)) {
			int slow = body_rate_check(c);
			if (slow)
				return slow;
			/* large bodies go straight to the caller's buffer */
			ssize_t n = c->s.ops->read(&c->s, buf, len > (1u << 30) ? (1u << 30) : len);
			if (n <= 0)
				return n == 0 ? http_closed_early(c, "in the middle of a body") : http_io_failed(c);
			buf += n;
			len -= (uint64_t)n;
			c->body_got += (uint64_t)n;
			continue;
		}
		int rc = conn_fill(c);
		if (rc <= 0)
			return rc == 0 ? http_closed_early(c, "in the middle of a body") : rc;
		size_t n = c->in_len - c->in_pos;
		if (n > len)
			n = (size_t)len;
		memcpy(buf, c->in + c->in_pos, n);
		c->in_pos += n;
		c->body_got += n;
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
			return rc == 0 ? http_closed_early(c, n ? "in the middle of a line"
							   : "before it answered")
				       : rc;
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
int http_read_chunked(struct http_conn *c, char *buf, uint64_t len)
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
		if ((rc = http_read_exact(c, buf + got, size)) != 0 ||
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
		if (trailers == HTTP_TRAILERS_MAX)
			return err_set("chunked body: too many trailer lines"), ATTEMPT_FINAL;
	}
	if (got != len)
		return err_set("chunked body of %" PRIu64 " bytes for a range of %" PRIu64, got, len),
		       ATTEMPT_FINAL;
	return 0;
}

int http_read_head(struct http_conn *c, struct http_response *r, int *answered)
{
	static _Thread_local char head[HTTP_HEAD_MAX];
	size_t n;
	int rc = read_until(c, "\r\n\r\n", head, sizeof(head), &n, answered, "the response head");
	if (rc != 0)
		return rc;
	return http_response_parse(head, n, r) == 0 ? 0 : ATTEMPT_FINAL;
}
