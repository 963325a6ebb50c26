/* SPDX-License-Identifier: MIT */
/*
 * The tegra slot backend against the T234 firmware model (t234_model.c): updates that work,
 * switches the firmware undoes, refusals that write nothing, and a power cut after every single
 * variable write of an update and of mark_good.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "pkg.h"
#include "slot/bootslot.h"
#include "slot/slot_backend.h"
#include "t234_harness.h"

/* the release the cases run on (main runs them on every release whose rollback ends) */
static enum model_release release = MODEL_R35_4_1;

static int update(struct t234_model *m, uint8_t target, uint64_t version,
		  enum model_content written)
{
	return harness_update(m, target, version, written);
}

static int view(struct t234_model *m, struct slot_view v[2], uint8_t *running)
{
	return ops->read(&m->os, v, running);
}

/* ---- cases ----------------------------------------------------------------------------- */

static void backend_table_finds_both_and_names_them(void)
{
	CHECK(slot_backend_find("tegra") == &slot_backend_tegra);
	CHECK(slot_backend_find("systemd-boot") == &slot_backend_systemd_boot);
	CHECK(!slot_backend_tegra.install_needs_kernel); /* its install stages a capsule only */
	CHECK(slot_backend_find("grub") == NULL);
	CHECK(strstr(err_msg(), "grub") && strstr(err_msg(), "systemd-boot") &&
	      strstr(err_msg(), "tegra"));
	CHECK(slot_backend_find(NULL) == NULL);
	CHECK_STR_EQ(slot_health_name(SLOT_TRIAL), "on trial");
	CHECK_STR_EQ(slot_health_name(SLOT_BAD), "bad");
	CHECK_STR_EQ(slot_health_name((enum slot_health)99), "unknown");
}

static void update_a_to_b_confirms_and_stays(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
	CHECK(view(&m, v, &running) == 0);
	/* the register cleared by arm: B gets RootfsRetryCountMax tries at its first boot */
	CHECK(running == PKG_SLOT_A && v[1].health == SLOT_TRIAL && v[1].tries_left == 3);
	CHECK(model_boot(&m) == PKG_SLOT_B);
	CHECK(!m.confirm_failed);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD);
	CHECK(v[1].has_version && v[1].version == 7);
	/* the switch's status (0) would block the next capsule update: mark_good removed it */
	CHECK(!var_exists(&m, "BootChainFwStatus") && !var_exists(&m, "BootChainFwNext"));
	for (int i = 0; i < 5; i++)
		CHECK(model_boot(&m) == PKG_SLOT_B);
	model_power_off(&m);
	CHECK(model_boot(&m) == PKG_SLOT_B);
	/* and back: an update of A from B works the same way */
	CHECK(update(&m, PKG_SLOT_A, 8, CONTENT_GOOD) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[0].health == SLOT_GOOD && v[0].version == 8);
	CHECK(v[1].health == SLOT_GOOD && v[1].version == 7);
}

static void failed_switch_comes_back_on_a(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_FIRMWARE_BROKEN) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(m.resets >= 1);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[0].health != SLOT_BAD && v[1].health == SLOT_BAD);
	CHECK(!var_exists(&m, "BootChainFwStatus"));
	CHECK(model_boot(&m) == PKG_SLOT_A);
}

static void failed_switch_read_before_mark_good(void)
{
	/* A's system has not confirmed yet: BootChainFwStatus 12 alone tells read */
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_FIRMWARE_BROKEN) == 0);
	m.content[0] = CONTENT_NEVER_CONFIRMS;
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(var_exists(&m, "BootChainFwStatus"));
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[1].health == SLOT_BAD);
	/* the status left (12) would have BootChainDxe drop the next request unprocessed */
	CHECK(update(&m, PKG_SLOT_B, 8, CONTENT_GOOD) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_B);
}

/* An update armed but not rebooted into, then another one cut while it writes the slot: the
 * first one's switch request must not boot the half-written slot. */
