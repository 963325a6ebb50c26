/* SPDX-License-Identifier: MIT */
/*
 * An update as a table of steps (run.h): backend and running slot -> identify -> package ->
 * verify -> plan (anti-rollback; slots checked against their names; the disks opened, their
 * GPT checked, the QSPI's too when update-qspi; the other slot's partitions chosen, every
 * other byte guarded by ranges from the board's own tables; the backend's check) -> disarm -> write and
 * read back (delta from the running slot) -> boot files and arm. A failure before disarm
 * writes nothing; after it the running slot is still the one that boots.
 */
#include "update.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "plan.h"
#include "run.h"
#include "slot/slot_backend.h"
#include "slots.h"
#include "timing.h"
#include "update_capsule.h"
#include "update_check.h"
#include "update_layout.h"
#include "update_plan.h"
#include "update_qspi.h"
#include "write/target_kind.h"
#include "write/write.h"

/* An update's own state beside the run (run.h: job). */
struct update_job {
	struct run_slots slots; /* the backend, both slots, the one running */
	struct update_selection sel;
	/* each open device's partition table as the board holds it: what the guard is built
	 * from, never the package's offsets */
	struct update_table board[PKG_MAX_TARGETS];
	int capsule_part;  /* the package's firmware capsule (a file partition), or -1 */
	uint8_t *capsule;  /* read and checked before disarm; staged by the backend's install */
	size_t capsule_len;
};

/* An update from a slot still on trial would overwrite the only slot the board can fall back to,
 * leaving it two unproven systems (and, on a T234, the recovery kernel after their tries). */
static int check_running_confirmed(const struct update_job *u)
{
	const uint8_t running = u->slots.running;
	if (u->slots.view[running - 1].health != SLOT_TRIAL)
		return 0;
	return err_set("the running slot %s is on trial, not confirmed: an update would overwrite "
		       "slot %s, the one the board falls back to; run `selfflash mark-good` once "
		       "this system is healthy, then update",
		       pkg_slot_name(running), pkg_slot_name(running == PKG_SLOT_A ? PKG_SLOT_B
										   : PKG_SLOT_A));
}

/* The disks opened, their GPT checked, partitions placed; MTD only when it may be written,
 * its QSPI GPT then checked the same way. Each device's table kept for the guard. */
static int open_devices(struct run *r, struct update_job *u)
{
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	for (uint32_t i = 0; i < m->partition_count; i++)
		pkg_manifest_partition(m, i, &r->parts[i]);
	if (update_check_slots(m, r->parts) != 0)
		return -1;
	for (uint16_t t = 0; t < m->target_count; t++) {
		struct pkg_target tg;
		pkg_manifest_target(m, t, &tg);
		const char *spec;
		if (plan_target_spec(m, t, c->targets, c->ntargets, &spec) != 0)
			return -1;
		const struct target_kind *kind = target_kind_find(tg.kind);
		if (!spec || (kind && kind->boot_firmware && !c->update_qspi))
			continue; /* update_select says so if the update needed it */
		struct target *dev = &r->targets[t];
		if (target_open_spec(dev, spec, tg.size) != 0)
			return kind && kind->boot_firmware
				       ? err_prefix("update-qspi writes the inactive chain's firmware "
						    "through MTD, which needs boot firmware that "
						    "exposes the QSPI to Linux (a running T234 with "
						    "NVIDIA's stock firmware has no /dev/mtd*: update "
						    "its firmware with a capsule, mkflashpkg --capsule)")
				       : -1;
		r->opened[t] = 1;
		if (target_kind_check_device(&tg, dev) != 0) /* also: kind is not NULL */
			return -1;
		if (plan_place(m, t, dev->size, r->parts) != 0)
			return err_prefix("%s", dev->name);
		if (kind->update_checks_gpt &&
		    (update_check_gpt(m, t, r->parts, dev) != 0 ||
		     update_read_disk_table(dev, &u->board[t]) != 0))
			return -1;
		if (kind->boot_firmware && update_check_qspi(m, t, r->parts, dev, &u->board[t]) != 0)
			return -1;
		fprintf(c->log, "flasher: %s:%" PRIu32 " -> %s, %" PRIu64 " bytes\n", tg.type,
			tg.instance, dev->name, dev->size);
	}
	return plan_check_distinct(m, r->targets, r->opened);
}

/* Each open device accepts writes only inside the board's own partitions of the slot being
 * updated; the running slot's and the running root are denied by construction. */
