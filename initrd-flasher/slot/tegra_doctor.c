/* SPDX-License-Identifier: MIT */
/*
 * The tegra backend's `status` and `doctor`: the firmware's own state in words, and every fact
 * that makes an update on a T234 fail without a word (stale variables, a slot stuck
 * unbootable, a boot never confirmed, rootfs A/B not built in, a release whose rollback loops),
 * each with its fix. Reads only.
 */
#include <string.h>

#include "error.h"
#include "tegra_backend.h"
#include "tegra_capsule.h"
#include "tegra_record.h"
#include "tegra_release.h"
#include "tegra_scratch.h"

/* The tries register in words, one line. */
static void describe_register(const struct slot_env *e, FILE *out)
{
	uint32_t raw;
	if (tegra_scratch_read(e->mem_device, TEGRA_SR_RF_ADDRESS, &raw) != 0) {
		fprintf(out, "rootfs tries: not readable (%s)\n", err_msg());
		return;
	}
	struct tegra_sr_rf sr;
	tegra_sr_rf_decode(raw, &sr);
	if (!sr.magic_ok)
		fprintf(out, "rootfs tries: register clear (0x%08x): every bootable slot gets "
			     "RootfsRetryCountMax tries at the next boot\n", raw);
	else
		fprintf(out, "rootfs tries: slot %c booted; tries left: slot A %d, slot B %d "
			     "(register 0x%08x; this boot is not confirmed yet)\n",
			'A' + sr.slot, sr.tries[0], sr.tries[1], raw);
}

int tegra_describe(const struct slot_env *e, FILE *out)
{
	struct tegra_state s;
	if (tegra_vars_read(e->efivars, &s) != 0)
		return -1;
	tegra_vars_describe(&s, "", out);
	struct tegra_release r;
	if (tegra_release_read(e->sysfs, e->esrt, e->firmware_release, &r) == 0) {
		char name[32];
		fprintf(out, "boot firmware: %s%s%s\n", tegra_release_name(&r, name, sizeof(name)),
			r.known ? " from " : "", r.known ? r.source : "");
	}
	/* only where NVIDIA's firmware runs: elsewhere that physical address is not the register */
	if (s.current.present)
		describe_register(e, out);
	return tegra_capsule_describe(e, out);
}

#define OK TEGRA_DOCTOR_OK
#define NOTE TEGRA_DOCTOR_NOTE
#define PROBLEM TEGRA_DOCTOR_PROBLEM
#define say tegra_doctor_say

void tegra_doctor_say(FILE *out, int *problems, enum tegra_verdict v, const char *what,
		      const char *text)
{
	static const char *const word[] = {"ok", "note", "PROBLEM"};
	fprintf(out, "%-8s %s: %s\n", word[v], what, text);
	if (v == TEGRA_DOCTOR_PROBLEM)
		(*problems)++;
}

static void check_register(const struct slot_env *e, FILE *out, int *problems, int running)
{
	char text[400];
	uint32_t raw;
	if (tegra_scratch_read(e->mem_device, TEGRA_SR_RF_ADDRESS, &raw) != 0) {
		snprintf(text, sizeof(text), "%s; mark-good cannot restore the tries: run as "
					     "root, on a kernel that allows /dev/mem to this "
					     "register (no lockdown)", err_msg());
		say(out, problems, PROBLEM, "rootfs tries", text);
		return;
	}
	struct tegra_sr_rf sr;
	tegra_sr_rf_decode(raw, &sr);
	if (!sr.magic_ok) {
		say(out, problems, OK, "rootfs tries", "restored (register clear): every bootable "
						       "slot gets its tries at the next boot");
		return;
	}
	snprintf(text, sizeof(text), "this boot is not confirmed: slot %c has %d tries left "
				     "(slot A %d, B %d), then the board falls back; fix: run "
				     "`selfflash mark-good` on every healthy boot",
		 'A' + running, sr.tries[running], sr.tries[0], sr.tries[1]);
	say(out, problems, PROBLEM, "rootfs tries", text);
}