static void second_update_cut_while_first_pending(void)
{
	struct t234_model m;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
	CHECK(ops->check(&m.os, PKG_SLOT_B) == 0 && ops->disarm(&m.os, PKG_SLOT_B) == 0);
	m.content[1] = CONTENT_HALF_WRITTEN;
	CHECK(model_boot(&m) == PKG_SLOT_A);
	model_power_off(&m);
	CHECK(model_boot(&m) == PKG_SLOT_A);
}

static void unconfirmed_b_rolls_back_after_its_tries(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_NEVER_CONFIRMS) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(model_boot(&m) == PKG_SLOT_B);
		CHECK(view(&m, v, &running) == 0);
		CHECK(running == PKG_SLOT_B && v[1].health == SLOT_TRIAL && v[1].tries_left == 2 - i);
	}
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[0].health == SLOT_GOOD);
	CHECK(v[1].health == SLOT_BAD && v[1].has_version && v[1].version == 7);
	CHECK(model_boot(&m) == PKG_SLOT_A);
}

static void both_bad_boot_recovery(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_NEVER_CONFIRMS) == 0);
	m.content[0] = CONTENT_NEVER_CONFIRMS; /* and A's system broke too */
	int boot = 0, boots = 0;
	while (boots < 20 && (boot = model_boot(&m)) != MODEL_RECOVERY) {
		CHECK(boot == PKG_SLOT_A || boot == PKG_SLOT_B);
		boots++;
	}
	CHECK(boot == MODEL_RECOVERY);
	CHECK(boots == 6); /* three tries each */
	CHECK(view(&m, v, &running) == 0);
	CHECK(v[0].health == SLOT_BAD && v[1].health == SLOT_BAD);
}

/* check refuses, names why, and writes nothing */
static void refused_unchanged(struct t234_model *m, uint8_t target, const char *why, int *ok)
{
	*ok = 0;
	char *before = board_snapshot(m);
	int r = ops->check(&m->os, target);
	char *after = board_snapshot(m);
	*ok = r == -1 && strstr(err_msg(), why) != NULL && before && after &&
	      strcmp(before, after) == 0;
	if (!*ok)
		fprintf(stderr, "  check: %d, \"%s\" (expected \"%s\")\n", r, err_msg(), why);
	free(before);
	free(after);
}

static void check_refuses_boot_next(void)
{
	struct t234_model m;
	int ok;
	CHECK(board_on_a(&m, release, 1) == 0);
	var_put(&m, "BootNext", EFI_GLOBAL_GUID, 1, 2);
	refused_unchanged(&m, PKG_SLOT_B, "BootNext", &ok);
	CHECK(ok);
}

static void check_refuses_without_rootfs_ab(void)
{
	struct t234_model m;
	int ok;
	CHECK(board_on_a(&m, release, 0) == 0);
	refused_unchanged(&m, PKG_SLOT_B, "ROOTFS_AB=1", &ok);
	CHECK(ok);
	CHECK(strstr(err_msg(), "RootfsRedundancyLevel is 0"));
}

static void check_refuses_running_slot(void)
{
	struct t234_model m;
	int ok;
	CHECK(board_on_a(&m, release, 1) == 0);
	refused_unchanged(&m, PKG_SLOT_A, "running", &ok);
	CHECK(ok);
	/* disarm and arm refuse it as well, should a caller skip check */
	CHECK(ops->disarm(&m.os, PKG_SLOT_A) == -1);
	const struct slot_boot boot = {.version = 1, .cmdline = ""};
	CHECK(ops->arm(&m.os, PKG_SLOT_A, &boot) == -1);
}

static void arm_refuses_a_slot_not_disarmed(void)
{
	struct t234_model m;
	CHECK(board_on_a(&m, release, 1) == 0);
	const struct slot_boot boot = {.version = 1, .cmdline = ""};
	CHECK(ops->arm(&m.os, PKG_SLOT_B, &boot) == -1);
	CHECK(strstr(err_msg(), "not disarmed"));
	CHECK(!var_exists(&m, "BootChainFwNext"));
}