static int guard_devices(struct run *r, const struct update_job *u)
{
	const struct pkg_manifest *m = &r->pkg.manifest;
	/* what the update may change: the partitions it writes and those it blanks */
	static uint8_t changed[PKG_MAX_PARTITIONS];
	for (uint32_t i = 0; i < m->partition_count; i++)
		changed[i] = u->sel.write[i] || u->sel.blank[i];
	for (uint16_t t = 0; t < m->target_count; t++) {
		if (!r->opened[t])
			continue;
		struct target_range ranges[TARGET_GUARD_MAX];
		size_t n;
		if (update_guard_ranges(&u->board[t], r->parts, m->partition_count, changed, t,
					u->sel.target, u->slots.root, r->targets[t].name, ranges,
					&n) != 0 ||
		    target_guard_writes(&r->targets[t], ranges, n) != 0)
			return -1;
	}
	return 0;
}

/* What the update writes, checked against the board, every other byte guarded. */
static int plan_writes(struct run *r, struct update_job *u)
{
	const struct flash_config *c = r->c;
	const struct slot_view *now = &u->slots.view[u->slots.running - 1];
	if (check_running_confirmed(u) != 0 ||
	    update_check_version(now, u->slots.floor_known, u->slots.floor,
				 r->pkg.manifest.system_version, c->allow_downgrade, c->log) != 0 ||
	    open_devices(r, u) != 0 ||
	    update_select(&r->pkg.manifest, (uint32_t)r->variant, r->parts, r->opened,
			  u->slots.running, run_slots_rootfs_a(c), c->update_qspi, &u->sel) != 0)
		return -1;
	const char *slot = pkg_slot_name(u->sel.target);
	if (u->slots.backend->install_needs_kernel && (u->sel.kernel < 0 || !u->sel.write[u->sel.kernel]))
		return err_set("the package has no kernel partition for slot %s (layout type "
			       "kernel, e.g. %s_kernel) that this update writes: %s needs one to "
			       "boot the slot", slot, slot, u->slots.backend->name);
	if (u->sel.rootfs < 0)
		return err_set("the package has no rootfs partition for slot %s (slot A's is %s)",
			       slot, run_slots_rootfs_a(c));
	update_plan_print(c->log, &r->pkg.manifest, r->parts, &u->sel);
	return guard_devices(r, u);
}

/* The plan, then the backend's own checks: nothing is written before both passed. */
static int update_plan(struct run *r)
{
	struct update_job *u = r->job;
	int planned = plan_writes(r, u);
	r->slot = u->sel.target; /* the report names the slot even when the plan failed */
	if (planned != 0 || update_capsule_find(r, u->slots.backend->name, &u->capsule_part) != 0)
		return -1;
	if (u->capsule_part >= 0 && r->c->update_qspi)
		return err_set("the package carries a capsule and update-qspi is on: both would "
			       "write the inactive chain's firmware; turn update-qspi off");
	/* read while nothing is written yet: a bad capsule stops the update here; its release
	 * tells the backend which firmware would roll a failed slot back */
	if (u->capsule_part >= 0 &&
	    update_capsule_read(r, (uint32_t)u->capsule_part, &u->capsule, &u->capsule_len,
				&u->slots.env.staged_firmware_version) != 0)
		return -1;
	u->slots.env.staged_capsule = u->capsule;
	u->slots.env.staged_capsule_len = u->capsule_len;
	if (u->slots.backend->check(&u->slots.env, u->sel.target) != 0)
		return -1;
	fflush(r->c->log);
	return 0;
}

/* The boot files and the arming, once every image was read back. */
static int update_arm(struct run *r)
{
	struct update_job *u = r->job;
	const struct pkg_manifest *m = &r->pkg.manifest;
	const struct pkg_partition *root = &r->parts[u->sel.rootfs];
	struct slot_boot b = { .cmdline = "", .root_partition = root->name,
			       .version = m->system_version, .capsule = u->capsule,
			       .capsule_len = u->capsule_len };
	uint8_t *image = NULL;
	struct bootimg_info bi;
	if (u->sel.kernel >= 0) {
		const struct pkg_partition *k = &r->parts[u->sel.kernel];
		if (update_read_bootimg(m, (uint32_t)r->variant, r->parts, (uint32_t)u->sel.kernel,
					&r->targets[k->target], &image, &bi) != 0)
			return -1;
		b.kernel = image + bi.kernel_offset;
		b.kernel_len = bi.kernel_size;
		b.ramdisk = bi.ramdisk_size ? image + bi.ramdisk_offset : NULL;
		b.ramdisk_len = bi.ramdisk_size;
		b.cmdline = bi.cmdline;
	}
	int rc = 0;
	if (u->slots.backend->install)
		rc = u->slots.backend->install(&u->slots.env, u->sel.target, &b);
	if (rc == 0)
		rc = u->slots.backend->arm(&u->slots.env, u->sel.target, &b);
	free(image);
	free(u->capsule);
	u->capsule = NULL;
	return rc;
}

