/* SPDX-License-Identifier: MIT */
/*
 * One run: a flash or an update is a const table of steps (struct run_kind) over one struct
 * run. run_execute runs the steps in order, stops at the first that fails, stops before the
 * first step that writes when only a plan is asked for, and ends the same way for every kind:
 * the source's statistics, the result to the host, the report, everything let go. When the
 * package changed on its web server during a run, the run starts again from the manifest (at
 * most RUN_RESTARTS_MAX times); what a run found comes back as a value (struct run_outcome),
 * never through a static.
 *
 * The steps both kinds share are here too (run_steps.c): identify, the package opened,
 * verified (signature first) and its variant picked, the images written and read back.
 */
#ifndef SELFFLASH_RUN_H
#define SELFFLASH_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "flash_config.h"
#include "identify.h"
#include "pkg_file.h"
#include "progress.h"
#include "report.h"
#include "source/package_source.h"
#include "target/target.h"
#include "write/write.h"

/* Buffers sized once at start: the write loop allocates nothing. */
#define RUN_WORK_BUF_SIZE (1u << 20)

/* How many times a run starts again from the manifest when the package changed on the
 * server while it was being fetched. */
#define RUN_RESTARTS_MAX 3

/* What the steps of one run hand on to each other. */
struct run {
	const struct flash_config *c; /* c->log is the run's log (teed to the host, if any) */
	struct flash_config config;   /* the caller's, with the log replaced */
	const struct run_kind *kind;
	struct report_log log;
	FILE *tee;
	struct report_steps steps;
	struct flash_progress progress;
	struct package_source *source;
	struct pkg_file pkg;
	struct board_id id;
	int variant;
	struct target targets[PKG_MAX_TARGETS];
	int opened[PKG_MAX_TARGETS];
	struct pkg_partition parts[PKG_MAX_PARTITIONS];
	uint8_t *raw, *stored, *buf_a, *buf_b;
	size_t chunk_buf;
	/* what the writes did, for the summary and the report */
	struct write_stats by_kind[TARGET_KIND_COUNT]; /* target_kind.h */
	struct write_delta delta;
	uint8_t slot;   /* the slot written and booted next */
	double start_s;
	uint64_t run_end_ms; /* a web server's package is fetched until then (timing_now_ms) */
	void *job;      /* the kind's own state (kind->job_size bytes, zeroed) */
};

/* A step that told the host no phase of its own. */
#define RUN_NO_PHASE LINK_PHASE_COUNT

struct run_step {
	const char *name;   /* in the log's "time per step" */
	uint8_t phase;      /* told to the host as the step starts (link_msg.h); RUN_NO_PHASE */
	int (*run)(struct run *r); /* 0, or -1 with err_msg() */
};

struct run_kind {
	const char *name;              /* "flash", "update": for the report */
	const struct run_step *steps;
	size_t nsteps;
	size_t plan_steps;             /* the first steps, which write nothing: a dry run's all */
	size_t job_size;
	/* The one-line result of a run that succeeded, into out; also logs it. */
	void (*summarize)(struct run *r, char *out, size_t size);
};

/* What one run found. */
struct run_outcome {
	int rc;
	char changed[ERR_MSG_MAX]; /* "": the package did not change at its place */
};

/* Runs kind's steps with config c, again from the manifest when the package changed on its
 * server. 0, or -1 with err_msg() naming what failed. */
int run_execute(const struct run_kind *kind, const struct flash_config *c);

/* ---- the steps both kinds share (run_steps.c) ------------------------------------------ */

/* Board identity from the module EEPROM and chip SKU, logged. */
int run_step_identify(struct run *r);

/* The package opened at its place (a file, the link, a web server): header and manifest
 * bytes; a source with a host gets the log and progress from now on. */
int run_step_open_package(struct run *r);

/* The signature verified, then the manifest decoded and pinned for reconnects; the board's
 * variant picked; the buffers sized. */
int run_step_verify(struct run *r);

/*
 * Every image of the variant (only those of partitions with only_parts[i] set, unless NULL)
 * written and read back, chunks also looked for in alt_parts (may be NULL); with
 * whole_partitions each disk partition made equal to its image over its whole size (write.h);
 * the counts go to r->by_kind and r->delta. 0 or -1.
 */
int run_write_images(struct run *r, const uint8_t *only_parts,
		     const struct pkg_partition *alt_parts, int whole_partitions);

#endif
