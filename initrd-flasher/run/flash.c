/* SPDX-License-Identifier: MIT */
/*
 * The orchestrator of a first flash: identify -> link and package -> verify -> plan -> GPT ->
 * write and read back -> boot slot -> report, each stage in its own file (run.c holds the ones
 * an update shares). Nothing is written before verify and plan passed; the boot slot is set
 * only after every read-back check passed.
 */
#include "flash.h"

#include <inttypes.h>
#include <string.h>

#include "slot/bootslot.h"
#include "error.h"
#include "write/gpt_write.h"
#include "plan.h"
#include "run.h"
#include "timing.h"
#include "write/write.h"

static int write_and_read_back(struct flash_run *r, struct write_stats by_kind[TARGET_KIND_COUNT])
{
	struct write_plan w = { .m = &r->pkg.manifest, .variant = (uint32_t)r->variant,
				.parts = r->parts, .targets = r->targets,
				.src = run_chunk_source(r), .raw = r->raw, .stored = r->stored,
				.chunk_buf = r->chunk_buf, .buf_a = r->buf_a, .buf_b = r->buf_b,
				.buf_size = RUN_WORK_BUF_SIZE, .threads = 0,
				.delta = !r->c->no_delta, .parallel = !r->c->sequential,
				.progress = &r->progress.wp, .log = r->c->log };
	return write_images(&w, by_kind, &r->delta);
}

static int flash_steps(struct flash_run *r, struct write_stats by_kind[TARGET_KIND_COUNT])
{
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	report_step(&r->steps, "identify");
	if (run_identify(r) != 0 || run_open_verified(r) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_PLAN, "");
	report_step(&r->steps, "plan");
	if (plan_open_targets(m, c->targets, c->ntargets, RUN_WORK_BUF_SIZE, r->targets, r->opened,
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
				     r->buf_b, RUN_WORK_BUF_SIZE, &by_kind[0], c->log) != 0)
			return -1;
	progress_set_total(&r->progress, progress_total(m, (uint32_t)r->variant, r->parts, NULL));
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

static int flash_once(const struct flash_config *config)
{
	static struct flash_run r;
	run_begin(&r, config);
	double start = timing_now_s();
	struct write_stats by_kind[TARGET_KIND_COUNT] = { { 0 } };
	int rc = flash_steps(&r, by_kind);
	report_step(&r.steps, NULL);
	if (rc == 0 && !r.c->plan_only)
		fprintf(r.c->log, "flasher: time per step: %s\n", r.steps.text);
	char summary[512];
	if (rc == 0 && !r.c->plan_only) {
		report_summary(summary, sizeof(summary), by_kind, timing_now_s() - start);
		fprintf(r.c->log, "flasher: %s\n", summary);
	} else {
		snprintf(summary, sizeof(summary), "%s",
			 rc == 0 ? "plan printed, nothing written" : err_msg());
	}
	run_end(&r, rc, summary);
	return rc;
}

int flash_run(const struct flash_config *config)
{
	return run_restarting(flash_once, config);
}