/*
 * After a power cut: the board must come up on a complete slot (A unless arm's last write
 * happened), three boots in a row; then the update, run again, must succeed.
 */
static int boots_after_cut(struct t234_model *m, int expect_slot)
{
	model_power_off(m);
	for (int i = 0; i < 3; i++) {
		int slot = model_boot(m);
		if (slot != expect_slot || m->content[slot == PKG_SLOT_A ? 0 : 1] != CONTENT_GOOD)
			return -1;
		/* before arm's last write nothing may ask the firmware for the new slot at all */
		if (expect_slot == PKG_SLOT_A && m->resets != 0)
			return -1;
	}
	return 0;
}

static void power_cut_after_every_update_write(void)
{
	int cuts = 0;
	for (int k = 0;; k++) {
		struct t234_model m;
		struct slot_view v[2];
		uint8_t running;
		CHECK(board_on_a(&m, release, 1) == 0);
		power_cut_arm(k);
		writes_before_arm = -1;
		int r = update(&m, PKG_SLOT_B, 7, CONTENT_GOOD);
		const int completed = r == 0 && !power_lost;
		/* cut before arm wrote anything: as well while the data was being written */
		if (!completed && writes_done == writes_before_arm)
			m.content[1] = CONTENT_HALF_WRITTEN;
		power_cut_arm(-1);
		CHECK(view(&m, v, &running) == 0);
		CHECK(completed || (v[1].health != SLOT_GOOD && v[1].health != SLOT_TRIAL));
		if (completed) {
			/* every write happened: the board switches to B for good */
			CHECK(boots_after_cut(&m, PKG_SLOT_B) == 0);
			break;
		}
		cuts++;
		CHECK(boots_after_cut(&m, PKG_SLOT_A) == 0);
		CHECK(update(&m, PKG_SLOT_B, 8, CONTENT_GOOD) == 0);
		/* a plain reboot: arm cleared the tries register, so B has its tries although it
		 * was unbootable when the register was last set up */
		CHECK(model_boot(&m) == PKG_SLOT_B);
		CHECK(view(&m, v, &running) == 0);
		CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD && v[1].version == 8);
	}
	CHECK(cuts == 8); /* disarm's three writes and removals, arm's five */
}

static void power_cut_after_every_mark_good_write(void)
{
	for (int k = 0; k < 8; k++) {
		struct t234_model m;
		struct slot_view v[2];
		uint8_t running;
		CHECK(board_on_a(&m, release, 1) == 0);
		CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
		power_cut_arm(k);
		CHECK(model_boot(&m) == PKG_SLOT_B);
		const int cut = m.confirm_failed;
		power_cut_arm(-1);
		CHECK(boots_after_cut(&m, PKG_SLOT_B) == 0);
		CHECK(view(&m, v, &running) == 0);
		CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD);
		CHECK(!var_exists(&m, "BootChainFwStatus"));
		if (!cut)
			break;
	}
}

/*
 * SR_RF is set up from RootfsStatusSlotX only when its magic is gone, so a slot that was 0xFF
 * then (disarmed across a power-on, or given up by the launcher) has 0 tries until the
 * register is cleared. arm clears it: the re-armed slot boots after a plain reboot. (Without
 * the clear it was given up at once, untried: the failure other tools report as "every later
 * update fails".)
 */
static void power_cut_then_rearm_without_power_cycle(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(ops->disarm(&m.os, PKG_SLOT_B) == 0);
	model_power_off(&m);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	m.content[0] = CONTENT_NEVER_CONFIRMS; /* keep the register as the launcher set it */
	model_power_off(&m);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(model_tries_left(&m, 1) == 0);
	m.content[0] = CONTENT_GOOD;
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_B);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD);
}

/* mark_good is what brings the tries back: after it the register is clear, and the launcher
 * sets every bootable slot up with RootfsRetryCountMax at the next boot */
