/* SPDX-License-Identifier: MIT */
/*
 * Where the package's chunks come from: one interface (an ops struct, like the targets), one
 * implementation per kind of source — a package file (source_file.c), the link to hostload
 * (source_link.c), a web server (source_http.c). Add a source (another slot on this board) as
 * one more ops struct in a source_KIND.c with its init function here; nothing else changes.
 */
#ifndef SELFFLASH_SOURCE_H
#define SELFFLASH_SOURCE_H

#include <stdint.h>
#include <stdio.h>

#include "link/link_client.h"
#include "pkg.h"

struct chunk_source;

struct chunk_source_ops {
	const char *name; /* "package file", "link": for messages */
	/* Reads chunk c's stored bytes (c->stored_size) into buf; 0 or -1 with err_msg(). A
	 * source that can lose its connection resumes inside fetch (the link asks again). */
	int (*fetch)(struct chunk_source *src, const struct pkg_chunk *c, uint8_t *buf);
	/* Optional: c will be fetched soon, in this order (the link and HTTP request it ahead;
	 * HTTP hands it over in any order); 0 or -1. */
	int (*expect)(struct chunk_source *src, const struct pkg_chunk *c);
};

struct chunk_source {
	const struct chunk_source_ops *ops;
	void *priv;
	uint64_t bytes_fetched; /* counted by the caller of fetch (it may hold a lock) */
};

/*
 * The one fetch-and-unpack: chunk c (number `index`, for messages) fetched from src and
 * unpacked into raw, its SHA-256 checked (pkg_chunk_unpack). A chunk stored as it is lands in
 * raw directly (one copy fewer); `stored` holds a compressed one. 0 or -1 naming the chunk.
 */
int chunk_source_fetch_unpacked(struct chunk_source *src, const struct pkg_chunk *c,
				uint32_t index, uint8_t *stored, uint8_t *raw);

/* Tells src that c comes soon, when it can use that; 0 or -1. */
int chunk_source_expect(struct chunk_source *src, const struct pkg_chunk *c);

struct file_source {
	struct chunk_source src;
	int fd;
	uint64_t data_offset; /* where the package's data region starts in the file */
};

/* Chunks read from an open package file whose data region starts at data_offset. */
void file_source_init(struct file_source *fs, int fd, uint64_t data_offset);

struct link_source {
	struct chunk_source src;
	struct link_client *link;
	uint64_t data_offset;
};

/* Chunks requested over the link from hostload; expected chunks are requested ahead. */
void link_source_init(struct link_source *ls, struct link_client *link, uint64_t data_offset);

struct http_source_opts {
	const char *url;        /* http:// or https:// */
	const char *ca;         /* PEM trust anchors: needed for https://, loaded for http://
				 * too when set (a server may redirect to https://) */
	unsigned retry_s;       /* a dropped connection is retried this long (the link timeout) */
	unsigned io_timeout_ms; /* each connect, read, write; 0: 30 s */
	FILE *log;              /* retries are told here */
	const char *board;      /* sent as X-Selfflash-Board (http.h); may be NULL */
};

/* Opaque: a pool of connections to one package URL, its size and ETag pinned. */
struct http_source;

/*
 * Opens the package at o->url: the first answer (no retries, so a wrong address fails at
 * once) gives its size and ETag, pinned from then on. 0 (*out, for http_source_close) or -1
 * naming the URL and the problem (no range support, 404, refused, DNS, ...).
 */
int http_source_open(struct http_source **out, const struct http_source_opts *o);

/* The package's size, from the first answer. */
uint64_t http_source_size(const struct http_source *hs);
/* The pinned ETag ("" when the server gives none). */
const char *http_source_etag(const struct http_source *hs);

/* A pkg_read_fn (pkg_file.h) over HTTP, safe from several threads at once: bytes
 * [off, off + len) of the package into buf. 0 or -1 (see http_source_changed). */
int http_source_read(void *hs, void *buf, size_t len, uint64_t off);

/* The chunk source over hs for a package whose data region starts at data_offset. */
struct chunk_source *http_source_chunks(struct http_source *hs, uint64_t data_offset);

/* NULL, or the message saying how the file changed on the server since it was pinned. */
const char *http_source_changed(struct http_source *hs);

/* Requests answered, connections reopened after a failure, and chunks that were read ahead
 * (announced by expect, requested on a spare connection) so far. */
void http_source_stats(struct http_source *hs, unsigned *requests, unsigned *retries,
		       unsigned *ahead);

void http_source_close(struct http_source *hs);

#endif
