/* SPDX-License-Identifier: MIT */
/*
 * Chunks over HTTP(S): each is a byte range of the package file on a web server (DESIGN.md
 * section 11). A small pool of keep-alive connections serves the pipeline's threads at once.
 * The file's ETag and size from the first answer are pinned: a later answer that names
 * another ETag or size (or a 200 to If-Range) stops the run as "changed", and the caller
 * starts again from the manifest. An answer without an ETag says nothing about it (a proxy
 * may drop the header): its size and every chunk's hash still guard the bytes. A chunk whose
 * bytes fail their check is fetched again on a fresh connection (refetch).
 *
 * Read-ahead (expect): chunks the pipeline announces are requested on the pool's spare
 * connections by range_ahead.c's threads, each one request at a time, rather than pipelined
 * on one connection: every request stays an ordinary one that any server, proxy or CDN
 * answers, and a dropped connection or a changed file is met by the same http_source_read
 * (retries, the pin check) as a fetch. One connection is left to fetch itself (the header,
 * the manifest, a chunk nobody announced).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "net/http.h"
#include "package_source.h"
#include "range_ahead.h"
#include "source.h"

#define HTTP_SOURCE_CONNS 4
/* at most this much read ahead: with the pipeline's slots, the flasher stays well under 32 MiB */
#define HTTP_AHEAD_BYTES (8u << 20)

struct http_source {
	struct package_source base; /* first: the run holds the source by it */
	struct chunk_source src;
	uint64_t data_offset;
	struct http_opts opts;
	char board[HTTP_BOARD_MAX]; /* opts.board points here */
	struct tls_anchors *anchors;
	struct range_ahead *ahead; /* its own lock; calls http_source_read */
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t freed;
	struct http_url url; /* where the package is, after redirects */
	uint64_t size;
	char etag[HTTP_ETAG_MAX]; /* pinned; "" when the server gives none */
	int etag_strong;          /* only a strong ETag may go in If-Range */
	int changed;
	char changed_msg[ERR_MSG_MAX];
	unsigned retries, transient, slow, requests, refetched;
	atomic_int stop; /* set at close: requests under way stop retrying */
	int busy[HTTP_SOURCE_CONNS];
	struct http_conn conns[HTTP_SOURCE_CONNS];
};

/* A free connection, preferring one that is still open; waits while all are in use. */
static int take_conn(struct http_source *hs)
{
	int pick = -1;
	while (pick < 0) {
		for (int i = 0; i < HTTP_SOURCE_CONNS; i++)
			if (!hs->busy[i] && (pick < 0 || hs->conns[i].s.ops))
				pick = i;
		if (pick < 0)
			pthread_cond_wait(&hs->freed, &hs->lock);
	}
	hs->busy[pick] = 1;
	return pick;
}

/*
 * The run gave up on the server: requests still waiting on it are woken now (their sockets
 * shut down: each sees the end and stops retrying), not after their own deadlines. Called
 * with the lock. An fd may be closed and reused meanwhile by its owner: shutting down a
 * socket of this source early, or a non-socket (ENOTSOCK), is harmless as the run ends.
 */
static void wake_requests(struct http_source *hs)
{
	for (int i = 0; i < HTTP_SOURCE_CONNS; i++)
		if (hs->busy[i] && hs->conns[i].s.fd >= 0)
			(void)shutdown(hs->conns[i].s.fd, SHUT_RDWR);
}

/* After an answer: is it still the pinned file? 0, or -1 marking the source changed. */
static int check_pin(struct http_source *hs, const struct http_range *q, int rc)
{
	const char *now = NULL;
	if (rc != 0 && q->changed)
		now = q->etag[0] ? q->etag : "none";
	else if (rc == 0 && hs->etag[0] && q->etag[0] && strcmp(q->etag, hs->etag) != 0)
		now = q->etag;
	else if (rc == 0 && q->total != hs->size)
		now = "another size";
	if (!now)
		return rc;
	if (!hs->changed)
		snprintf(hs->changed_msg, sizeof(hs->changed_msg),
			 "the package changed on the server while it was being fetched (ETag %s, "
			 "now %s)", hs->etag[0] ? hs->etag : "none", now);
	hs->changed = 1;
	return err_set("%s", hs->changed_msg);
}

static const char *http_source_changed(struct http_source *hs)
{
	pthread_mutex_lock(&hs->lock);
	const char *msg = hs->changed ? hs->changed_msg : NULL;
	pthread_mutex_unlock(&hs->lock);
	return msg;
}

