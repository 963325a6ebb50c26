/* SPDX-License-Identifier: MIT */
/*
 * The tegra backend against the T234 firmware model, release by release (issue 22's
 * guarantees): a confirmed system survives 20 reboots on its slot; an unconfirmed one falls
 * back after its tries; r35.3.1's rollback loop is refused before anything is written; a first
 * flash over a stale variable store starts clean; no sequence of reboots, power cuts and
 * updates ends in an endless reset or the recovery kernel while a good slot exists; doctor
 * names each problem; the release read from bios_version or the ESRT.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "pkg.h"
#include "slot/bootslot.h"
#include "slot/tegra_release.h"
#include "t234_harness.h"

static const enum model_release all_releases[] = {MODEL_R35_3_1, MODEL_R35_4_1, MODEL_R36_4_3};
static const char *const release_names[] = {"r35.3.1", "r35.4.1", "r36.4.3"};
#define NRELEASES (sizeof(all_releases) / sizeof(all_releases[0]))

static void confirmed_system_survives_twenty_reboots_on_every_release(void)
{
	for (size_t r = 0; r < NRELEASES; r++) {
		struct t234_model m;
		CHECK(board_on_a(&m, all_releases[r], 1) == 0);
		for (int i = 0; i < 20; i++) {
			if (i % 7 == 6)
				model_power_off(&m);
			const int slot = model_boot(&m);
			if (slot != PKG_SLOT_A || m.confirm_failed || m.resets != 0) {
				fprintf(stderr, "  %s: boot %d gave %d (resets %d)\n", release_names[r],
					i, slot, m.resets);
				CHECK(0);
				break;
			}
			CHECK(model_sr_rf(&m) == 0); /* confirmed: the tries come back */
		}
	}
}

/* Without mark_good the launcher takes a try per boot and never gives one back: the board
 * leaves slot A after exactly RootfsRetryCountMax boots, and with no confirmed slot at all
 * it ends in the recovery kernel -- what a system without the boot-time step meets. */
static void unconfirmed_system_falls_back_after_its_tries(void)
{
	for (size_t r = 0; r < NRELEASES; r++) {
		struct t234_model m;
		CHECK(board_on_a(&m, all_releases[r], 1) == 0);
		m.content[0] = CONTENT_NEVER_CONFIRMS;
		int on_a = 0, slot;
		while ((slot = model_boot(&m)) == PKG_SLOT_A && on_a < 20)
			on_a++;
		CHECK(on_a == 3);
		CHECK(slot == PKG_SLOT_B); /* B is good: it confirms and stays */
		for (int i = 0; i < 20; i++)
			CHECK(model_boot(&m) == PKG_SLOT_B);
		m.content[1] = CONTENT_NEVER_CONFIRMS;
		int boots = 0;
		while ((slot = model_boot(&m)) == PKG_SLOT_B && boots < 20)
			boots++;
		CHECK(boots == 3 && slot == MODEL_RECOVERY);
	}
}

/* r35.3.1: refused before anything is written, with the fix named; forced through anyway (the
 * check skipped), the model shows the loop the refusal prevents. From r35.4.1 the same failed
 * update ends back on slot A. */
