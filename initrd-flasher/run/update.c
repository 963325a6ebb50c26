/* SPDX-License-Identifier: MIT */
/*
 * The orchestrator of an update: backend and running slot -> identify -> package -> verify ->
 * anti-rollback -> open the disks, check their GPT, choose the other slot's partitions, guard
 * every other byte -> check -> disarm -> write and read back (delta from the running slot) ->
 * boot files -> arm. A failure before disarm writes nothing; after it the running slot is
 * still the one that boots.
 */
#include "update.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "plan.h"
#include "run.h"
#include "slot/slot_backend.h"
#include "timing.h"
#include "update_check.h"
#include "update_plan.h"
#include "write/write.h"

#define DEFAULT_TRIES 3
#define DEFAULT_ROOTFS "APP"

struct update_run {
	struct flash_run r;
	const struct slot_backend_ops *backend;
	struct slot_env env;
	struct slot_view view[2];
	uint8_t running;
	struct update_selection sel;
};

static const char *rootfs_a(const struct flash_config *c)
{
	return c->rootfs_name ? c->rootfs_name : DEFAULT_ROOTFS;
}

/* The backend and the slot the board runs: from the root partition's name, checked against
 * what the backend (the firmware) says where it can tell. */
static int find_running(const struct flash_config *c, const struct slot_backend_ops **backend,
			struct slot_env *env, struct slot_view view[2], uint8_t *running)
{
	if (!c->slot_backend)
		return err_set("no slot-backend in the config: systemd-boot or tegra");
	*backend = slot_backend_find(c->slot_backend);
	if (!*backend)
		return -1;
	*env = (struct slot_env){ .esp = c->esp, .efivars = c->efivars,
				  .tries = c->boot_tries ? c->boot_tries : DEFAULT_TRIES,
				  .log = c->log };
	uint8_t firmware = 0;
	if ((*backend)->read(env, view, &firmware) != 0)
		return -1;
	char root[64];
	if (c->root_partition)
		snprintf(root, sizeof(root), "%s", c->root_partition);
	else if (update_root_partition("", root, sizeof(root)) != 0)
		return -1;
	*running = update_slot_of_name(root, rootfs_a(c));
	if (!*running)
		return err_set("the root partition %s is no slot's (expected %s, %s_b, A_x or B_x; "
			       "set rootfs in the config to slot A's rootfs name)",
			       root, rootfs_a(c), rootfs_a(c));
	if (firmware && firmware != *running)
		return err_set("the root is %s (slot %s), but the firmware booted chain %s: the "
			       "board runs a mix; not updating until they agree",
			       root, pkg_slot_name(*running), pkg_slot_name(firmware));
	fprintf(c->log, "update: running slot %s (root partition %s)\n", pkg_slot_name(*running),
		root);
	return 0;
}

/* A package older than what runs is refused unless asked for (anti-rollback). */
static int check_version(const struct update_run *u, const struct flash_config *c)
{
	const struct slot_view *now = &u->view[u->running - 1];
	uint64_t pkg = u->r.pkg.manifest.system_version;
	if (!now->has_version) {
		fprintf(c->log, "update: system version: package %" PRIu64 ", installed not "
				"recorded (not compared)\n", pkg);
		return 0;
	}
	fprintf(c->log, "update: system version: package %" PRIu64 ", installed %" PRIu64 "\n",
		pkg, now->version);
	if (pkg >= now->version)
		return 0;
	if (c->allow_downgrade) {
		fprintf(c->log, "update: downgrade allowed (--allow-downgrade)\n");
		return 0;
	}
	return err_set("the package's system version %" PRIu64 " is older than the installed %"
		       PRIu64 "%s; refused (anti-rollback): --allow-downgrade to install it anyway",
		       pkg, now->version, pkg ? "" : " (the package has none)");
}

/* The disks opened, their GPT checked, partitions placed; MTD only when it may be written. */
static int open_devices(struct update_run *u)
{
	struct flash_run *r = &u->r;
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	for (uint32_t i = 0; i < m->partition_count; i++)
		pkg_manifest_partition(m, i, &r->parts[i]);
	for (uint16_t t = 0; t < m->target_count; t++) {
		struct pkg_target tg;
		pkg_manifest_target(m, t, &tg);
		const char *spec = NULL;
		for (size_t k = 0; k < c->ntargets; k++)
			if (strcmp(c->targets[k].type, tg.type) == 0)
				spec = c->targets[k].spec;
		const struct target_kind *kind = target_kind_find(tg.kind);
		if (!spec || (kind && kind->boot_firmware && !c->update_qspi))
			continue; /* update_select says so if the update needed it */
		struct target *dev = &r->targets[t];
		if (target_open_spec(dev, spec, tg.size) != 0)
			return -1;
		r->opened[t] = 1;
		if (target_kind_check_device(&tg, dev) != 0) /* also: kind is not NULL */
			return -1;
		if (plan_place(m, t, dev->size, r->parts) != 0)
			return err_prefix("%s", dev->name);
		if (kind->update_checks_gpt && update_check_gpt(m, t, r->parts, dev) != 0)
			return -1;
		fprintf(c->log, "flasher: %s:%" PRIu32 " -> %s, %" PRIu64 " bytes\n", tg.type,
			tg.instance, dev->name, dev->size);
	}
	return 0;
}

