/* SPDX-License-Identifier: MIT */
/* `selfflash mark-good` and `selfflash status`: the slots in words, the last update's outcome. */
#include <inttypes.h>
#include <stdio.h>

#include "pkg.h"
#include "slot/slot_backend.h"
#include "slots.h"
#include "update.h"

int update_mark_good(const struct flash_config *c)
{
	struct run_slots s;
	if (run_slots_read(c, &s) != 0)
		return -1;
	return s.backend->mark_good(&s.env, s.running);
}

/* "good, system version 2" / "on trial, 2 of 3 tries left" / "bad after 3 failed boots" ... */
static void describe(const struct slot_view *v, char *out, size_t size)
{
	char tries[64] = "", version[48] = "";
	if (v->health == SLOT_TRIAL && v->tries_left >= 0)
		snprintf(tries, sizeof(tries), ", %d tries left", v->tries_left);
	if (v->health == SLOT_BAD && v->tries_done > 0)
		snprintf(tries, sizeof(tries), " after %d failed boots", v->tries_done);
	if (v->has_version)
		snprintf(version, sizeof(version), ", system version %" PRIu64, v->version);
	snprintf(out, size, "%s%s%s", slot_health_name(v->health), tries, version);
}

int update_status(const struct flash_config *c, FILE *out)
{
	struct run_slots s;
	if (run_slots_read(c, &s) != 0)
		return -1;
	uint8_t other = s.running == PKG_SLOT_A ? PKG_SLOT_B : PKG_SLOT_A;
	const struct slot_view *now = &s.view[s.running - 1], *alt = &s.view[other - 1];
	char a[160], b[160];
	describe(now, a, sizeof(a));
	describe(alt, b, sizeof(b));
	const char *rn = pkg_slot_name(s.running), *on = pkg_slot_name(other);
	fprintf(out, "selfflash: backend %s\n", s.backend->name);
	fprintf(out, "selfflash: running slot %s (%s): %s\n", rn, s.root, a);
	fprintf(out, "selfflash: other slot %s: %s\n", on, b);
	if (s.floor_known)
		fprintf(out, "selfflash: anti-rollback floor: system version %" PRIu64 " (packages "
			     "older than it are refused)\n", s.floor);
	else
		fprintf(out, "selfflash: anti-rollback floor: none recorded yet (`selfflash "
			     "mark-good` records it)%s\n",
			now->has_version ? "" : "; the running system's version is not recorded "
						"either, so updates are refused unless --allow-downgrade");
	/* the last update's outcome, as far as the two slots tell it */
	if (now->health == SLOT_TRIAL)
		fprintf(out, "selfflash: last update: slot %s is on trial; it stays only if "
			     "`selfflash mark-good` runs before its tries run out\n", rn);
	else if (alt->health == SLOT_BAD && alt->tries_done > 0)
		fprintf(out, "selfflash: last update: update to slot %s rolled back after %d "
			     "failed boots; slot %s runs\n", on, alt->tries_done, rn);
	else if (alt->health == SLOT_BAD)
		fprintf(out, "selfflash: last update: update to slot %s rolled back (the firmware "
			     "gave up on it); slot %s runs\n", on, rn);
	else if (alt->health == SLOT_UNBOOTABLE)
		fprintf(out, "selfflash: last update: slot %s is not bootable (an update stopped "
			     "before it finished, or none was made); run the update again\n", on);
	else if (alt->health == SLOT_TRIAL)
		fprintf(out, "selfflash: last update: slot %s is armed and boots next on trial\n",
			on);
	else
		fprintf(out, "selfflash: last update: none pending; slot %s confirmed\n", rn);
	/* the firmware's own state, as its backend tells it (tegra: the boot-chain variables) */
	return s.backend->describe ? s.backend->describe(&s.env, out) : 0;
}