static void r35_3_1_rollback_loop_refused(void)
{
	struct t234_model m;
	CHECK(board_on_a(&m, MODEL_R35_3_1, 1) == 0);
	char *before = board_snapshot(&m);
	CHECK(ops->check(&m.os, PKG_SLOT_B) == -1);
	CHECK(strstr(err_msg(), "r35.3.1 (from bios_version \"3.1-32827747\")") &&
	      strstr(err_msg(), "r35.4.1 or later"));
	char *after = board_snapshot(&m);
	CHECK(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
	const struct slot_boot boot = {.version = 2, .cmdline = ""};
	CHECK(ops->disarm(&m.os, PKG_SLOT_B) == 0);
	m.content[1] = CONTENT_NEVER_CONFIRMS;
	CHECK(ops->arm(&m.os, PKG_SLOT_B, &boot) == 0);
	int slot = 0, boots = 0;
	while ((slot = model_boot(&m)) == PKG_SLOT_B && boots < 10)
		boots++;
	CHECK(boots == 3 && slot == MODEL_RESET_LOOP);
	for (size_t r = 1; r < NRELEASES; r++) {
		CHECK(board_on_a(&m, all_releases[r], 1) == 0);
		CHECK(harness_update(&m, PKG_SLOT_B, 2, CONTENT_NEVER_CONFIRMS) == 0);
		boots = 0;
		while ((slot = model_boot(&m)) == PKG_SLOT_B && boots < 10)
			boots++;
		CHECK(boots == 3 && slot == PKG_SLOT_A);
		for (int i = 0; i < 20; i++)
			CHECK(model_boot(&m) == PKG_SLOT_A);
	}
}

/* On r35.3.1 an update that carries r35.4.1+ boot firmware is rolled back by that firmware's
 * launcher: allowed; one that carries r35.3.x firmware is not; a release named in the config
 * wins over the board's word. */
static void staged_firmware_and_config_release_decide(void)
{
	struct t234_model m;
	CHECK(board_on_a(&m, MODEL_R35_3_1, 1) == 0);
	m.os.staged_firmware_version = 0x230401;
	CHECK(ops->check(&m.os, PKG_SLOT_B) == 0);
	m.os.staged_firmware_version = 0x230302;
	CHECK(ops->check(&m.os, PKG_SLOT_B) == -1);
	m.os.staged_firmware_version = 0;
	m.os.firmware_release = "35.6.0";
	CHECK(ops->check(&m.os, PKG_SLOT_B) == 0);
	m.os.firmware_release = "35.6";
	CHECK(ops->check(&m.os, PKG_SLOT_B) == -1 && strstr(err_msg(), "MAJOR.MINOR.PATCH"));
	m.os.firmware_release = NULL;
	/* a release nothing tells: refused, with the way to say it */
	char path[600];
	snprintf(path, sizeof(path), "%s/class/dmi/id/bios_version", m.sysfs);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("my-own-build\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/firmware/efi/esrt/entries/entry0/fw_version", m.sysfs);
	unlink(path);
	CHECK(ops->check(&m.os, PKG_SLOT_B) == -1);
	CHECK(strstr(err_msg(), "unknown (bios_version \"my-own-build\"") &&
	      strstr(err_msg(), "firmware-release"));
}

static void release_forms_parsed(void)
{
	unsigned a, b, c;
	CHECK(tegra_release_parse_bios("3.1-32827747", &a, &b, &c) == 0 && a == 35 && b == 3 &&
	      c == 1);
	CHECK(tegra_release_parse_bios("36.2.0-gcid-34956989", &a, &b, &c) == 0 && a == 36 &&
	      b == 2 && c == 0);
	CHECK(tegra_release_parse_bios("r35.3.1-g63e71c9-dirty", &a, &b, &c) == 0 && a == 35 &&
	      b == 3 && c == 1);
	CHECK(tegra_release_parse_bios("202210.3-8444db34", &a, &b, &c) == -1);
	CHECK(tegra_release_parse_bios("36.2.0", &a, &b, &c) == -1);
	CHECK(tegra_release_parse_bios("3.1-", &a, &b, &c) == -1);
	CHECK(tegra_release_parse_bios("", &a, &b, &c) == -1);
	CHECK(tegra_release_parse_bios("99999999.1-1", &a, &b, &c) == -1);
	CHECK(tegra_release_rollback_ends(35, 4, 1) && tegra_release_rollback_ends(36, 0, 0) &&
	      !tegra_release_rollback_ends(35, 3, 1) && !tegra_release_rollback_ends(35, 4, 0) &&
	      tegra_release_rollback_ends(35, 5, 0) && !tegra_release_rollback_ends(34, 9, 9));
	/* r35.4.1's self-built bios_version names no release: the ESRT's Version32 does */
	struct t234_model m;
	CHECK(board_on_a(&m, MODEL_R35_4_1, 1) == 0);
	struct tegra_release r;
	CHECK(tegra_release_read(m.sysfs, NULL, NULL, &r) == 0 && r.known && r.major == 35 &&
	      r.minor == 4 && r.patch == 1 && strstr(r.source, "ESRT fw_version 0x230401"));
}

/* A variable store full of an earlier install's state, as a re-flash with NVIDIA's whole-QSPI
 * erase never meets it: the first flash blanks it (store_erased) and the board starts clean. */
static void stale_store(struct t234_model *m)
{
	var_put(m, "BootChainFwNext", BOOTCHAIN_GUID, 1, 4);
	var_put(m, "BootChainFwStatus", BOOTCHAIN_GUID, 12, 4);
	var_put(m, "RootfsStatusSlotA", BOOTCHAIN_GUID, 0xff, 4);
	var_put(m, "RootfsStatusSlotB", BOOTCHAIN_GUID, 0xff, 4);
	var_put(m, "BootNext", EFI_GLOBAL_GUID, 3, 2);
}

static void first_flash_over_stale_variables(void)
{
	char session[300];
	snprintf(session, sizeof(session), "%s-rcm", harness_root);
	mkdir(session, 0755);
	for (size_t r = 0; r < NRELEASES; r++) {
		struct t234_model m;
		CHECK(board_on_a(&m, all_releases[r], 1) == 0);
		stale_store(&m);
		model_first_flash(&m, session, 1);
		for (int i = 0; i < 20; i++)
			CHECK(model_boot(&m) == PKG_SLOT_A && !m.confirm_failed);
		CHECK(!var_exists(&m, "BootChainFwNext") && !var_exists(&m, "BootChainFwStatus"));
		char path[600];
		snprintf(path, sizeof(path), "%s/BootNext-%s", m.dir, EFI_GLOBAL_GUID);
		CHECK(access(path, F_OK) != 0);
		struct slot_view v[2];
		uint8_t running;
		CHECK(ops->read(&m.os, v, &running) == 0 && v[1].health != SLOT_BAD);
		/* the store left as it was: both rootfs slots 0xFF mean the recovery kernel */
		CHECK(board_on_a(&m, all_releases[r], 1) == 0);
		stale_store(&m);
		model_first_flash(&m, session, 0);
		CHECK(model_boot(&m) == MODEL_RECOVERY);
	}
	rmdir(session);
}

/* select_first writes nothing in recovery mode's store (it would be lost), and says what the
 * firmware starts with instead */
static void first_flash_writes_no_variable(void)
{
	char session[300];
	snprintf(session, sizeof(session), "%s-rcm", harness_root);
	mkdir(session, 0755);
	char log[4096] = "";
	FILE *out = fmemopen(log, sizeof(log) - 1, "w");
	const struct slot_env rcm = {.efivars = session, .tries = 3, .log = out};
	CHECK(ops->check_first(&rcm, PKG_SLOT_A) == 0);
	CHECK(ops->select_first(&rcm, PKG_SLOT_A) == 0);
	CHECK(ops->check_first(&rcm, PKG_SLOT_B) == -1);
	fclose(out);
	CHECK(rmdir(session) == 0); /* still empty */
	CHECK(strstr(log, "boot BCT just written selects it") &&
	      strstr(log, "both rootfs slots normal"));
}

/* ---- random sequences --------------------------------------------------------------------- */

static unsigned long rng_state;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((rng_state >> 33) % n);
}

