/* SPDX-License-Identifier: MIT */
/*
 * Slot backend "tegra": A/B on a T234 through its firmware's EFI variables (DESIGN.md section 9).
 * Facts from edk2-nvidia (cited where used): BootChainDxe (Silicon/NVIDIA/Drivers/BootChainDxe/
 * BootChainDxe.c, BootChainExecuteUpdate) switches the boot chain on BootChainFwNext and leaves
 * BootChainFwStatus; L4TLauncher (Silicon/NVIDIA/Application/L4TLauncher/L4TRootfsValidation.c,
 * ValidateRootfsStatus) counts the rootfs tries in the SR_RF scratch register, marks a slot
 * whose tries ran out RootfsStatusSlotX = 0xFF and requests the other chain.
 *
 * The firmware keeps no record of what an update did: selfflash keeps its own (tegra_record.h).
 * This file is the update's side (read, check, disarm, arm); tegra_confirm.c the running
 * system's (mark_good), the first flash's, status and doctor.
 */
#include "slot_backend.h"

#include <string.h>

#include "bootslot.h"
#include "error.h"
#include "pkg.h"
#include "tegra_backend.h"
#include "tegra_capsule.h"
#include "tegra_record.h"
#include "tegra_scratch.h"
#include "tegra_vars.h"

int tegra_read_state(const char *dir, struct tegra_state *s, int *running)
{
	return tegra_vars_read(dir, s) != 0 ? -1 : tegra_vars_running_chain(dir, s, running);
}

/* Refuses to touch the running slot's state (disarm and arm repeat check()'s test); the
 * state read in *s. */
static int require_not_running(const char *dir, int target, struct tegra_state *s)
{
	int running;
	if (tegra_read_state(dir, s, &running) != 0)
		return -1;
	if (target == running)
		return err_set("slot %c is the running one (BootChainFwCurrent %u): an update "
			       "writes only the other slot", 'A' + target, s->current.value);
	return 0;
}

static void view_from(struct slot_view *v, const struct slot_record *r,
		      const struct tegra_state *s, int i, int running)
{
	memset(v, 0, sizeof(*v));
	v->tries_left = -1; /* from SR_RF, where it can be read (tegra_read) */
	v->tries_done = -1;
	v->has_version = r->has_version;
	v->version = r->version;
	const int rootfs_bad = s->rootfs[i].present && s->rootfs[i].value == TEGRA_ROOTFS_UNBOOTABLE;
	switch (r->state) {
	case RECORD_NONE:
		v->health = rootfs_bad ? SLOT_BAD : SLOT_UNKNOWN;
		return;
	case RECORD_WRITING:
		v->health = SLOT_UNBOOTABLE;
		return;
	case RECORD_ROLLED_BACK:
		v->health = SLOT_BAD;
		return;
	case RECORD_CONFIRMED:
		v->health = rootfs_bad ? SLOT_BAD : SLOT_GOOD;
		return;
	case RECORD_ARMED:
		break;
	}
	if (rootfs_bad) {
		/* we set it normal when arming: only L4TLauncher sets 0xFF after that, once the
		 * slot's tries ran out (ValidateRootfsStatus); it uses RootfsRetryCountMax tries */
		v->health = SLOT_BAD;
		if (s->retry_max.present && s->retry_max.value <= 3)
			v->tries_done = (int)s->retry_max.value;
	} else if (i == running || (s->next.present && s->next.value == (uint32_t)i)) {
		v->health = SLOT_TRIAL; /* running unconfirmed, or its switch still pending */
	} else if (s->status.present && s->status.value != TEGRA_BOOTCHAIN_IN_PROGRESS) {
		/* the switch was tried and the board is on the other chain: BootChainDxe left
		 * its outcome (e.g. 12, the new chain did not reach UEFI) */
		v->health = SLOT_BAD;
	} else {
		v->health = SLOT_UNBOOTABLE; /* armed, but the update stopped before its last write */
	}
}

