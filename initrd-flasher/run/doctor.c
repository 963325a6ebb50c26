/* SPDX-License-Identifier: MIT */
/*
 * `selfflash doctor`: before an update, or on its own, everything that would make an update
 * fail without a word, checked and told with its fix: the settings, the running slot, the
 * clock https needs, then the slot backend's own facts (tegra: the firmware's release and
 * rollback, rootfs A/B, the tries register, stale variables, slots stuck unbootable). Reads
 * only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "pkg.h"
#include "slots.h"
#include "update.h"

/*
 * A clock before this cannot be right (this code is younger): BearSSL checks a certificate's
 * validity against the system time, so a board whose clock restarted at 1970 (a devkit
 * without an RTC battery, before NTP) sees every certificate as not yet valid.
 */
#define CLOCK_FLOOR_EPOCH 1767225600 /* 2026-01-01T00:00:00Z */

static void line(FILE *out, int *problems, int ok, const char *what, const char *text)
{
	fprintf(out, "%-8s %s: %s\n", ok ? "ok" : "PROBLEM", what, text);
	if (!ok)
		(*problems)++;
}

static void check_clock(FILE *out, int *problems, time_t now)
{
	char text[200], when[32];
	struct tm tm;
	if (!gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)now);
	if (now >= CLOCK_FLOOR_EPOCH) {
		snprintf(text, sizeof(text), "%s", when);
		line(out, problems, 1, "clock", text);
		return;
	}
	snprintf(text, sizeof(text), "%s is before this software was written: https sees every "
				     "certificate as not yet valid; fix: set the time (NTP, "
				     "timedatectl set-ntp true, or an RTC battery)", when);
	line(out, problems, 0, "clock", text);
}

static void check_settings(const struct flash_config *c, FILE *out, int *problems)
{
	char text[300];
	if (c->pubkey && access(c->pubkey, R_OK) == 0) {
		snprintf(text, sizeof(text), "packages must be signed by %s", c->pubkey);
		line(out, problems, 1, "signature", text);
	} else if (c->pubkey) {
		snprintf(text, sizeof(text), "pubkey %s is not readable: every update is refused; "
					     "fix: install the key the packages are signed with",
			 c->pubkey);
		line(out, problems, 0, "signature", text);
	} else if (!c->allow_unsigned) {
		line(out, problems, 0, "signature", "no pubkey in the config: every update is "
						    "refused; fix: a pubkey line");
	} else {
		line(out, problems, 0, "signature", "allow-unsigned yes: any package is installed; "
						    "fix: a pubkey line (development only)");
	}
	if (c->ca && access(c->ca, R_OK) != 0) {
		snprintf(text, sizeof(text), "ca %s is not readable: https updates fail; fix: "
					     "install the trust anchors", c->ca);
		line(out, problems, 0, "https", text);
	}
}

int update_doctor(const struct flash_config *c, FILE *out, time_t now, int *problems)
{
	*problems = 0;
	check_settings(c, out, problems);
	check_clock(out, problems, now);
	struct run_slots s;
	if (run_slots_read(c, &s) != 0) {
		char text[600];
		snprintf(text, sizeof(text), "%s", err_msg());
		line(out, problems, 0, "slots", text);
		/* the backend's own facts are told still: they often say why */
		if (run_slots_backend(c, &s.backend, &s.env) != 0 || !s.backend)
			return 0;
	} else {
		char text[200];
		snprintf(text, sizeof(text), "backend %s, running slot %s (%s)", s.backend->name,
			 pkg_slot_name(s.running), s.root);
		line(out, problems, 1, "slots", text);
	}
	if (s.backend->doctor && s.backend->doctor(&s.env, out, problems) != 0) {
		char text[600];
		snprintf(text, sizeof(text), "%s", err_msg());
		line(out, problems, 0, s.backend->name, text);
	}
	return 0;
}