static enum model_content random_content(void)
{
	static const enum model_content c[] = {CONTENT_GOOD, CONTENT_GOOD, CONTENT_NEVER_CONFIRMS,
					       CONTENT_FIRMWARE_BROKEN};
	return c[rnd(4)];
}

/* An update of the slot that does not run, the power cut after `cut` writes (-1: none). */
static void random_update(struct t234_model *m, int running, int cut, uint64_t version)
{
	const int target = 1 - running;
	power_cut_arm(cut);
	writes_before_arm = -1;
	const int r = harness_update(m, target == 0 ? PKG_SLOT_A : PKG_SLOT_B, version,
				     random_content());
	const int completed = r == 0 && !power_lost;
	if (!completed && writes_before_arm >= 0 && writes_done == writes_before_arm)
		m->content[target] = CONTENT_HALF_WRITTEN;
	if (r != 0 && !power_lost)
		fprintf(stderr, "  update refused: %s\n", err_msg());
	power_cut_arm(-1);
	if (!completed)
		model_power_off(m);
}

/* One random life of a board: 150 steps of reboots, power cuts (also inside updates and inside
 * the system's mark_good) and updates made from a confirmed slot; after every boot, while a
 * good slot exists, the board must run a slot whose system is whole: never the recovery
 * kernel, never an endless reset, never a half-written or firmware-broken slot. */
