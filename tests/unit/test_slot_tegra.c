/* SPDX-License-Identifier: MIT */
/*
 * The tegra slot backend against the T234 firmware model (t234_model.c): updates that work,
 * switches the firmware undoes, refusals that write nothing, and a power cut after every single
 * variable write of an update and of mark_good.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slot/bootslot.h"
#include "check.h"
#include "error.h"
#include "pkg.h"
#include "slot/slot_backend.h"
#include "t234_model.h"

/* ---- the power cut: every variable write and removal passes here (-Wl,--wrap) ---------- */

static int cut_after = -1; /* writes allowed before the power goes; -1 never */
static int writes_done;
static int power_lost;
static int writes_before_arm = -1; /* writes done when the update called arm */

static int power_cut_now(void)
{
	if (power_lost || (cut_after >= 0 && writes_done >= cut_after)) {
		power_lost = 1;
		return 1;
	}
	writes_done++;
	return 0;
}

static void power_cut_arm(int after)
{
	cut_after = after;
	writes_done = 0;
	power_lost = 0;
}

int __real_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len);
int __wrap_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len);
int __real_bootslot_var_remove(const char *dir, const char *name, const char *guid);
int __wrap_bootslot_var_remove(const char *dir, const char *name, const char *guid);

int __wrap_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len)
{
	if (power_cut_now())
		return err_set("power cut before writing %s", name);
	return __real_bootslot_var_write(dir, name, guid, attributes, value, len);
}

int __wrap_bootslot_var_remove(const char *dir, const char *name, const char *guid)
{
	if (power_cut_now())
		return err_set("power cut before removing %s", name);
	return __real_bootslot_var_remove(dir, name, guid);
}

/* ---- helpers --------------------------------------------------------------------------- */

static char dir[256];
static FILE *devnull;
static const struct slot_backend_ops *ops = &slot_backend_tegra;

static void dir_clear(void)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* A board flashed with A/B, powered on and running slot A. */
static int board_on_a(struct t234_model *m, uint32_t redundancy)
{
	power_cut_arm(-1);
	dir_clear();
	if (model_init(m, dir, redundancy, 3, devnull) != 0)
		return -1;
	return model_boot(m) == PKG_SLOT_A ? 0 : -1;
}

/*
 * The update's calls in update.c's order: check, disarm, the writes, arm. Stops at the first
 * error.
 */
static int update(struct t234_model *m, uint8_t target, uint64_t version,
		  enum model_content written)
{
	const int t = target == PKG_SLOT_A ? 0 : 1;
	const struct slot_boot boot = {.version = version, .cmdline = ""};
	if (ops->check(&m->os, target) != 0 || ops->disarm(&m->os, target) != 0)
		return -1;
	/* the writes and their read-back: the slot is half-written until they end (a power cut
	 * before arm wrote anything is also one during them: the power-cut test marks that) */
	writes_before_arm = writes_done;
	m->content[t] = written;
	return ops->arm(&m->os, target, &boot);
}

static int view(struct t234_model *m, struct slot_view v[2], uint8_t *running)
{
	return ops->read(&m->os, v, running);
}

/* Every file of the directory, names and bytes, for before/after comparisons. */
static char *dir_snapshot(void)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *snap = calloc(1, cap);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && snap) {
			char path[600];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			len += (size_t)snprintf(snap + len, cap - len, "%s=", names[i]->d_name);
			FILE *f = fopen(path, "rb");
			int c;
			while (f && (c = fgetc(f)) != EOF && len + 4 < cap)
				len += (size_t)snprintf(snap + len, cap - len, "%02x", c);
			if (f)
				fclose(f);
			len += (size_t)snprintf(snap + len, cap - len, ";");
		}
		free(names[i]);
	}
	free(names);
	return snap;
}

static int var_exists(const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s-%s", dir, name, BOOTCHAIN_GUID);
	return access(path, F_OK) == 0;
}

/* ---- cases ----------------------------------------------------------------------------- */

static void backend_table_finds_both_and_names_them(void)
{
	CHECK(slot_backend_find("tegra") == &slot_backend_tegra);
	CHECK(slot_backend_find("systemd-boot") == &slot_backend_systemd_boot);
	CHECK(slot_backend_tegra.install == NULL);
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
	CHECK(board_on_a(&m, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[1].health == SLOT_TRIAL && v[1].tries_left == -1);
	CHECK(model_boot(&m) == PKG_SLOT_B);
	CHECK(!m.confirm_failed);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD);
	CHECK(v[1].has_version && v[1].version == 7);
	/* the switch's status (0) would block the next capsule update: mark_good removed it */
	CHECK(!var_exists("BootChainFwStatus") && !var_exists("BootChainFwNext"));
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
	CHECK(board_on_a(&m, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_FIRMWARE_BROKEN) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(m.resets >= 1);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[0].health != SLOT_BAD && v[1].health == SLOT_BAD);
	CHECK(!var_exists("BootChainFwStatus"));
	CHECK(model_boot(&m) == PKG_SLOT_A);
}