/* Each open device accepts writes only inside the partitions being updated. */
static int guard_devices(struct update_run *u)
{
	struct flash_run *r = &u->r;
	const struct pkg_manifest *m = &r->pkg.manifest;
	for (uint16_t t = 0; t < m->target_count; t++) {
		if (!r->opened[t])
			continue;
		struct target_range ranges[TARGET_GUARD_MAX];
		size_t n = 0;
		for (uint32_t i = 0; i < m->partition_count; i++) {
			if (!u->sel.write[i] || r->parts[i].target != t)
				continue;
			if (n == TARGET_GUARD_MAX)
				return err_set("more than %d partitions to update on one device",
					       TARGET_GUARD_MAX);
			ranges[n++] = (struct target_range){ r->parts[i].offset, r->parts[i].size };
		}
		if (target_guard_writes(&r->targets[t], ranges, n) != 0)
			return -1;
	}
	return 0;
}

static int plan_update(struct update_run *u)
{
	struct flash_run *r = &u->r;
	const struct flash_config *c = r->c;
	if (check_version(u, c) != 0 || open_devices(u) != 0 ||
	    update_select(&r->pkg.manifest, (uint32_t)r->variant, r->parts, r->opened, u->running,
			  rootfs_a(c), c->update_qspi, &u->sel) != 0)
		return -1;
	const char *slot = pkg_slot_name(u->sel.target);
	if (u->backend->install && (u->sel.kernel < 0 || !u->sel.write[u->sel.kernel]))
		return err_set("the package has no kernel partition for slot %s (layout type "
			       "kernel, e.g. %s_kernel) that this update writes: %s needs one to "
			       "boot the slot", slot, slot, u->backend->name);
	if (u->sel.rootfs < 0)
		return err_set("the package has no rootfs partition for slot %s (slot A's is %s)",
			       slot, rootfs_a(c));
	update_plan_print(c->log, &r->pkg.manifest, r->parts, &u->sel);
	return guard_devices(u);
}

/* The boot files and the arming, once every image was read back. */
static int install_and_arm(struct update_run *u)
{
	struct flash_run *r = &u->r;
	const struct pkg_manifest *m = &r->pkg.manifest;
	const struct pkg_partition *root = &r->parts[u->sel.rootfs];
	struct slot_boot b = { .cmdline = "", .root_partition = root->name,
			       .version = m->system_version };
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
	if (u->backend->install)
		rc = u->backend->install(&u->env, u->sel.target, &b);
	if (rc == 0)
		rc = u->backend->arm(&u->env, u->sel.target, &b);
	free(image);
	return rc;
}

static int update_steps(struct update_run *u, struct write_stats by_kind[TARGET_KIND_COUNT])
{
	struct flash_run *r = &u->r;
	const struct flash_config *c = r->c;
	report_step(&r->steps, "slots");
	if (find_running(c, &u->backend, &u->env, u->view, &u->running) != 0)
		return -1;
	report_step(&r->steps, "identify");
	if (run_identify(r) != 0 || run_open_verified(r) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_PLAN, "");
	report_step(&r->steps, "plan");
	int planned = plan_update(u);
	r->slot = u->sel.target;
	if (planned != 0 || u->backend->check(&u->env, u->sel.target) != 0)
		return -1;
	fflush(c->log);
	if (c->plan_only)
		return 0;
	report_step(&r->steps, "disarm");
	if (u->backend->disarm(&u->env, u->sel.target) != 0)
		return -1;
	const struct pkg_manifest *m = &r->pkg.manifest;
	progress_set_total(&r->progress,
			   progress_total(m, (uint32_t)r->variant, r->parts, u->sel.write));
	report_step(&r->steps, "write and read-back");
	struct write_plan w = { .m = m, .variant = (uint32_t)r->variant, .parts = r->parts,
				.targets = r->targets, .src = run_chunk_source(r), .raw = r->raw,
				.stored = r->stored, .chunk_buf = r->chunk_buf, .buf_a = r->buf_a,
				.buf_b = r->buf_b, .buf_size = RUN_WORK_BUF_SIZE, .threads = 0,
				.delta = !c->no_delta, .alt_parts = u->sel.alt,
				.only_parts = u->sel.write, .parallel = !c->sequential,
				.progress = &r->progress.wp, .log = c->log };
	if (write_images(&w, by_kind, &r->delta) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_BOOTSLOT, "");
	report_step(&r->steps, "arm");
	return install_and_arm(u);
}

static int update_once(const struct flash_config *config)
{
	static struct update_run u;
	memset(&u, 0, sizeof(u));
	run_begin(&u.r, config);
	u.r.kind = "update";
	double start = timing_now_s();
	struct write_stats by_kind[TARGET_KIND_COUNT] = { { 0 } };
	int rc = update_steps(&u, by_kind);
	report_step(&u.r.steps, NULL);
	char summary[512];
	if (rc == 0 && !u.r.c->plan_only) {
		const struct write_delta *d = &u.r.delta;
		fprintf(u.r.c->log, "flasher: time per step: %s\n", u.r.steps.text);
		snprintf(summary, sizeof(summary),
			 "update to slot %s done: %" PRIu64 " bytes fetched, %" PRIu64 " copied on "
			 "the board from slot %s, %" PRIu64 " already in place; slot %s boots next "
			 "on trial (%d tries); %.2f s",
			 pkg_slot_name(u.sel.target), d->bytes_fetched, d->bytes_copied,
			 pkg_slot_name(u.running), d->bytes_in_place, pkg_slot_name(u.sel.target),
			 u.env.tries, timing_now_s() - start);
		fprintf(u.r.c->log, "flasher: %s\n", summary);
	} else {
		snprintf(summary, sizeof(summary), "%s",
			 rc == 0 ? "dry run: the plan above, nothing written" : err_msg());
		if (rc == 0)
			fprintf(u.r.c->log, "update: %s\n", summary);
	}
	run_end(&u.r, rc, summary);
	return rc;
}

int update_run(const struct flash_config *config)
{
	return run_restarting(update_once, config);
}
