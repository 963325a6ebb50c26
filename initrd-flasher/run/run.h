/* SPDX-License-Identifier: MIT */
/*
 * What a flash and an update both do first and last: identify the board, open the package (a
 * file, or over the link), verify its signature and only then decode it, pick the board's
 * variant, size the buffers; at the end tell the host how it went and let everything go.
 * flash.c and update.c are the two orchestrators built on it.
 */
#ifndef SELFFLASH_RUN_H
#define SELFFLASH_RUN_H

#include <stdint.h>

#include "flash_config.h"
#include "identify.h"
#include "link/link_client.h"
#include "pkg_file.h"
#include "progress.h"
#include "report.h"
#include "source/source.h"
#include "target/target.h"
#include "write/write.h"

/* Buffers sized once at start: the write loop allocates nothing. */
#define RUN_WORK_BUF_SIZE (1u << 20)

/* What the stages hand on to each other for one run. */
struct flash_run {
	const struct flash_config *c; /* c->log is the run's log (teed to the host over a link) */
	struct flash_config config;   /* the caller's, with the log replaced */
	struct link_client link;
	int link_open;
	struct report_log log;
	FILE *tee;
	struct report_steps steps;
	struct flash_progress progress;
	struct pkg_file pkg;
	struct board_id id;
	int variant;
	struct target targets[PKG_MAX_TARGETS];
	int opened[PKG_MAX_TARGETS];
	struct pkg_partition parts[PKG_MAX_PARTITIONS];
	uint8_t *raw, *stored, *buf_a, *buf_b;
	size_t chunk_buf;
	struct file_source file_src;
	struct link_source link_src;
	struct http_source *http_src;
	/* for the report (run_report.c): what ran, on which slot, since when */
	const char *kind; /* "flash" or "update" */
	uint8_t slot;
	double start_s;
	struct write_delta delta; /* what write_images found on the board */
};

/* Starts a run of config (its log teed to the host when the package comes over a link). */
void run_begin(struct flash_run *r, const struct flash_config *config);

/* Board identity from the module EEPROM and chip SKU, logged. 0 or -1. */
int run_identify(struct flash_run *r);

/* The package opened (file or link), its signature verified, then decoded; the manifest
 * pinned for reconnects; the board's variant picked; buffers sized. 0 or -1. */
int run_open_verified(struct flash_run *r);

/* Where chunks come from for this run (the package file, or the link). */
struct chunk_source *run_chunk_source(struct flash_run *r);

/* How many times a run starts again from the manifest when the package changed on the
 * server while it was being fetched. */
#define RUN_RESTARTS_MAX 3

/*
 * Runs once(c); when it failed because the package changed on the web server (a new ETag),
 * logs so and runs it again from the manifest, at most RUN_RESTARTS_MAX times: the delta
 * finds what the first run wrote, so a restart fetches only what differs. once's result.
 */
int run_restarting(int (*once)(const struct flash_config *c), const struct flash_config *c);

/* Tells the host how it ended (over a link), closes targets and the package, frees. */
void run_end(struct flash_run *r, int rc, const char *summary);

#endif