static void failed_switch_read_before_mark_good(void)
{
	/* A's system has not confirmed yet: BootChainFwStatus 12 alone tells read */
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_FIRMWARE_BROKEN) == 0);
	m.content[0] = CONTENT_NEVER_CONFIRMS;
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(var_exists("BootChainFwStatus"));
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
	CHECK(board_on_a(&m, 1) == 0);
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
	CHECK(board_on_a(&m, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_NEVER_CONFIRMS) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(model_boot(&m) == PKG_SLOT_B);
		CHECK(view(&m, v, &running) == 0);
		CHECK(running == PKG_SLOT_B && v[1].health == SLOT_TRIAL);
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
	CHECK(board_on_a(&m, 1) == 0);
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
	char *before = dir_snapshot();
	int r = ops->check(&m->os, target);
	char *after = dir_snapshot();
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
	CHECK(board_on_a(&m, 1) == 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/BootNext-%s", dir, EFI_GLOBAL_GUID);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	fwrite("\x07\0\0\0\x01\0", 1, 6, f);
	fclose(f);
	refused_unchanged(&m, PKG_SLOT_B, "BootNext", &ok);
	CHECK(ok);
}

static void check_refuses_without_rootfs_ab(void)
{
	struct t234_model m;
	int ok;
	CHECK(board_on_a(&m, 0) == 0);
	refused_unchanged(&m, PKG_SLOT_B, "re-flash", &ok);
	CHECK(ok);
	CHECK(strstr(err_msg(), "RootfsRedundancyLevel is 0"));
}

static void check_refuses_running_slot(void)
{
	struct t234_model m;
	int ok;
	CHECK(board_on_a(&m, 1) == 0);
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
	CHECK(board_on_a(&m, 1) == 0);
	const struct slot_boot boot = {.version = 1, .cmdline = ""};
	CHECK(ops->arm(&m.os, PKG_SLOT_B, &boot) == -1);
	CHECK(strstr(err_msg(), "not disarmed"));
	CHECK(!var_exists("BootChainFwNext"));
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
		CHECK(board_on_a(&m, 1) == 0);
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
		/* a power cycle, see the note at power_cut_then_rearm_without_power_cycle */
		model_power_off(&m);
		CHECK(model_boot(&m) == PKG_SLOT_B);
		CHECK(view(&m, v, &running) == 0);
		CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD && v[1].version == 8);
	}
	CHECK(cuts == 7); /* disarm's three writes and removals, arm's four */
}

static void power_cut_after_every_mark_good_write(void)
{
	for (int k = 0; k < 4; k++) {
		struct t234_model m;
		struct slot_view v[2];
		uint8_t running;
		CHECK(board_on_a(&m, 1) == 0);
		CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
		power_cut_arm(k);
		CHECK(model_boot(&m) == PKG_SLOT_B);
		const int cut = m.confirm_failed;
		power_cut_arm(-1);
		CHECK(boots_after_cut(&m, PKG_SLOT_B) == 0);
		CHECK(view(&m, v, &running) == 0);
		CHECK(running == PKG_SLOT_B && v[1].health == SLOT_GOOD);
		CHECK(!var_exists("BootChainFwStatus"));
		if (!cut)
			break;
	}
}

/*
 * A firmware fact the model keeps: SR_RF is set up from RootfsStatusSlotX only when its magic
 * is gone, so a slot that was 0xFF then (disarmed across a power-on, or given up by the
 * launcher) has 0 tries until the next power-off, whatever the OS writes. Re-armed without a
 * power cycle, it is given up at once and the board stays on the old slot, which read says.
 */
static void power_cut_then_rearm_without_power_cycle(void)
{
	struct t234_model m;
	struct slot_view v[2];
	uint8_t running;
	CHECK(board_on_a(&m, 1) == 0);
	CHECK(ops->disarm(&m.os, PKG_SLOT_B) == 0);
	model_power_off(&m);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(model_tries_left(&m, 1) == 0);
	CHECK(update(&m, PKG_SLOT_B, 7, CONTENT_GOOD) == 0);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(view(&m, v, &running) == 0);
	CHECK(running == PKG_SLOT_A && v[1].health == SLOT_BAD);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/selfflash-slot-tegra-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir) || !(devnull = fopen("/dev/null", "w"))) {
		perror("setup");
		return 1;
	}
	RUN(backend_table_finds_both_and_names_them);
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
	dir_clear();
	rmdir(dir);
	fclose(devnull);
	return CHECK_EXIT();
}