static int tegra_read(const struct slot_env *e, struct slot_view v[2], uint8_t *running)
{
	struct tegra_state s;
	int run;
	if (tegra_read_state(e->efivars, &s, &run) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		struct slot_record r;
		if (tegra_record_read(e->efivars, i, &r) != 0)
			return -1;
		view_from(&v[i], &r, &s, i, run);
	}
	/* a slot on trial: the tries SR_RF holds for it, or, with the register clear, the
	 * RootfsRetryCountMax the launcher gives it at the next boot; unknown when unreadable */
	uint32_t raw;
	if (tegra_scratch_read(e->mem_device, TEGRA_SR_RF_ADDRESS, &raw) == 0) {
		struct tegra_sr_rf sr;
		tegra_sr_rf_decode(raw, &sr);
		for (int i = 0; i < 2; i++)
			if (v[i].health == SLOT_TRIAL && (sr.magic_ok || s.retry_max.present))
				v[i].tries_left = sr.magic_ok ? sr.tries[i] : (int)s.retry_max.value;
	}
	*running = run == 0 ? PKG_SLOT_A : PKG_SLOT_B;
	return 0;
}

static int tegra_check(const struct slot_env *e, uint8_t target)
{
	int t = 0;
	if (slot_index(target, &t) != 0)
		return -1;
	struct tegra_state s;
	int running;
	if (tegra_vars_read(e->efivars, &s) != 0 || tegra_vars_refuse_boot_next(&s) != 0 ||
	    tegra_vars_running_chain(e->efivars, &s, &running) != 0)
		return -1;
	char problem[400];
	if (tegra_redundancy_problem(&s, problem, sizeof(problem)))
		return err_set("%s", problem);
	if (t == running)
		return err_set("slot %c is the running one (BootChainFwCurrent %u): an update "
			       "writes only the other slot", 'A' + t, s.current.value);
	/* a capsule for another board: refused now, not at the next boot (6151) */
	if (e->staged_capsule &&
	    tegra_capsule_check_board(e, e->staged_capsule, e->staged_capsule_len) != 0)
		return -1;
	/* arm clears the tries register: refused now if it cannot, not after the writes */
	uint32_t sr_rf;
	if (tegra_scratch_read(e->mem_device, TEGRA_SR_RF_ADDRESS, &sr_rf) != 0)
		return err_prefix("the rootfs tries register");
	return tegra_check_release(e);
}

static int tegra_disarm(const struct slot_env *e, uint8_t target)
{
	struct tegra_state s;
	int t = 0;
	if (slot_index(target, &t) != 0 || require_not_running(e->efivars, t, &s) != 0)
		return -1;
	/* a switch request left pending would have BootChainDxe boot the slot we write */
	int removed = bootslot_var_remove(e->efivars, "BootChainFwNext", BOOTCHAIN_GUID);
	if (removed < 0)
		return -1;
	if (removed)
		fprintf(e->log, "slot: removed a pending boot-chain switch (BootChainFwNext)\n");
	/* the record first: a power cut before the 0xFF below leaves "being written" (true: not
	 * a byte written yet), never a slot that looks given up by the firmware */
	const struct slot_record writing = {RECORD_WRITING, 0, 0};
	if (tegra_record_write(e->efivars, t, &writing) != 0)
		return -1;
	/* L4TLauncher gives an unbootable slot no tries when it sets up SR_RF (InitializeRootfs-
	 * StatusReg) and both-unbootable means recovery (IsValidRootfs) */
	if (tegra_vars_write_u32(e->efivars, tegra_rootfs_var[t], TEGRA_ROOTFS_UNBOOTABLE) != 0)
		return -1;
	fprintf(e->log, "slot: slot %c disarmed (%s 0xff), being written\n", 'A' + t,
		tegra_rootfs_var[t]);
	return 0;
}

