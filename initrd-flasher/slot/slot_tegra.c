/* SPDX-License-Identifier: MIT */
/*
 * Slot backend "tegra": A/B on a T234 through its firmware's EFI variables (DESIGN.md section 9).
 * Facts from edk2-nvidia (cited where used): BootChainDxe (Silicon/NVIDIA/Drivers/BootChainDxe/
 * BootChainDxe.c, BootChainExecuteUpdate) switches the boot chain on BootChainFwNext and leaves
 * BootChainFwStatus; L4TLauncher (Silicon/NVIDIA/Application/L4TLauncher/L4TRootfsValidation.c,
 * ValidateRootfsStatus) counts the rootfs tries in the SR_RF scratch register, marks a slot
 * whose tries ran out RootfsStatusSlotX = 0xFF and requests the other chain.
 *
 * The firmware keeps no record of what an update did, so this backend keeps one per slot in the
 * variable SelfflashSlotA / SelfflashSlotB under selfflash's own vendor GUID SLOT_RECORD_GUID
 * (attributes NV|BS|RT; value: u32 state, u32 flags, u64 system version, little-endian). It is
 * how `read` tells a slot we disarmed (being written) from one the firmware gave up on, and how
 * anti-rollback knows a slot's version.
 */
#include "slot_backend.h"

#include <string.h>

#include "bootslot.h"
#include "error.h"
#include "le.h"
#include "pkg.h"
#include "tegra_capsule.h"
#include "tegra_vars.h"

/* selfflash's vendor GUID for its own variables (random, fixed once) */
#define SLOT_RECORD_GUID "2a812345-13c3-4ab0-98cd-49fab6d8302e"
#define SLOT_RECORD_LEN 16
#define SLOT_RECORD_HAS_VERSION 0x1u

/* RootfsStatusSlotX values: NVIDIA_OS_STATUS_NORMAL / _UNBOOTABLE (L4TRootfsValidation.c) */
#define ROOTFS_NORMAL 0x0u
#define ROOTFS_UNBOOTABLE 0xffu

/* BootChainFwStatus STATUS_IN_PROGRESS (BootChainDxePrivate.h) */
#define BOOTCHAIN_STATUS_IN_PROGRESS 1u

/* What selfflash did to a slot, as recorded. */
enum record_state {
	RECORD_NONE = 0,        /* no record: never touched by an update */
	RECORD_WRITING = 1,     /* disarmed, being written */
	RECORD_ARMED = 2,       /* written, verified, its chain requested */
	RECORD_CONFIRMED = 3,   /* its system ran mark_good */
	RECORD_ROLLED_BACK = 4, /* armed, but the board came back on the other slot */
};

struct slot_record {
	enum record_state state;
	int has_version;
	uint64_t version;
};

static const char *const record_var[2] = {"SelfflashSlotA", "SelfflashSlotB"};
static const char *const rootfs_var[2] = {"RootfsStatusSlotA", "RootfsStatusSlotB"};

static int record_read(const char *dir, int i, struct slot_record *r)
{
	uint8_t v[SLOT_RECORD_LEN];
	size_t len;
	int present;
	memset(r, 0, sizeof(*r));
	if (bootslot_var_read(dir, record_var[i], SLOT_RECORD_GUID, v, sizeof(v), &len, &present))
		return -1;
	if (!present)
		return 0;
	if (len != SLOT_RECORD_LEN)
		return err_set("EFI variable %s has a %zu-byte value, expected %d", record_var[i], len,
			       SLOT_RECORD_LEN);
	uint32_t state = le32_load(v);
	if (state < RECORD_WRITING || state > RECORD_ROLLED_BACK)
		return err_set("EFI variable %s: state %u is unknown (1..4)", record_var[i], state);
	r->state = (enum record_state)state;
	r->has_version = (le32_load(v + 4) & SLOT_RECORD_HAS_VERSION) != 0;
	r->version = le64_load(v + 8);
	return 0;
}