/* len bytes at off into buf over a pooled connection, a fresh one if `fresh`. */
static int http_source_get(struct http_source *hs, void *buf, size_t len, uint64_t off,
			   int fresh)
{
	if (len == 0)
		return 0;
	pthread_mutex_lock(&hs->lock);
	if (hs->changed) {
		pthread_mutex_unlock(&hs->lock);
		return err_set("%s", hs->changed_msg);
	}
	if (off > hs->size || len > hs->size - off) {
		pthread_mutex_unlock(&hs->lock);
		return err_set("package bytes %" PRIu64 "+%zu are beyond its end (%" PRIu64 " bytes)",
			       off, len, hs->size);
	}
	int i = take_conn(hs);
	if (fresh)
		http_conn_close(&hs->conns[i]);
	struct http_url url = hs->url;
	char etag[HTTP_ETAG_MAX];
	snprintf(etag, sizeof(etag), "%s", hs->etag);
	struct http_range q = { .off = off, .len = len,
				.if_range = hs->etag_strong ? etag : NULL };
	pthread_mutex_unlock(&hs->lock);

	int rc = http_get_range(&hs->conns[i], &url, &hs->opts, &q, buf);

	pthread_mutex_lock(&hs->lock);
	hs->busy[i] = 0;
	hs->retries += q.retries;
	hs->transient += q.transient;
	hs->slow += q.slow;
	hs->requests++;
	if (rc == 0)
		hs->url = url; /* a redirect is remembered: later requests go there at once */
	rc = check_pin(hs, &q, rc);
	if (rc != 0 && atomic_load(&hs->stop))
		wake_requests(hs);
	pthread_cond_signal(&hs->freed);
	pthread_mutex_unlock(&hs->lock);
	return rc;
}

/* A pkg_read_fn over HTTP, safe from several threads at once. */
static int http_source_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return http_source_get(ctx, buf, len, off, 0);
}

static int http_fetch(struct chunk_source *src, const struct pkg_chunk *c, uint8_t *buf)
{
	struct http_source *hs = src->priv;
	uint64_t off = hs->data_offset + c->stored_offset;
	if (off < hs->data_offset)
		return err_set("chunk offset overflows");
	int rc = range_ahead_take(hs->ahead, off, c->stored_size, buf);
	if (rc == 1)
		return http_source_read(hs, buf, c->stored_size, off);
	/* bytes read ahead before a change was seen are not handed over after it: as a fetch */
	const char *changed = http_source_changed(hs);
	if (rc == 0 && changed)
		return err_set("%s", changed);
	return rc;
}

static int http_expect(struct chunk_source *src, const struct pkg_chunk *c)
{
	struct http_source *hs = src->priv;
	uint64_t off = hs->data_offset + c->stored_offset;
	if (off >= hs->data_offset && !http_source_changed(hs))
		range_ahead_expect(hs->ahead, off, c->stored_size);
	return 0;
}

/* c's bytes failed their check (a proxy's corruption): asked again on a fresh connection,
 * past the read-ahead (which may hold the same bad copy). */
static int http_refetch(struct chunk_source *src, const struct pkg_chunk *c, uint8_t *buf,
			unsigned attempt, const char *why)
{
	struct http_source *hs = src->priv;
	uint64_t off = hs->data_offset + c->stored_offset;
	if (off < hs->data_offset)
		return err_set("chunk offset overflows");
	if (hs->opts.log)
		fprintf(hs->opts.log, "http: package bytes %" PRIu64 "+%" PRIu32 ": %s; fetching "
				      "them again on a fresh connection (%u of %d)\n", off,
			c->stored_size, why, attempt, CHUNK_REFETCH_MAX);
	pthread_mutex_lock(&hs->lock);
	hs->refetched++;
	pthread_mutex_unlock(&hs->lock);
	return http_source_get(hs, buf, c->stored_size, off, 1);
}

static const struct chunk_source_ops http_source_ops = {
	.name = "http",
	.fetch = http_fetch,
	.expect = http_expect,
	.refetch = http_refetch,
};

static void http_source_close(struct http_source *hs)
{
	if (!hs)
		return;
	atomic_store(&hs->stop, 1); /* a run that ended waits for no retries */
	range_ahead_close(hs->ahead); /* first: its readers use the connections */
	for (int i = 0; i < HTTP_SOURCE_CONNS; i++)
		http_conn_close(&hs->conns[i]);
	if (hs->anchors)
		tls_anchors_free(hs->anchors);
	pthread_cond_destroy(&hs->freed);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}