static int random_life(enum model_release release, unsigned seed)
{
	struct t234_model m;
	rng_state = seed;
	if (board_on_a(&m, release, 1) != 0)
		return -1;
	int running = 0, up = 1, updates = 0;
	for (int step = 0; step < 150; step++) {
		const unsigned choice = rnd(10);
		if (choice >= 5 && choice < 8 && up && m.content[running] == CONTENT_GOOD) {
			random_update(&m, running, rnd(3) ? -1 : (int)rnd(9), (uint64_t)step);
			up = 0; /* it reboots next: into the update, or after the power came back */
			updates++;
			continue;
		}
		if (choice == 4 || choice >= 8)
			model_power_off(&m);
		if (choice >= 8)
			power_cut_arm((int)rnd(6)); /* the power goes while the system confirms */
		const int good = m.content[0] == CONTENT_GOOD || m.content[1] == CONTENT_GOOD;
		const int slot = model_boot(&m);
		const int cut = power_lost;
		power_cut_arm(-1);
		up = !cut;
		if (cut)
			model_power_off(&m);
		if (!good)
			return 0; /* nothing is promised without a good slot */
		if (slot != PKG_SLOT_A && slot != PKG_SLOT_B) {
			fprintf(stderr, "  seed %u step %d: boot ended %d with contents %d/%d\n",
				seed, step, slot, m.content[0], m.content[1]);
			return -1;
		}
		running = slot == PKG_SLOT_A ? 0 : 1;
		if (m.content[running] != CONTENT_GOOD &&
		    m.content[running] != CONTENT_NEVER_CONFIRMS) {
			fprintf(stderr, "  seed %u step %d: booted slot %c holding content %d\n", seed,
				step, 'A' + running, m.content[running]);
			return -1;
		}
	}
	return updates > 0 ? 0 : -1;
}

static void no_sequence_ends_in_a_reset_loop_or_recovery(void)
{
	for (size_t r = 1; r < NRELEASES; r++)
		for (unsigned seed = 1; seed <= 40; seed++)
			if (random_life(all_releases[r], seed) != 0) {
				fprintf(stderr, "  release %s\n", release_names[r]);
				CHECK(0);
				return;
			}
}

/* ---- doctor and the deliberate recovery of a slot ------------------------------------------ */

/* doctor's report on the model's board into buf; the number of problems, -1 on an error */
static int doctor(struct t234_model *m, char *buf, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int problems = 0;
	if (!out || ops->doctor(&m->os, out, &problems) != 0)
		problems = -1;
	if (out)
		fclose(out);
	snprintf(buf, size, "%s", text ? text : "");
	free(text);
	return problems;
}

static void doctor_names_each_problem_with_its_fix(void)
{
	struct t234_model m;
	char report[8192];
	CHECK(board_on_a(&m, MODEL_R36_4_3, 1) == 0);
	CHECK(doctor(&m, report, sizeof(report)) == 0);
	CHECK(strstr(report, "ok       firmware: r36.4.3 from bios_version"));
	CHECK(strstr(report, "ok       rootfs tries: restored"));
	var_put(&m, "BootNext", EFI_GLOBAL_GUID, 3, 2);
	CHECK(doctor(&m, report, sizeof(report)) == 1);
	CHECK(strstr(report, "PROBLEM  BootNext: UEFI BootNext is Boot0003") &&
	      strstr(report, "efibootmgr --delete-bootnext"));
	char path[600];
	snprintf(path, sizeof(path), "%s/BootNext-%s", m.dir, EFI_GLOBAL_GUID);
	unlink(path);
	/* an update to B that never confirmed: rolled back, B unbootable, no fallback left */
	CHECK(harness_update(&m, PKG_SLOT_B, 2, CONTENT_NEVER_CONFIRMS) == 0);
	while (model_boot(&m) == PKG_SLOT_B)
		;
	CHECK(doctor(&m, report, sizeof(report)) == 1);
	CHECK(strstr(report, "PROBLEM  slot B: unbootable (RootfsStatusSlotB 0xff): no fallback") &&
	      strstr(report, "--restore-other"));
	/* a boot not confirmed: the tries left, named */
	m.content[0] = CONTENT_NEVER_CONFIRMS;
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(doctor(&m, report, sizeof(report)) == 2);
	CHECK(strstr(report, "PROBLEM  rootfs tries: this boot is not confirmed: slot A has 2 "
			     "tries left"));
	/* firmware whose rollback loops, rootfs A/B not built in, the register out of reach */
	CHECK(board_on_a(&m, MODEL_R35_3_1, 0) == 0);
	m.os.mem_device = "/nonexistent/mem";
	CHECK(doctor(&m, report, sizeof(report)) == 3);
	CHECK(strstr(report, "PROBLEM  firmware: the boot firmware is r35.3.1") &&
	      strstr(report, "PROBLEM  rootfs A/B: RootfsRedundancyLevel is 0") &&
	      strstr(report, "PROBLEM  rootfs tries: /nonexistent/mem"));
}

