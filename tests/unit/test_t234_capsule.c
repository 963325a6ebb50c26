/* SPDX-License-Identifier: MIT */
/*
 * An update that carries the boot firmware as a capsule, lived through on the T234 model: the
 * backend stages it (install) and requests it (arm); the model's BDS applies it and switches
 * the chain (t234_model_capsule.c), its launcher then boots the new rootfs on trial. The slot
 * and the chain move together or not at all; on r35.3.1 an update carrying r35.4.1 firmware
 * is allowed, because that firmware's launcher is the one that rolls back, and it ends; a
 * power cut after every write of the update never leaves a board that resets for ever.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capsule_fixture.h"
#include "check.h"
#include "error.h"
#include "le.h"
#include "pkg.h"
#include "slot/bootslot.h"
#include "t234_harness.h"
#include "t234_model_capsule.h"

static uint8_t capsule[8192];
static size_t capsule_len;
static char esp[300];
static struct model_capsule bds;

/* A board of release with an ESP the model's BDS reads, running slot A. */
static int board(struct t234_model *m, enum model_release release)
{
	if (board_on_a(m, release, 1) != 0)
		return -1;
	snprintf(esp, sizeof(esp), "%s/esp", harness_root);
	char dir[400];
	mkdir(esp, 0755);
	snprintf(dir, sizeof(dir), "%s/EFI", esp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/EFI/UpdateCapsule", esp);
	mkdir(dir, 0755);
	memset(&bds, 0, sizeof(bds));
	bds.esp = esp;
	m->capsule = &bds;
	m->os.esp = esp;
	return 0;
}

/* A capsule of NVIDIA's shape carrying firmware of release `version` (0x230401 = 35.4.1). */
static void make_capsule(uint32_t version)
{
	static const char *const names[] = {"mb1", "cpu-bootloader"};
	static const char *const specs[] = {"", ""};
	capsule_len = capsule_fixture(capsule, sizeof(capsule), names, specs, 2);
	le32_store(capsule + FIXTURE_AUTH + FIXTURE_AUTH_SIZE + 8, version); /* MSS1 FwVersion */
}

/* update.c's order with a capsule: check (knowing the capsule's release), disarm, the
 * writes, install (staging), arm. */
static int update_with_capsule(struct t234_model *m, enum model_content written,
			       enum model_release firmware, uint32_t version)
{
	make_capsule(version);
	m->capsule_release = firmware;
	m->os.staged_firmware_version = version;
	const struct slot_boot b = {.version = 5, .cmdline = "", .capsule = capsule,
				    .capsule_len = capsule_len};
	int r = ops->check(&m->os, PKG_SLOT_B) != 0 || ops->disarm(&m->os, PKG_SLOT_B) != 0;
	m->os.staged_firmware_version = 0;
	if (r)
		return -1;
	writes_before_arm = writes_done;
	m->content[1] = written;
	return ops->install(&m->os, PKG_SLOT_B, &b) != 0 || ops->arm(&m->os, PKG_SLOT_B, &b) != 0
		       ? -1
		       : 0;
}

static void capsule_switches_chain_and_rootfs_together(void)
{
	struct t234_model m;
	CHECK(board(&m, MODEL_R36_4_3) == 0);
	CHECK(update_with_capsule(&m, CONTENT_GOOD, MODEL_R36_4_3, 0x240403) == 0);
	CHECK(!var_exists(&m, "BootChainFwNext")); /* the capsule switches, not a request */
	CHECK(model_boot(&m) == PKG_SLOT_B);
	CHECK(bds.applied == 1 && bds.las_present && bds.las == 0);
	CHECK(m.br_bct_chain == 1 && !m.confirm_failed);
	for (int i = 0; i < 20; i++)
		CHECK(model_boot(&m) == PKG_SLOT_B);
	/* cancelled (a BootChainFwStatus the firmware finds): neither chain nor rootfs moves */
	CHECK(board(&m, MODEL_R36_4_3) == 0);
	CHECK(update_with_capsule(&m, CONTENT_GOOD, MODEL_R36_4_3, 0x240403) == 0);
	var_put(&m, "BootChainFwStatus", BOOTCHAIN_GUID, 2, 4);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(bds.las_present && bds.las == 6163 && m.br_bct_chain == 0);
	struct slot_view v[2];
	uint8_t running;
	CHECK(ops->read(&m.os, v, &running) == 0 && running == PKG_SLOT_A &&
	      v[1].health != SLOT_TRIAL && v[1].health != SLOT_GOOD);
	for (int i = 0; i < 20; i++)
		CHECK(model_boot(&m) == PKG_SLOT_A);
}

/* r35.3.1 refuses a plain update (its own launcher would loop); carrying r35.4.1 firmware it
 * goes ahead, and the new firmware's launcher ends the rollback of a system that never
 * confirms on the old chain, which keeps running r35.3.1. */
static void r35_3_1_board_updated_with_r35_4_1_firmware(void)
{
	struct t234_model m;
	CHECK(board(&m, MODEL_R35_3_1) == 0);
	CHECK(update_with_capsule(&m, CONTENT_NEVER_CONFIRMS, MODEL_R35_3_1, 0x230301) == -1);
	CHECK(strstr(err_msg(), "r35.4.1 or later"));
	CHECK(board(&m, MODEL_R35_3_1) == 0);
	CHECK(update_with_capsule(&m, CONTENT_NEVER_CONFIRMS, MODEL_R35_4_1, 0x230401) == 0);
	int slot, boots = 0;
	while ((slot = model_boot(&m)) == PKG_SLOT_B && boots < 10)
		boots++;
	CHECK(boots == 3 && slot == PKG_SLOT_A);
	CHECK(m.chain_release[1] == MODEL_R35_4_1 && m.chain_release[0] == MODEL_R35_3_1);
	for (int i = 0; i < 20; i++)
		CHECK(model_boot(&m) == PKG_SLOT_A);
	/* and a good one stays */
	CHECK(board(&m, MODEL_R35_3_1) == 0);
	CHECK(update_with_capsule(&m, CONTENT_GOOD, MODEL_R35_4_1, 0x230401) == 0);
	for (int i = 0; i < 20; i++)
		CHECK(model_boot(&m) == PKG_SLOT_B);
}

/* The power cut after every write of an update with a capsule (variables, the tries
 * register): the board comes up on a complete slot, on the chain its rootfs goes with, and a
 * second update then works. */
static void power_cut_after_every_capsule_update_write(void)
{
	int cuts = 0;
	for (int k = 0; k < 40; k++) {
		struct t234_model m;
		CHECK(board(&m, MODEL_R35_4_1) == 0);
		power_cut_arm(k);
		writes_before_arm = -1;
		const int r = update_with_capsule(&m, CONTENT_GOOD, MODEL_R35_4_1, 0x230401);
		const int completed = r == 0 && !power_lost;
		if (!completed && writes_before_arm >= 0 && writes_done == writes_before_arm)
			m.content[1] = CONTENT_HALF_WRITTEN;
		power_cut_arm(-1);
		model_power_off(&m);
		const int slot = model_boot(&m);
		CHECK(slot == (completed ? PKG_SLOT_B : PKG_SLOT_A));
		CHECK(m.content[slot == PKG_SLOT_B ? 1 : 0] == CONTENT_GOOD);
		CHECK(m.br_bct_chain == (uint32_t)(slot == PKG_SLOT_B));
		if (completed)
			break;
		cuts++;
		CHECK(update_with_capsule(&m, CONTENT_GOOD, MODEL_R35_4_1, 0x230401) == 0);
		CHECK(model_boot(&m) == PKG_SLOT_B);
	}
	CHECK(cuts >= 8);
}

/* doctor's report on the model's board; the number of problems */
static int doctor(struct t234_model *m, char **text)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);
	int problems = 0;
	if (!out || ops->doctor(&m->os, out, &problems) != 0)
		problems = -1;
	if (out)
		fclose(out);
	return problems;
}

