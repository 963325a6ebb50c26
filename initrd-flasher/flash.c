/* SPDX-License-Identifier: MIT */
/*
 * The orchestrator: identify -> link and package -> verify -> plan -> GPT -> write and read
 * back -> boot slot -> report, each stage in its own file. Nothing is written before verify
 * and plan passed; the boot slot is set only after every read-back check passed.
 */
#include "flash.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bootslot.h"
#include "error.h"
#include "gpt_write.h"
#include "identify.h"
#include "link_client.h"
#include "pkg_file.h"
#include "plan.h"
#include "progress.h"
#include "report.h"
#include "source.h"
#include "target.h"
#include "timing.h"
#include "verify.h"
#include "write.h"

/* Buffers sized once at start: the write loop allocates nothing. */
#define WORK_BUF_SIZE (1u << 20)

/* What the stages hand on to each other for one run. */
struct flash_run {
	const struct flash_config *c;
	struct link_client link;
	int link_open;
	struct report_log log;
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
};

static int link_pkg_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return link_client_read(ctx, off, buf, len);
}

/* The package: a file, or the one hostload serves over the link (header and manifest bytes). */
static int open_package(struct flash_run *r)
{
	const struct flash_config *c = r->c;
	if (!c->link)
		return pkg_file_open(c->package, &r->pkg);
	char board[LINK_NAME_MAX];
	snprintf(board, sizeof(board), "%s %s", r->id.serial[0] ? r->id.serial : "?",
		 r->id.part_number);
	struct link_client_opts o = { .spec = c->link, .board = board, .console = r->log.console,
				      .reconnect_ms = c->link_timeout_s * 1000u, .usb = c->usb };
	if (!o.usb.serial)
		o.usb.serial = r->id.serial; /* the USB serial number is the module's */
	if (link_client_open(&r->link, &o) != 0)
		return -1;
	r->link_open = 1;
	r->progress.link = &r->link;
	report_log_attach(&r->log, &r->link);
	return pkg_file_open_reader(&r->pkg, r->link.package, link_client_package_size(&r->link),
				    link_pkg_read, &r->link);
}

static int identify(struct flash_run *r)
{
	const struct flash_config *c = r->c;
	if (identify_read_board(c->eeprom, c->chip_sku, c->chip_sku_file, &r->id) != 0)
		return -1;
	char me[200];
	identify_describe(&r->id, me, sizeof(me));
	fprintf(c->log, "flasher: %s, serial %s\n", me, r->id.serial[0] ? r->id.serial : "?");
	return 0;
}

static int pick_variant(struct flash_run *r)
{
	r->variant = identify_pick_variant(&r->pkg.manifest, &r->id);
	if (r->variant < 0)
		return -1;
	struct pkg_variant v;
	pkg_manifest_variant(&r->pkg.manifest, (uint32_t)r->variant, &v);
	fprintf(r->c->log, "flasher: package variant %s\n", v.name);
	return 0;
}

static int alloc_buffers(struct flash_run *r)
{
	r->chunk_buf = image_largest_chunk(&r->pkg.manifest);
	r->raw = malloc(r->chunk_buf);
	r->stored = malloc(r->chunk_buf);
	/* aligned for the disks' O_DIRECT read-back */
	r->buf_a = aligned_alloc(TARGET_DIRECT_ALIGN, WORK_BUF_SIZE);
	r->buf_b = aligned_alloc(TARGET_DIRECT_ALIGN, WORK_BUF_SIZE);
	if (!r->raw || !r->stored || !r->buf_a || !r->buf_b)
		return err_set("out of memory for the work buffers");
	return 0;
}

static int write_and_read_back(struct flash_run *r, struct write_stats by_kind[2])
{
	const struct pkg_manifest *m = &r->pkg.manifest;
	struct file_source fs;
	struct link_source ls;
	uint64_t data_offset = PKG_MANIFEST_OFFSET + r->pkg.header.manifest_size;
	struct chunk_source *src;
	if (r->link_open) {
		link_source_init(&ls, &r->link, data_offset);
		src = &ls.src;
	} else {
		file_source_init(&fs, r->pkg.fd, data_offset);
		src = &fs.src;
	}
	struct write_plan w = { .m = m, .variant = (uint32_t)r->variant, .parts = r->parts,
				.targets = r->targets, .src = src, .raw = r->raw,
				.stored = r->stored, .chunk_buf = r->chunk_buf, .buf_a = r->buf_a,
				.buf_b = r->buf_b, .buf_size = WORK_BUF_SIZE, .threads = 0,
				.delta = !r->c->no_delta, .parallel = !r->c->sequential,
				.progress = &r->progress.wp, .log = r->c->log };
	return write_images(&w, by_kind);
}