/* A slot the firmware gave up on comes back only when asked, and never a half-written one;
 * a running slot marked unbootable is set normal by mark_good (it runs, so it boots). */
static void unbootable_slot_recovered_only_when_asked(void)
{
	struct t234_model m;
	CHECK(board_on_a(&m, MODEL_R35_4_1, 1) == 0);
	CHECK(harness_update(&m, PKG_SLOT_B, 2, CONTENT_NEVER_CONFIRMS) == 0);
	while (model_boot(&m) == PKG_SLOT_B)
		;
	CHECK(var_exists(&m, "RootfsStatusSlotB"));
	struct slot_view v[2];
	uint8_t running;
	CHECK(ops->mark_good(&m.os, PKG_SLOT_A) == 0); /* not asked: B stays unbootable */
	CHECK(ops->read(&m.os, v, &running) == 0 && v[1].health == SLOT_BAD);
	m.content[1] = CONTENT_GOOD; /* say the user knows B's system is sound after all */
	m.os.restore_other = 1;
	CHECK(ops->mark_good(&m.os, PKG_SLOT_A) == 0);
	m.os.restore_other = 0;
	/* B has its tries again: A's system breaking now falls back to B, not to recovery */
	m.content[0] = CONTENT_NEVER_CONFIRMS;
	int slot, boots = 0;
	while ((slot = model_boot(&m)) == PKG_SLOT_A && boots < 10)
		boots++;
	CHECK(slot == PKG_SLOT_B);
	/* a half-written slot is refused */
	CHECK(board_on_a(&m, MODEL_R35_4_1, 1) == 0);
	CHECK(ops->check(&m.os, PKG_SLOT_B) == 0 && ops->disarm(&m.os, PKG_SLOT_B) == 0);
	m.os.restore_other = 1;
	CHECK(ops->mark_good(&m.os, PKG_SLOT_A) == -1 && strstr(err_msg(), "half-written"));
	m.os.restore_other = 0;
	/* the running slot marked 0xFF by a stale store: mark_good sets it normal */
	var_put(&m, "RootfsStatusSlotA", BOOTCHAIN_GUID, 0xff, 4);
	CHECK(ops->mark_good(&m.os, PKG_SLOT_A) == 0);
	for (int i = 0; i < 5; i++)
		CHECK(model_boot(&m) == PKG_SLOT_A);
}

int main(void)
{
	harness_setup();
	RUN(confirmed_system_survives_twenty_reboots_on_every_release);
	RUN(unconfirmed_system_falls_back_after_its_tries);
	RUN(r35_3_1_rollback_loop_refused);
	RUN(staged_firmware_and_config_release_decide);
	RUN(release_forms_parsed);
	RUN(first_flash_over_stale_variables);
	RUN(first_flash_writes_no_variable);
	RUN(no_sequence_ends_in_a_reset_loop_or_recovery);
	RUN(doctor_names_each_problem_with_its_fix);
	RUN(unbootable_slot_recovered_only_when_asked);
	harness_teardown();
	return CHECK_EXIT();
}