static int record_write(const char *dir, int i, const struct slot_record *r)
{
	uint8_t v[SLOT_RECORD_LEN];
	le32_store(v, (uint32_t)r->state);
	le32_store(v + 4, r->has_version ? SLOT_RECORD_HAS_VERSION : 0);
	le64_store(v + 8, r->has_version ? r->version : 0);
	return bootslot_var_write(dir, record_var[i], SLOT_RECORD_GUID, BOOTSLOT_ATTR_NV_BS_RT, v,
				  sizeof(v));
}

static int read_state(const char *dir, struct tegra_state *s, int *running)
{
	return tegra_vars_read(dir, s) != 0 ? -1 : tegra_vars_running_chain(dir, s, running);
}

/* Refuses to touch the running slot's state (disarm and arm repeat check()'s test); the
 * state read in *s. */
static int require_not_running(const char *dir, int target, struct tegra_state *s)
{
	int running;
	if (read_state(dir, s, &running) != 0)
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
	v->tries_left = -1; /* the live count is in SR_RF, which the OS cannot read */
	v->tries_done = -1;
	v->has_version = r->has_version;
	v->version = r->version;
	const int rootfs_bad = s->rootfs[i].present && s->rootfs[i].value == ROOTFS_UNBOOTABLE;
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
	} else if (s->status.present && s->status.value != BOOTCHAIN_STATUS_IN_PROGRESS) {
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
	if (read_state(e->efivars, &s, &run) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		struct slot_record r;
		if (record_read(e->efivars, i, &r) != 0)
			return -1;
		view_from(&v[i], &r, &s, i, run);
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
	/* 1 = NVIDIA_OS_REDUNDANCY_BOOT_ROOTFS: only then does ValidateRootfsStatus boot rootfs B
	 * with chain B; with 0 it always boots rootfs A. Set at flash time (ROOTFS_AB=1), locked. */
	if (!s.redundancy.present || s.redundancy.value != 1) {
		if (s.redundancy.present)
			return err_set("RootfsRedundancyLevel is %u: rootfs A/B was not enabled when "
				       "the board was flashed, so chain B would still boot rootfs A; "
				       "re-flash the board with rootfs A/B enabled",
				       s.redundancy.value);
		return err_set("RootfsRedundancyLevel is missing: rootfs A/B was not enabled when the "
			       "board was flashed; re-flash the board with rootfs A/B enabled");
	}
	if (t == running)
		return err_set("slot %c is the running one (BootChainFwCurrent %u): an update "
			       "writes only the other slot", 'A' + t, s.current.value);
	return 0;
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
	if (record_write(e->efivars, t, &writing) != 0)
		return -1;
	/* L4TLauncher gives an unbootable slot no tries when it sets up SR_RF (InitializeRootfs-
	 * StatusReg) and both-unbootable means recovery (IsValidRootfs) */
	if (tegra_vars_write_u32(e->efivars, rootfs_var[t], ROOTFS_UNBOOTABLE) != 0)
		return -1;
	fprintf(e->log, "slot: slot %c disarmed (%s 0xff), being written\n", 'A' + t,
		rootfs_var[t]);
	return 0;
}

/*
 * The boot-chain switch as BootChainExecuteUpdate (BootChainDxe.c) takes it: the one sequence
 * of an update's arm and a first flash's select. Each step leaves a board that boots a
 * complete slot: until BootChainFwNext is written nothing asks the firmware for the chain.
 * A stale BootChainFwStatus goes first: with one present BootChainExecuteUpdate does not
 * start the switch, it only finishes the old one and deletes our BootChainFwNext ("Status is
 * already ERROR or SUCCESS"); it also cancels capsule updates (BootChainCheckAndCancelUpdate,
 * status 3). Then, for an update, `armed`: the slot's rootfs status normal and our record.
 * Last the request (0 chain A, 1 chain B; the rootfs slot follows the chain), unless `chain`
 * is the current one (s, read before): a request for the running chain ends as status 2, "no
 * operation required", itself stale, so a stale BootChainFwNext is removed instead (only a
 * first flash gets there: arm refuses the running slot). A variable removed is logged with
 * removed_fmt (its %s: the name). 1 requested, 0 the chain runs already, -1 error.
 */
static int chain_request(const struct slot_env *e, const struct tegra_state *s, int chain,
			 const struct slot_record *armed, const char *removed_fmt)
{
	int removed = bootslot_var_remove(e->efivars, "BootChainFwStatus", BOOTCHAIN_GUID);
	if (removed < 0)
		return -1;
	if (removed)
		fprintf(e->log, removed_fmt, "BootChainFwStatus");
	if (armed && (tegra_vars_write_u32(e->efivars, rootfs_var[chain], ROOTFS_NORMAL) != 0 ||
		      record_write(e->efivars, chain, armed) != 0))
		return -1;
	if (s->current.present && s->current.value == (uint32_t)chain) {
		removed = bootslot_var_remove(e->efivars, "BootChainFwNext", BOOTCHAIN_GUID);
		if (removed > 0)
			fprintf(e->log, removed_fmt, "BootChainFwNext");
		return removed < 0 ? -1 : 0;
	}
	return tegra_vars_write_u32(e->efivars, "BootChainFwNext", (uint32_t)chain) != 0 ? -1 : 1;
}

static int tegra_arm(const struct slot_env *e, uint8_t target, const struct slot_boot *b)
{
	struct tegra_state s;
	int t = 0;
	if (slot_index(target, &t) != 0 || require_not_running(e->efivars, t, &s) != 0)
		return -1;
	struct slot_record r;
	if (record_read(e->efivars, t, &r) != 0)
		return -1;
	if (r.state != RECORD_WRITING)
		return err_set("slot %c was not disarmed before it was written (%s has no "
			       "\"being written\" record): not arming it", 'A' + t, record_var[t]);
	const struct slot_record armed = {RECORD_ARMED, 1, b->version};
	if (b->capsule) /* UEFI applies it and switches the chain itself (tegra_capsule.h) */
		return tegra_capsule_clear_switch(e) != 0 ||
				       tegra_vars_write_u32(e->efivars, rootfs_var[t], ROOTFS_NORMAL) ||
				       record_write(e->efivars, t, &armed) != 0 ||
				       tegra_capsule_request(e) != 0
			       ? -1
			       : 0;
	if (chain_request(e, &s, t, &armed, "slot: removed the stale %s\n") < 0)
		return -1;
	fprintf(e->log, "slot: slot %c armed with version %llu, boot chain %c requested "
			"(BootChainFwNext); the firmware gives it RootfsRetryCountMax tries\n",
		'A' + t, (unsigned long long)b->version, 'A' + t);
	/* L4TLauncher sets SR_RF's tries up only when its magic is gone (InitializeRootfsStatusReg):
	 * a slot that was unbootable when that happened has none until the next power-on */
	fprintf(e->log, "slot: if slot %c was unbootable when the board last powered on, the "
			"firmware gives it no tries until a power cycle: power-cycle the board "
			"rather than rebooting it\n", 'A' + t);
	return 0;
}

/*
 * What confirms a slot on a T234. L4TLauncher takes a try from SR_RF on every boot and sets
 * SR_RF up again (RootfsRetryCountMax tries) only when its magic is gone (power-on, or its own
 * reset to the other chain): edk2-nvidia has no variable the OS could set to confirm a boot.
 * NVIDIA's Linux restores the running slot's tries in SR_RF itself after a good boot
 * (nv-l4t-bootloader-config.service, `nvbootctrl verify`, closed source), which efivarfs
 * cannot do: a board updated by selfflash keeps that service. What is left for mark_good is
 * selfflash's own record (confirmed; and the other slot's armed update rolled back when the
 * board came back here) and the stale BootChainFwStatus, which blocks the next capsule update.
 */
static int tegra_mark_good(const struct slot_env *e, uint8_t running)
{
	int r = 0;
	if (slot_index(running, &r) != 0)
		return -1;
	struct tegra_state s;
	int current;
	if (read_state(e->efivars, &s, &current) != 0)
		return -1;
	if (current != r)
		return err_set("slot %c is not the one the firmware booted (BootChainFwCurrent %u)",
			       'A' + r, s.current.value);
	struct slot_record own, other;
	if (record_read(e->efivars, r, &own) != 0 || record_read(e->efivars, 1 - r, &other) != 0)
		return -1;
	const int switch_pending = s.next.present && s.next.value == (uint32_t)(1 - r);
	if (other.state == RECORD_ARMED && !switch_pending) {
		other.state = RECORD_ROLLED_BACK;
		if (record_write(e->efivars, 1 - r, &other) != 0)
			return -1;
		fprintf(e->log, "slot: the update to slot %c rolled back: the board came back on "
				"slot %c%s%s\n", 'B' - r, 'A' + r,
			s.status.present ? "; last switch: " : "",
			s.status.present ? tegra_vars_status_text(s.status.value) : "");
	}
	if (own.state != RECORD_CONFIRMED) {
		own.state = RECORD_CONFIRMED;
		if (record_write(e->efivars, r, &own) != 0)
			return -1;
		fprintf(e->log, "slot: slot %c confirmed\n", 'A' + r);
	}
	/* a switch still in progress belongs to the firmware; any other outcome is stale */
	if (s.status.present && s.status.value != BOOTCHAIN_STATUS_IN_PROGRESS) {
		if (bootslot_var_remove(e->efivars, "BootChainFwStatus", BOOTCHAIN_GUID) < 0)
			return -1;
		fprintf(e->log, "slot: removed the stale BootChainFwStatus (%u)\n", s.status.value);
	}
	return 0;
}

/* The first flash's check: the state readable, no BootNext; current may be missing (a board
 * whose variable store was never written, or a test's empty directory). */
static int first_state(const struct slot_env *e, uint8_t slot, int *chain, struct tegra_state *s)
{
	if (slot_index(slot, chain) != 0 || tegra_vars_read(e->efivars, s) != 0)
		return -1;
	return tegra_vars_refuse_boot_next(s);
}

static int tegra_check_first(const struct slot_env *e, uint8_t slot)
{
	struct tegra_state s;
	int chain;
	return first_state(e, slot, &chain, &s);
}

/* The chain request only: the rootfs statuses and selfflash's slot records are not touched
 * (both slots hold the same system, neither on trial); records an earlier update left stay. */
static int tegra_select_first(const struct slot_env *e, uint8_t slot)
{
	struct tegra_state s;
	int chain;
	if (first_state(e, slot, &chain, &s) != 0)
		return -1;
	int requested =
		chain_request(e, &s, chain, NULL, "flasher: removed stale EFI variable %s\n");
	if (requested < 0)
		return -1;
	const char *name = tegra_vars_chain_name((uint32_t)chain);
	if (requested)
		fprintf(e->log, "flasher: boot chain %s selected (BootChainFwNext)\n", name);
	else
		fprintf(e->log, "flasher: boot chain %s is the running one: no switch requested\n",
			name);
	if (tegra_vars_read(e->efivars, &s) == 0)
		tegra_vars_describe(&s, "flasher: ", e->log);
	return 0;
}

static int tegra_describe(const struct slot_env *e, FILE *out)
{
	struct tegra_state s;
	if (tegra_vars_read(e->efivars, &s) != 0)
		return -1;
	tegra_vars_describe(&s, "", out);
	return tegra_capsule_describe(e, out);
}

const struct slot_backend_ops slot_backend_tegra = {
	.name = "tegra",
	.read = tegra_read,
	.check = tegra_check,
	.disarm = tegra_disarm,
	.install = tegra_capsule_install,
	.arm = tegra_arm,
	.mark_good = tegra_mark_good,
	.check_first = tegra_check_first,
	.select_first = tegra_select_first,
	.describe = tegra_describe,
};