static void check_slots(const struct slot_env *e, const struct tegra_state *s, FILE *out,
			int *problems, int running)
{
	char text[400];
	for (int i = 0; i < 2; i++) {
		struct slot_record rec;
		const int bad = s->rootfs[i].present &&
				s->rootfs[i].value == TEGRA_ROOTFS_UNBOOTABLE;
		const char *what = i == 0 ? "slot A" : "slot B";
		if (!bad) {
			say(out, problems, OK, what, i == running ? "runs, bootable" : "bootable");
			continue;
		}
		if (tegra_record_read(e->efivars, i, &rec) == 0 && rec.state == RECORD_WRITING)
			snprintf(text, sizeof(text), "unbootable: an update was writing it and "
						     "stopped; fix: run the update again");
		else if (i == running)
			snprintf(text, sizeof(text), "runs but is marked unbootable (%s 0xff); fix: "
						     "`selfflash mark-good`", tegra_rootfs_var[i]);
		else
			snprintf(text, sizeof(text), "unbootable (%s 0xff): no fallback if the "
						     "running slot fails; fix: `selfflash update` "
						     "rewrites it, or `selfflash mark-good "
						     "--restore-other` if its system is sound",
				 tegra_rootfs_var[i]);
		say(out, problems, PROBLEM, what, text);
	}
}

static void check_chain(const struct tegra_state *s, FILE *out, int *problems, int running)
{
	char text[400];
	if (s->status.present && s->status.value != TEGRA_BOOTCHAIN_IN_PROGRESS) {
		snprintf(text, sizeof(text), "BootChainFwStatus %u (%s) left over: while it "
					     "exists a capsule update is cancelled (status 3) and, "
					     "on r35.3.x, a rollback is swallowed; fix: `selfflash "
					     "mark-good` removes it",
			 s->status.value, tegra_vars_status_text(s->status.value));
		say(out, problems, PROBLEM, "boot chain", text);
	} else if (s->status.present) {
		say(out, problems, NOTE, "boot chain", "a switch is in progress (BootChainFwStatus 1)");
	}
	if (s->next.present && s->next.value != (uint32_t)running) {
		snprintf(text, sizeof(text), "a switch to chain %s is pending (BootChainFwNext): the "
					     "next boot tries it",
			 tegra_vars_chain_name(s->next.value));
		say(out, problems, NOTE, "boot chain", text);
	}
	if (s->boot_next_present) {
		snprintf(text, sizeof(text), "UEFI BootNext is Boot%04X: the firmware refuses every "
					     "boot-chain switch while it exists (status 14); fix: "
					     "efibootmgr --delete-bootnext", s->boot_next);
		say(out, problems, PROBLEM, "BootNext", text);
	}
	if (!s->status.present && !(s->next.present && s->next.value != (uint32_t)running) &&
	    !s->boot_next_present)
		say(out, problems, OK, "boot chain", "no stale switch state, no BootNext");
}

int tegra_doctor(const struct slot_env *e, FILE *out, int *problems)
{
	struct tegra_state s;
	int running;
	char text[700];
	if (tegra_read_state(e->efivars, &s, &running) != 0)
		return -1;
	struct tegra_release r;
	if (tegra_release_read(e->sysfs, e->esrt, e->firmware_release, &r) != 0)
		return -1;
	if (tegra_release_problem(e, &r, text, sizeof(text))) {
		say(out, problems, PROBLEM, "firmware", text);
	} else {
		char name[32];
		snprintf(text, sizeof(text), "%s from %s: a failed slot is rolled back and the "
					     "rollback ends", tegra_release_name(&r, name, sizeof(name)),
			 r.source);
		say(out, problems, OK, "firmware", text);
	}
	if (tegra_redundancy_problem(&s, text, sizeof(text)))
		say(out, problems, PROBLEM, "rootfs A/B", text);
	else
		say(out, problems, OK, "rootfs A/B", "RootfsRedundancyLevel 1: the rootfs slot "
						      "follows the boot chain");
	if (s.retry_max.present) {
		snprintf(text, sizeof(text), "RootfsRetryCountMax %u: a slot on trial gets %u boots",
			 s.retry_max.value, s.retry_max.value);
		say(out, problems, s.retry_max.value >= 1 && s.retry_max.value <= 3 ? OK : PROBLEM,
		    "tries", text);
	}
	check_register(e, out, problems, running);
	check_slots(e, &s, out, problems, running);
	check_chain(&s, out, problems, running);
	tegra_capsule_doctor(e, out, problems);
	return 0;
}