/* doctor on capsules: one requested is a note; one left without the request (an update cut
 * before its last write) is a problem with its fix; a cancelled one is told in words */
static void doctor_tells_capsules(void)
{
	struct t234_model m;
	char *text = NULL;
	char esrt[400];
	CHECK(board(&m, MODEL_R36_4_3) == 0);
	snprintf(esrt, sizeof(esrt), "%s/esrt", harness_root);
	bds.esrt = esrt;
	m.os.esrt = esrt;
	CHECK(update_with_capsule(&m, CONTENT_GOOD, MODEL_R36_4_3, 0x240403) == 0);
	CHECK(doctor(&m, &text) == 0);
	CHECK(text && strstr(text, "note     capsule: ") && strstr(text, "is requested"));
	free(text);
	/* the request taken back: as if the power went before arm's last write */
	char path[600];
	snprintf(path, sizeof(path), "%s/OsIndications-%s", m.dir, EFI_GLOBAL_GUID);
	unlink(path);
	CHECK(doctor(&m, &text) == 1);
	CHECK(text && strstr(text, "waits without OsIndications bit 0x4") &&
	      strstr(text, "run the update again"));
	free(text);
	/* requested again, then cancelled by a stale status at boot */
	CHECK(board(&m, MODEL_R36_4_3) == 0);
	bds.esrt = esrt;
	m.os.esrt = esrt;
	CHECK(update_with_capsule(&m, CONTENT_GOOD, MODEL_R36_4_3, 0x240403) == 0);
	var_put(&m, "BootChainFwStatus", BOOTCHAIN_GUID, 2, 4);
	CHECK(model_boot(&m) == PKG_SLOT_A);
	CHECK(doctor(&m, &text) == 1);
	CHECK(text && strstr(text, "PROBLEM  capsule: the last capsule failed (ESRT 6163"));
	free(text);
}

int main(void)
{
	harness_setup();
	RUN(capsule_switches_chain_and_rootfs_together);
	RUN(r35_3_1_board_updated_with_r35_4_1_firmware);
	RUN(power_cut_after_every_capsule_update_write);
	RUN(doctor_tells_capsules);
	harness_teardown();
	return CHECK_EXIT();
}
