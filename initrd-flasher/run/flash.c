/* SPDX-License-Identifier: MIT */
/*
 * A first flash as a table of steps (run.h): identify -> link and package -> verify -> plan ->
 * blank -> GPT -> write and read back -> boot slot; run.c ends it and reports. Nothing is
 * written before verify and plan passed; the boot slot is set only after every read-back check
 * passed.
 */
#include "flash.h"

#include <stdio.h>

#include "error.h"
#include "flash_blank.h"
#include "write/gpt_write.h"
#include "plan.h"
#include "run.h"
#include "slots.h"
#include "timing.h"
#include "write/write.h"

/* Targets opened and checked, partitions placed on their real sizes, the plan printed;
 * nothing is written before this passed. */
static int flash_plan(struct run *r)
{
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	if (plan_open_targets(m, c->targets, c->ntargets, RUN_WORK_BUF_SIZE, r->targets, r->opened,
			      r->parts, c->log) != 0)
		return -1;
	plan_print(c->log, m, r->parts, r->variant);
	flash_blank_print(c->log, m, r->parts, (uint32_t)r->variant);
	fflush(c->log);
	/* a boot slot that could not be set must stop the flash before it writes anything */
	const struct slot_backend_ops *backend;
	struct slot_env env;
	if (run_slots_backend(c, &backend, &env) != 0 ||
	    (backend && backend->check_first(&env, PKG_SLOT_A) != 0))
		return -1;
	return 0;
}

/* The QSPI's imageless partitions erased as NVIDIA's flash leaves them (flash_blank.h): before
 * the GPT, which then writes its copy into secondary_gpt_backup (never blanked) and its blocks
 * at the device's end, so that nothing erases them after they were written. */
static int flash_blank(struct run *r)
{
	return flash_blank_partitions(&r->pkg.manifest, r->parts, (uint32_t)r->variant, r->targets,
				      r->buf_a, r->buf_b, RUN_WORK_BUF_SIZE,
				      &r->by_kind[TARGET_KIND_NOR], r->c->log);
}

/* The partition tables first: images are written where they will be found. */
static int flash_gpt(struct run *r)
{
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	for (uint16_t t = 0; t < m->target_count; t++)
		if (gpt_write_target(m, t, r->parts, (uint32_t)r->variant, &r->targets[t], r->buf_a,
				     r->buf_b, RUN_WORK_BUF_SIZE, &r->by_kind[TARGET_KIND_NOR], c->log) != 0)
			return -1;
	return 0;
}

static int flash_write(struct run *r)
{
	/* a first flash zeros the holes of the images that ask for it (PKG_IMAGE_ZERO_HOLES) */
	return run_write_images(r, NULL, NULL, 0);
}

/* Last, and only when every read-back passed: the board boots what was written. */
static int flash_boot_slot(struct run *r)
{
	const struct flash_config *c = r->c;
	const struct slot_backend_ops *backend;
	struct slot_env env;
	if (run_slots_backend(c, &backend, &env) != 0)
		return -1;
	if (backend)
		return backend->select_first(&env, PKG_SLOT_A);
	fprintf(c->log, "flasher: boot slot A (no EFI variable store configured)\n");
	return 0;
}

static void flash_summarize(struct run *r, char *out, size_t size)
{
	if (r->c->plan_only) {
		snprintf(out, size, "plan printed, nothing written");
		return;
	}
	report_summary(out, size, r->by_kind, timing_now_s() - r->start_s);
	fprintf(r->c->log, "flasher: %s\n", out);
}

static const struct run_step flash_steps[] = {
	{ "identify", RUN_NO_PHASE, run_step_identify },
	{ "link and manifest", RUN_NO_PHASE, run_step_open_package },
	{ "verify", LINK_PHASE_VERIFY, run_step_verify },
	{ "plan", LINK_PHASE_PLAN, flash_plan },
	/* --plan stops here: the steps below write */
	{ "blank", RUN_NO_PHASE, flash_blank },
	{ "gpt", LINK_PHASE_GPT, flash_gpt },
	{ "write and read-back", RUN_NO_PHASE, flash_write },
	{ "boot slot", LINK_PHASE_BOOTSLOT, flash_boot_slot },
};

static const struct run_kind flash_kind = {
	.name = "flash",
	.steps = flash_steps,
	.nsteps = sizeof(flash_steps) / sizeof(flash_steps[0]),
	.plan_steps = 4,
	.summarize = flash_summarize,
};

int flash_run(const struct flash_config *config)
{
	return run_execute(&flash_kind, config);
}