/* The first answer (no retries, so a wrong address fails at once) pins the size and ETag. */
static int http_source_open(struct http_source **out, const struct package_source_opts *o)
{
	struct http_url url;
	if (http_url_parse(o->where, &url) != 0)
		return -1;
	if (url.https && !o->ca)
		return err_set("%s: an https:// package needs trust anchors: set 'ca FILE' in the "
			       "config (or --ca FILE)", o->where);
	struct http_source *hs = calloc(1, sizeof(*hs));
	if (!hs)
		return err_set("out of memory");
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->freed, NULL);
	for (int i = 0; i < HTTP_SOURCE_CONNS; i++)
		http_conn_init(&hs->conns[i]);
	hs->url = url;
	hs->src.ops = &http_source_ops;
	hs->src.priv = hs;
	hs->base.ops = &http_package_source;
	hs->base.name = o->where;
	snprintf(hs->board, sizeof(hs->board), "%s", o->serial ? o->serial : "");
	/* a server that answers nothing useful for this long ends the run (--link-timeout) */
	hs->opts = (struct http_opts){ .log = o->log, .board = hs->board, .stop = &hs->stop,
				       .retry_ms = (o->timeout_s ? o->timeout_s : 600) * 1000u,
				       .run_end_ms = o->run_end_ms,
				       .run_timeout_s = o->run_timeout_s };
	/* loaded for http:// too when given: the server may redirect to https:// */
	if (o->ca && tls_anchors_load(o->ca, &hs->anchors) != 0) {
		http_source_close(hs);
		return -1;
	}
	hs->opts.anchors = hs->anchors;
	if (range_ahead_open(&hs->ahead, http_source_read, hs, HTTP_SOURCE_CONNS - 1,
			     HTTP_AHEAD_BYTES) != 0) {
		http_source_close(hs);
		return -1;
	}
	/* the first contact pins size and ETag; a wrong address fails at once, but a server that
	 * answers 503 or trickles is asked again like any other request */
	uint8_t first;
	struct http_range q = { .off = 0, .len = 1, .unreached_final = 1 };
	if (http_get_range(&hs->conns[0], &hs->url, &hs->opts, &q, &first) != 0) {
		http_source_close(hs);
		return -1;
	}
	hs->size = q.total;
	snprintf(hs->etag, sizeof(hs->etag), "%s", q.etag);
	hs->etag_strong = q.etag[0] == '"';
	hs->retries += q.retries;
	hs->transient += q.transient;
	hs->slow += q.slow;
	*out = hs;
	return 0;
}

/* ---- the package source ---------------------------------------------------------------- */

static int http_open(struct package_source **out, const struct package_source_opts *o)
{
	struct http_source *hs;
	if (http_source_open(&hs, o) != 0)
		return -1;
	fprintf(o->log, "flasher: package %s, %" PRIu64 " bytes, ETag %s\n", o->where, hs->size,
		hs->etag[0] ? hs->etag : "none (the size is checked instead)");
	*out = &hs->base;
	return 0;
}

static uint64_t http_size(const struct package_source *s)
{
	return ((const struct http_source *)s)->size;
}

static struct chunk_source *http_chunks(struct package_source *s, uint64_t data_offset)
{
	struct http_source *hs = (struct http_source *)s;
	hs->data_offset = data_offset;
	return &hs->src;
}

static const char *http_changed(struct package_source *s)
{
	return http_source_changed((struct http_source *)s);
}

static void http_log_stats(struct package_source *s, FILE *log)
{
	struct http_source *hs = (struct http_source *)s;
	unsigned ahead, wasted;
	range_ahead_stats(hs->ahead, &ahead, &wasted);
	pthread_mutex_lock(&hs->lock);
	unsigned requests = hs->requests, retries = hs->retries, transient = hs->transient,
		 slow = hs->slow, refetched = hs->refetched;
	pthread_mutex_unlock(&hs->lock);
	fprintf(log, "flasher: http: %u requests (%u chunks read ahead), %u asked again after a "
		     "failure (%u for 408/429/5xx, %u too slow), %u chunks fetched again after a "
		     "failed check\n", requests, ahead, retries, transient, slow, refetched);
}

static void http_close(struct package_source *s)
{
	http_source_close((struct http_source *)s);
}

const struct package_source_ops http_package_source = {
	.name = "web server",
	.open = http_open,
	.size = http_size,
	.read = http_source_read,
	.chunks = http_chunks,
	.changed = http_changed,
	.log_stats = http_log_stats,
	.close = http_close,
};