static void mark_good_clears_the_tries_register(void)
{
	struct t234_model m;
	CHECK(board_on_a(&m, release, 1) == 0);
	CHECK(m.confirms == 1 && !m.confirm_failed);
	CHECK(model_tries_left(&m, 0) == -1 && model_sr_rf(&m) == 0);
	m.content[0] = CONTENT_NEVER_CONFIRMS;
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(model_tries_left(&m, 0) == 2 && model_tries_left(&m, 1) == 3);
	CHECK(ops->mark_good(&m.os, PKG_SLOT_A) == 0);
	CHECK(model_sr_rf(&m) == 0);
}

/* A factory-flashed slot has no record (recovery mode keeps no variable): its system's own
 * version is recorded at its first confirmation, and the floor, the newest version ever
 * confirmed, covers both slots and never goes down. */
static void first_confirm_records_version_and_floor(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	int known = 9;
	uint64_t floor = 0;
	CHECK(board_on_a(&m, release, 1) == 0); /* its system has no version file yet */
	CHECK(view(&m, v, &running) == 0 && !v[0].has_version);
	CHECK(ops->read_floor(&m.os, &known, &floor) == 0 && !known);
	FILE *f = fopen(m.version_file[0], "w");
	CHECK(f && fputs("5 is not a version\n", f) >= 0 && fclose(f) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_A && !m.confirm_failed); /* a bad file fails nothing */
	CHECK(view(&m, v, &running) == 0 && !v[0].has_version);
	f = fopen(m.version_file[0], "w");
	CHECK(f && fputs("5\n", f) >= 0 && fclose(f) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_A && !m.confirm_failed);
	CHECK(view(&m, v, &running) == 0 && v[0].has_version && v[0].version == 5);
	CHECK(ops->read_floor(&m.os, &known, &floor) == 0 && known && floor == 5);
	/* a downgrade to 3 (allowed by hand) boots and confirms: the floor stays at 5 */
	CHECK(update(&m, PKG_SLOT_B, 3, CONTENT_GOOD) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_B && !m.confirm_failed);
	CHECK(view(&m, v, &running) == 0 && v[1].version == 3 && v[0].version == 5);
	CHECK(ops->read_floor(&m.os, &known, &floor) == 0 && known && floor == 5);
	/* an update armed with 9 moves it once it is confirmed, not before */
	CHECK(update(&m, PKG_SLOT_A, 9, CONTENT_GOOD) == 0);
	CHECK(ops->read_floor(&m.os, &known, &floor) == 0 && floor == 5);
	CHECK(model_boot(&m) == PKG_SLOT_A && !m.confirm_failed);
	CHECK(ops->read_floor(&m.os, &known, &floor) == 0 && floor == 9);
}

int main(void)
{
	harness_setup();
	RUN(backend_table_finds_both_and_names_them);
	static const enum model_release ending[] = {MODEL_R35_4_1, MODEL_R36_4_3};
	for (size_t i = 0; i < sizeof(ending) / sizeof(ending[0]); i++) {
		release = ending[i];
		RUN(update_a_to_b_confirms_and_stays);
		RUN(failed_switch_comes_back_on_a);
		RUN(failed_switch_read_before_mark_good);
		RUN(second_update_cut_while_first_pending);
		RUN(unconfirmed_b_rolls_back_after_its_tries);
		RUN(both_bad_boot_recovery);
		RUN(check_refuses_boot_next);
		RUN(check_refuses_without_rootfs_ab);
		RUN(check_refuses_running_slot);
		RUN(arm_refuses_a_slot_not_disarmed);
		RUN(power_cut_after_every_update_write);
		RUN(power_cut_after_every_mark_good_write);
		RUN(power_cut_then_rearm_without_power_cycle);
		RUN(mark_good_clears_the_tries_register);
		RUN(first_confirm_records_version_and_floor);
	}
	harness_teardown();
	return CHECK_EXIT();
}