/*
 * Arming, the update's last writes, each leaving a board that boots a complete slot:
 *  1. a stale BootChainFwStatus removed: with one present BootChainExecuteUpdate (BootChainDxe.c
 *     :327-342 @r35.3.1) does not start the switch, it only deletes our BootChainFwNext
 *     ("Status is already ERROR or SUCCESS"), and it cancels capsules (status 3);
 *  2. the slot's RootfsStatusSlotX normal, then our record "armed" with the version;
 *  3. SR_RF cleared: L4TLauncher gives a slot its tries only when it sets SR_RF up
 *     (InitializeRootfsStatusReg), and a slot that was unbootable then has none: without the
 *     clear, a slot rolled back once would be given up on at its first boot, untried;
 *  4. BootChainFwNext = the slot's chain (the rootfs slot follows the chain), the last write;
 *     with a capsule staged (install), OsIndications bit 0x4 instead: UEFI writes the
 *     capsule to the other chain and switches to it itself, and cancels a capsule while
 *     BootChainFwNext or BootChainFwStatus exists (tegra_capsule.h), so 1 removes both.
 * A power cut before 4 leaves the running chain booting; the register is lost with the power
 * anyway and set up again from the variables.
 */
static int tegra_arm(const struct slot_env *e, uint8_t target, const struct slot_boot *b)
{
	struct tegra_state s;
	int t = 0;
	if (slot_index(target, &t) != 0 || require_not_running(e->efivars, t, &s) != 0)
		return -1;
	struct slot_record r;
	if (tegra_record_read(e->efivars, t, &r) != 0)
		return -1;
	if (r.state != RECORD_WRITING)
		return err_set("slot %c was not disarmed before it was written (%s has no "
			       "\"being written\" record): not arming it", 'A' + t,
			       tegra_record_var[t]);
	if (b->capsule) {
		if (tegra_capsule_clear_switch(e) != 0)
			return -1;
	} else {
		int removed = bootslot_var_remove(e->efivars, "BootChainFwStatus", BOOTCHAIN_GUID);
		if (removed < 0)
			return -1;
		if (removed)
			fprintf(e->log, "slot: removed the stale BootChainFwStatus\n");
	}
	const struct slot_record armed = {RECORD_ARMED, 1, b->version};
	if (tegra_vars_write_u32(e->efivars, tegra_rootfs_var[t], TEGRA_ROOTFS_NORMAL) != 0 ||
	    tegra_record_write(e->efivars, t, &armed) != 0 ||
	    tegra_scratch_write(e->mem_device, TEGRA_SR_RF_ADDRESS, 0) != 0)
		return -1;
	if (b->capsule) { /* UEFI applies it and switches the chain itself (tegra_capsule.h) */
		if (tegra_capsule_request(e) != 0)
			return -1;
		fprintf(e->log, "slot: slot %c armed with version %llu, its boot firmware staged "
				"as a capsule: UEFI writes it to chain %c at the next boot and "
				"switches to it (rootfs tries register cleared)\n",
			'A' + t, (unsigned long long)b->version, 'A' + t);
		return 0;
	}
	if (tegra_vars_write_u32(e->efivars, "BootChainFwNext", (uint32_t)t) != 0)
		return -1;
	fprintf(e->log, "slot: slot %c armed with version %llu, boot chain %c requested "
			"(BootChainFwNext); the firmware gives it RootfsRetryCountMax tries "
			"(rootfs tries register cleared)\n",
		'A' + t, (unsigned long long)b->version, 'A' + t);
	return 0;
}

const struct slot_backend_ops slot_backend_tegra = {
	.name = "tegra",
	.read = tegra_read,
	.check = tegra_check,
	.disarm = tegra_disarm,
	.install = tegra_capsule_install,
	.arm = tegra_arm,
	.mark_good = tegra_mark_good,
	.read_floor = tegra_read_floor,
	.doctor = tegra_doctor,
	.check_first = tegra_check_first,
	.select_first = tegra_select_first,
	.describe = tegra_describe,
};
