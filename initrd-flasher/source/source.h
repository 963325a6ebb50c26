/* SPDX-License-Identifier: MIT */
/*
 * Where the package's chunks come from: one interface (an ops struct, like the targets), one
 * implementation per kind of package source (package_source.h) — a package file
 * (source_file.c), the link to hostload (source_link.c), a web server (source_http.c). The
 * pipeline, the reader and the writers only call chunk_source_fetch_unpacked and
 * chunk_source_expect.
 */
#ifndef SELFFLASH_SOURCE_H
#define SELFFLASH_SOURCE_H

#include <stdint.h>
#include <stdio.h>

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
	/* Optional: c's bytes as fetched failed their CRC or SHA-256 (why, in words): read them
	 * again, afresh (HTTP: a new connection, past any read-ahead), into buf; attempt counts
	 * from 1 to CHUNK_REFETCH_MAX. A source whose bytes cannot differ the next time (a file)
	 * has none. 0 or -1. */
	int (*refetch)(struct chunk_source *src, const struct pkg_chunk *c, uint8_t *buf,
		       unsigned attempt, const char *why);
};

/* A chunk whose bytes fail their check is fetched again at most this often (a flaky proxy
 * corrupts one answer; a package that is bad on the server fails after these). */
#define CHUNK_REFETCH_MAX 3

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

/*
 * The check after a fetch: c's stored bytes (in `stored`, which is raw for a chunk stored as
 * it is) unpacked into raw and checked; when they fail and src can refetch, fetched again up
 * to CHUNK_REFETCH_MAX times before the failure stands. 0 or -1 (err_msg() says the last
 * failure and how often it was fetched).
 */
int chunk_source_unpack_checked(struct chunk_source *src, const struct pkg_chunk *c,
				uint8_t *stored, uint8_t *raw);

/* Tells src that c comes soon, when it can use that; 0 or -1. */
int chunk_source_expect(struct chunk_source *src, const struct pkg_chunk *c);

struct file_source {
	struct chunk_source src;
	int fd;
	uint64_t data_offset; /* where the package's data region starts in the file */
};

/* Chunks read from an open package file whose data region starts at data_offset. */
void file_source_init(struct file_source *fs, int fd, uint64_t data_offset);

#endif
