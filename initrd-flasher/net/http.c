/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 range requests over a net_stream: keep-alive, redirects, retries (http.h). */
#include "http.h"
#include "http_read.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "timing.h"

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

/* The I/O timeout, cut to what is left before deadline (0: none); at least 1 ms. */
static unsigned io_wait_ms(const struct http_opts *o, uint64_t deadline)
{
	uint64_t wait = o->io_timeout_ms ? o->io_timeout_ms : 30000;
	if (deadline && timing_ms_left(deadline) < wait)
		wait = timing_ms_left(deadline);
	return wait ? (unsigned)wait : 1;
}

static int conn_open(struct http_conn *c, const struct http_url *u, const struct http_opts *o,
		     uint64_t deadline)
{
	if (c->s.ops && c->https == u->https && strcmp(c->host, u->host) == 0 &&
	    strcmp(c->port, u->port) == 0)
		return 0;
	http_conn_close(c);
	if (u->https && !o->anchors)
		return err_set("https:// needs trust anchors: set 'ca FILE' in the config (or --ca "
			       "FILE)");
	if (net_connect_tcp(&c->s, u->host, u->port, io_wait_ms(o, deadline)))
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

/* The 206's range and length against what was asked, then its body into buf, at
 * HTTP_MIN_RATE or faster. */
static int take_partial(struct http_conn *c, const struct http_response *r,
			struct http_range *q, void *buf)
{
	uint64_t last = q->off + q->len - 1;
	if (r->encoding[0])
		return err_set("the server sent %s-encoded data; the flasher asks for the bytes as "
			       "stored (Accept-Encoding: identity) and reads nothing else: turn "
			       "compression off for this file on the server or proxy", r->encoding),
		       ATTEMPT_FINAL;
	if (!r->has_range || r->range_unsatisfied)
		return err_set("206 without a Content-Range"), ATTEMPT_FINAL;
	if (r->range_first != q->off || r->range_last != last)
		return err_set("the server sent bytes %" PRIu64 "-%" PRIu64 ", asked for %" PRIu64
			       "-%" PRIu64, r->range_first, r->range_last, q->off, last),
		       ATTEMPT_FINAL;
	q->total = r->range_total;
	c->in_body = 1;
	c->body_start_ms = timing_now_ms();
	c->body_got = 0;
	c->body_len = q->len;
	net_stream_set_deadline(&c->s, c->body_start_ms + HTTP_STALL_MS, HTTP_MIN_RATE,
				HTTP_STALL_MS);
	if (r->chunked)
		return http_read_chunked(c, buf, q->len);
	if (!r->has_length)
		return err_set("206 without Content-Length or chunked body"), ATTEMPT_FINAL;
	if (r->length != q->len)
		return err_set("Content-Length %" PRIu64 " for a range of %" PRIu64 " bytes",
			       r->length, q->len), ATTEMPT_FINAL;
	return http_read_exact(c, buf, q->len);
}

/*
 * One request on c (opened if needed): ATTEMPT_DONE with the bytes in buf, or what went
 * wrong; a transient status leaves the wait its Retry-After asks in *retry_after_ms.
 */
static int attempt(struct http_conn *c, const struct http_url *u, const struct http_opts *o,
		   struct http_range *q, void *buf, struct http_url *next, int *answered,
		   uint64_t deadline, uint64_t *retry_after_ms)
{
	if (conn_open(c, u, o, deadline) != 0)
		return ATTEMPT_UNREACHED;
	c->s.end_ms = o->run_end_ms; /* every wait of this request keeps to the run's end */
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
	c->in_body = 0;
	c->head_wait_ms = io_wait_ms(o, deadline);
	net_stream_set_deadline(&c->s, timing_now_ms() + c->head_wait_ms, 0, 0);
	if (c->s.ops->write(&c->s, req, (size_t)n) != 0)
		return http_io_failed(c);
	struct http_response r;
	int rc = http_read_head(c, &r, answered);
	if (rc != 0)
		return rc;
	c->requests++;
	snprintf(q->etag, sizeof(q->etag), "%s", r.etag);
	if (r.status == 206) {
		rc = take_partial(c, &r, q, buf);
		net_stream_set_deadline(&c->s, 0, 0, 0);
		if (rc == 0 && (!r.keep_alive || c->in_pos != c->in_len))
			http_conn_close(c); /* its end, or bytes nobody asked for: start afresh */
		return rc;
	}
	http_conn_close(c); /* any other answer's body is not read: the connection ends */
	const char *words = http_status_words(r.status);
	if (http_status_is_transient(r.status)) {
		*retry_after_ms = http_retry_after_ms(&r, (int64_t)time(NULL));
		return err_set("HTTP %d %s", r.status, words[0] ? words : r.reason),
		       ATTEMPT_TRANSIENT;
	}
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
	return err_set("HTTP %d %s", r.status, words[0] ? words : r.reason), ATTEMPT_FINAL;
}

/* Sleeps ms, in slices, until *stop is set. */
static void retry_sleep(const struct http_opts *o, uint64_t ms)
{
	while (ms && !(o->stop && atomic_load(o->stop))) {
		unsigned slice = ms < 200 ? (unsigned)ms : 200;
		timing_sleep_ms(slice);
		ms -= slice;
	}
}

int http_get_range(struct http_conn *c, struct http_url *url, const struct http_opts *o,
		   struct http_range *q, void *buf)
{
	q->changed = 0;
	q->etag[0] = '\0';
	uint64_t start = timing_now_ms();
	uint64_t deadline = o->retry_ms ? start + o->retry_ms : 0;
	/* the run's end cuts this call's retries short: then it, not the server, is named */
	int run_ends_first = o->run_end_ms && deadline && o->run_end_ms <= deadline;
	if (run_ends_first)
		deadline = o->run_end_ms;
	unsigned backoff = BACKOFF_FIRST_MS, redirects = 0;
	int stale_retried = 0;
	char where[HTTP_LOCATION_MAX + 16];
	if (o->run_end_ms && !timing_ms_left(o->run_end_ms)) {
		http_url_format(url, where, sizeof(where));
		return err_set("%s: the run's deadline passed (run-timeout %u s)", where,
			       o->run_timeout_s);
	}
	if (o->stop && atomic_load(o->stop)) { /* another request gave up on the server */
		http_url_format(url, where, sizeof(where));
		return err_set("%s: the run gave up on this server (link-timeout %u s)", where,
			       o->retry_ms / 1000);
	}
	for (;;) {
		int reused = c->requests > 0, answered = 0;
		struct http_url next;
		uint64_t retry_after = 0;
		int rc = attempt(c, url, o, q, buf, &next, &answered, deadline, &retry_after);
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
		if (rc == ATTEMPT_FINAL || (rc == ATTEMPT_UNREACHED && q->unreached_final))
			return err_prefix("%s", where);
		if (rc == ATTEMPT_NETWORK && reused && !answered && !stale_retried) {
			stale_retried = 1; /* the server ended an idle keep-alive connection */
			continue;
		}
		if (o->stop && atomic_load(o->stop))
			return err_prefix("%s: the run gave up on this server (link-timeout %u s)", where,
					  o->retry_ms / 1000);
		/* a server's Retry-After is honoured, within reason; else our own backoff */
		uint64_t wait = backoff, left = deadline ? timing_ms_left(deadline) : 0;
		if (rc == ATTEMPT_TRANSIENT && retry_after)
			wait = retry_after < HTTP_RETRY_AFTER_MAX_MS ? retry_after
								      : HTTP_RETRY_AFTER_MAX_MS;
		if (!deadline)
			return err_prefix("%s", where);
		if (wait >= left) {
			if (o->stop)
				atomic_store(o->stop, 1); /* the server is gone: the others stop too */
			if (run_ends_first)
				return err_prefix("%s: %s (run-timeout %u s), %.1f s into this request",
						  where, left ? "no time left for another try before "
								"the run's deadline"
							      : "stopped at the run's deadline",
						  o->run_timeout_s,
						  (double)(timing_now_ms() - start) / 1000);
			return err_prefix("%s: gave up after %.0f s of retries (link-timeout %u s)",
					  where, (double)(timing_now_ms() - start) / 1000,
					  o->retry_ms / 1000);
		}
		if (o->log)
			fprintf(o->log, "http: %s (bytes %" PRIu64 "+%" PRIu64 "): %s; trying again "
					"in %" PRIu64 " ms%s\n", where, q->off, q->len, err_msg(), wait,
				rc == ATTEMPT_TRANSIENT && retry_after ? " (its Retry-After)" : "");
		retry_sleep(o, wait);
		if (rc != ATTEMPT_TRANSIENT || !retry_after)
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		q->retries++;
		q->transient += rc == ATTEMPT_TRANSIENT;
		q->slow += rc == ATTEMPT_SLOW;
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
	int rc = conn_open(&c, url, o, 0);
	if (rc == 0) { /* sent and answered within the I/O timeout, however the server trickles */
		c.head_wait_ms = io_wait_ms(o, 0);
		net_stream_set_deadline(&c.s, timing_now_ms() + c.head_wait_ms, 0, 0);
		rc = c.s.ops->write(&c.s, req, (size_t)n) != 0 ||
				     c.s.ops->write(&c.s, body, len) != 0 ||
				     http_read_head(&c, &r, &answered) != 0
			     ? -1
			     : 0;
	}
	http_conn_close(&c);
	if (rc != 0)
		return err_prefix("%s", where);
	if (r.status < 200 || r.status > 299)
		return err_set("%s: HTTP %d %s", where, r.status,
			       http_status_words(r.status)[0] ? http_status_words(r.status) : r.reason);
	return 0;
}