static int flash_steps(struct flash_run *r, struct write_stats by_kind[2])
{
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	report_step(&r->steps, "identify");
	if (identify(r) != 0)
		return -1;
	report_step(&r->steps, "link and manifest");
	if (open_package(r) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_VERIFY, "");
	report_step(&r->steps, "verify");
	if (verify_package(&r->pkg, c->pubkey, c->allow_unsigned, c->log) != 0)
		return -1;
	/* the manifest is trusted now: a reconnect must find the same one */
	if (r->link_open &&
	    link_client_pin(&r->link, PKG_PREFIX_SIZE + r->pkg.header.manifest_size) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_IDENTIFY, "");
	if (pick_variant(r) != 0 || alloc_buffers(r) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_PLAN, "");
	report_step(&r->steps, "plan");
	if (plan_open_targets(m, c->targets, c->ntargets, WORK_BUF_SIZE, r->targets, r->opened,
			      r->parts, c->log) != 0)
		return -1;
	plan_print(c->log, m, r->parts, r->variant);
	fflush(c->log);
	/* a boot slot that could not be set must stop the flash before it writes anything */
	if (c->efivars && bootslot_check(c->efivars, PKG_SLOT_A) != 0)
		return -1;
	if (c->plan_only)
		return 0;
	/* the partition tables first: images are written where they will be found */
	progress_phase(&r->progress, LINK_PHASE_GPT, "");
	report_step(&r->steps, "gpt");
	for (uint16_t t = 0; t < m->target_count; t++)
		if (gpt_write_target(m, t, r->parts, (uint32_t)r->variant, &r->targets[t], r->buf_a,
				     r->buf_b, WORK_BUF_SIZE, &by_kind[0], c->log) != 0)
			return -1;
	progress_set_total(&r->progress, progress_total(m, (uint32_t)r->variant, r->parts));
	report_step(&r->steps, "write and read-back");
	if (write_and_read_back(r, by_kind) != 0)
		return -1;
	/* last, and only when every read-back passed: the board boots what was written */
	progress_phase(&r->progress, LINK_PHASE_BOOTSLOT, "");
	report_step(&r->steps, "boot slot");
	if (c->efivars)
		return bootslot_set_efivars(c->efivars, PKG_SLOT_A, c->log);
	fprintf(c->log, "flasher: boot slot A (no EFI variable store configured)\n");
	return 0;
}

/* Tells the host how it ended (over a link), then lets everything go. */
static void finish(struct flash_run *r, int rc, const char *summary)
{
	FILE *log = r->c->log;
	if (r->link_open) {
		fflush(log);
		if (r->link.reconnects)
			fprintf(log, "flasher: link: %u reconnects, %" PRIu64 " bytes asked for again\n",
				r->link.reconnects, r->link.bytes_requested_again);
		progress_phase(&r->progress, LINK_PHASE_DONE, "");
		fflush(log);
		link_client_result(&r->link, rc == 0 ? 0 : 1, summary);
		if (rc != 0)
			err_set("%s", summary); /* the link may have recorded its own messages since */
	}
}

int flash_run(const struct flash_config *config)
{
	static struct flash_run r;
	memset(&r, 0, sizeof(r));
	struct flash_config c = *config;
	r.c = &c;
	r.pkg.fd = -1;
	progress_init(&r.progress);
	FILE *tee = c.link ? report_log_open(&r.log, config->log) : NULL;
	r.log.console = config->log;
	if (tee)
		c.log = tee;
	double start = timing_now_s();
	struct write_stats by_kind[2] = { { 0 } };
	int rc = flash_steps(&r, by_kind);
	report_step(&r.steps, NULL);
	if (rc == 0 && !c.plan_only)
		fprintf(c.log, "flasher: time per step: %s\n", r.steps.text);
	for (uint16_t t = 0; t < PKG_MAX_TARGETS; t++)
		if (r.opened[t])
			target_close(&r.targets[t]);
	char summary[512];
	if (rc == 0 && !c.plan_only) {
		report_summary(summary, sizeof(summary), by_kind, timing_now_s() - start);
		fprintf(c.log, "flasher: %s\n", summary);
	} else {
		snprintf(summary, sizeof(summary), "%s",
			 rc == 0 ? "plan printed, nothing written" : err_msg());
	}
	finish(&r, rc, summary);
	if (tee)
		fclose(tee);
	if (r.link_open)
		link_client_close(&r.link);
	pkg_file_close(&r.pkg);
	free(r.raw);
	free(r.stored);
	free(r.buf_a);
	free(r.buf_b);
	progress_destroy(&r.progress);
	return rc;
}