/* The backend and the slot the board runs (slots.h), told in the log. */
static int update_slots(struct run *r)
{
	struct run_slots *s = &((struct update_job *)r->job)->slots;
	if (run_slots_read(r->c, s) != 0)
		return -1;
	fprintf(r->c->log, "update: running slot %s (root partition %s)\n",
		pkg_slot_name(s->running), s->root);
	return 0;
}

/* The target slot can no longer be chosen to boot: before its first byte is written. */
static int update_disarm(struct run *r)
{
	struct update_job *u = r->job;
	return u->slots.backend->disarm(&u->slots.env, u->sel.target);
}

static int update_write(struct run *r)
{
	struct update_job *u = r->job;
	/* the slot held another system (its journal, its superblocks): it is armed only when it
	 * is the signed image byte for byte, holes and the partitions' tails included */
	if (run_write_images(r, u->sel.write, u->sel.alt, 1) != 0)
		return -1;
	/* and its QSPI partitions without an image erased, each block read back */
	for (uint32_t i = 0; i < r->pkg.manifest.partition_count; i++) {
		if (!u->sel.blank[i])
			continue;
		const struct pkg_partition *p = &r->parts[i];
		struct write_stats st = { 0 };
		if (write_nor_blank(&r->targets[p->target], p, r->buf_a, r->buf_b,
				    RUN_WORK_BUF_SIZE, &st) != 0)
			return -1;
		write_stats_add(&r->by_kind[TARGET_KIND_NOR], &st);
		fprintf(r->c->log, "flasher: %s: no image, %" PRIu64 " of %" PRIu64 " erase blocks "
				   "held data, erased\n", p->name, st.blocks_erased,
			st.blocks_compared);
	}
	return 0;
}

static void update_summarize(struct run *r, char *out, size_t size)
{
	const struct update_job *u = r->job;
	if (r->c->plan_only) {
		snprintf(out, size, "dry run: the plan above, nothing written");
		fprintf(r->c->log, "update: %s\n", out);
		return;
	}
	const struct write_delta *d = &r->delta;
	struct write_stats all = { 0 };
	for (unsigned k = 0; k < TARGET_KIND_COUNT; k++)
		write_stats_add(&all, &r->by_kind[k]);
	/* the zeros say the slot was made whole (write.h, whole_partitions), the read-back that
	 * every byte of it was checked */
	snprintf(out, size,
		 "update to slot %s done: %" PRIu64 " bytes fetched, %" PRIu64 " copied on the board "
		 "from slot %s, %" PRIu64 " already in place; %" PRIu64 " zeroed (%" PRIu64
		 " by the device) in %.2f s; %" PRIu64 " read back and verified; slot %s boots next "
		 "on trial (%d tries); %.2f s",
		 pkg_slot_name(u->sel.target), d->bytes_fetched, d->bytes_copied,
		 pkg_slot_name(u->slots.running), d->bytes_in_place, all.bytes_zeroed,
		 all.bytes_zeroed_cheaply, all.zero_seconds, all.bytes_read_back,
		 pkg_slot_name(u->sel.target), u->slots.env.tries, timing_now_s() - r->start_s);
	fprintf(r->c->log, "flasher: %s\n", out);
}

static const struct run_step update_steps[] = {
	{ "slots", RUN_NO_PHASE, update_slots },
	{ "identify", RUN_NO_PHASE, run_step_identify },
	{ "link and manifest", RUN_NO_PHASE, run_step_open_package },
	{ "verify", LINK_PHASE_VERIFY, run_step_verify },
	{ "plan", LINK_PHASE_PLAN, update_plan },
	/* --dry-run stops here: the steps below write */
	{ "disarm", RUN_NO_PHASE, update_disarm },
	{ "write and read-back", RUN_NO_PHASE, update_write },
	{ "arm", LINK_PHASE_BOOTSLOT, update_arm },
};

static const struct run_kind update_kind = {
	.name = "update",
	.steps = update_steps,
	.nsteps = sizeof(update_steps) / sizeof(update_steps[0]),
	.plan_steps = 5,
	.job_size = sizeof(struct update_job),
	.summarize = update_summarize,
};

int update_run(const struct flash_config *config)
{
	return run_execute(&update_kind, config);
}
