/* SPDX-License-Identifier: MIT */
/*
 * Where a flash or an update takes its package from: a file on the board, hostload over the
 * link, or a web server. One ops struct per kind, one const table that picks the kind from the
 * place's text (package_source.c: `http://`, `https://`, a link spec, else a file), so the run
 * never asks which kind it has. Adding a kind of source is one row there and one file here
 * with its ops (docs/architecture.md, "Add a package source").
 *
 * The run calls, in this order: package_source_open -> read (header and manifest, through
 * pkg_file_open_reader) -> pin (once the signature holds) -> chunks (the data region) ->
 * changed and log_stats (at the end) -> close. A source with a host (the link) also carries
 * the board's log, progress and result to it.
 */
#ifndef SELFFLASH_PACKAGE_SOURCE_H
#define SELFFLASH_PACKAGE_SOURCE_H

#include <stdint.h>
#include <stdio.h>

#include "link/link_client.h"
#include "pkg_file.h"
#include "source.h"

/* What opening a package source needs; every string outlives the source. */
struct package_source_opts {
	const char *where;       /* a file path, a link spec, or an http(s):// URL */
	const char *ca;          /* PEM trust anchors (https://; loaded for http:// when set) */
	unsigned timeout_s;      /* give up when the host or server is gone this long; 0: 10 min */
	/* a web server: the run's end (timing_now_ms; 0: none), run_timeout_s after it began */
	uint64_t run_end_ms;
	unsigned run_timeout_s;
	const char *serial;      /* the module EEPROM's serial number ("" unknown) */
	const char *part_number; /* the module's part number, for the host's board name */
	FILE *console;           /* the link's own events */
	FILE *log;               /* what the source tells about itself */
	struct usb_gadget_opts usb; /* usb-gadget: links; serial NULL: the module's */
};

struct package_source;

struct package_source_ops {
	const char *name; /* "package file", "link", "web server": for messages */
	/* Opens o->where; 0 (*out, for close) or -1 naming the place and the problem. */
	int (*open)(struct package_source **out, const struct package_source_opts *o);
	/* The package's size in bytes, known once open. */
	uint64_t (*size)(const struct package_source *s);
	/* A pkg_read_fn (pkg_file.h) over s: bytes [off, off + len) into buf; 0 or -1. */
	int (*read)(void *s, void *buf, size_t len, uint64_t off);
	/* Optional: bytes [0, len) are trusted now (the signature held); a source that reconnects
	 * must find the same bytes again. 0 or -1. */
	int (*pin)(struct package_source *s, uint64_t len);
	/* The chunk source over s for a package whose data region starts at data_offset. */
	struct chunk_source *(*chunks)(struct package_source *s, uint64_t data_offset);
	/* Optional: the host this run reports to (log, progress, result), or NULL. */
	struct link_client *(*host)(struct package_source *s);
	/* Optional: NULL, or how the package changed at its place since it was opened (a web
	 * server's file replaced): the run then starts again from the manifest. */
	const char *(*changed)(struct package_source *s);
	/* Optional: a line of what the source did (requests, reconnects) to log. */
	void (*log_stats)(struct package_source *s, FILE *log);
	void (*close)(struct package_source *s);
};

/* The part every kind's state starts with. */
struct package_source {
	const struct package_source_ops *ops;
	const char *name; /* the package in messages: its path, its URL, or the host's name */
};

/* The kind of source that serves `where` (never NULL: a place that is no URL and no link
 * spec is a file). */
const struct package_source_ops *package_source_kind(const char *where);

/* Opens the package at o->where with its kind's ops; 0 (*out) or -1. */
int package_source_open(struct package_source **out, const struct package_source_opts *o);

/* The host s reports to (NULL: none). */
struct link_client *package_source_host(struct package_source *s);

/* NULL, or how the package changed at its place (see changed above). */
const char *package_source_changed(struct package_source *s);

/* A line of what s did (requests, reconnects) to log, if it keeps count. */
void package_source_log_stats(struct package_source *s, FILE *log);

/* Closes s (NULL is fine). */
void package_source_close(struct package_source *s);

extern const struct package_source_ops file_package_source;
extern const struct package_source_ops link_package_source;
extern const struct package_source_ops http_package_source;

#endif
