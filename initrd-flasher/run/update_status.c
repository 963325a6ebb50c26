/* SPDX-License-Identifier: MIT */
/* `selfflash mark-good` and `selfflash status`: the slots in words, the last update's outcome. */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "pkg.h"
#include "slot/slot_backend.h"
#include "update.h"
#include "update_plan.h"

#define DEFAULT_TRIES 3

struct slots {
	const struct slot_backend_ops *backend;
	struct slot_env env;
	struct slot_view view[2];
	uint8_t running;
	char root[64];
};

static int read_slots(const struct flash_config *c, struct slots *s)
{
	memset(s, 0, sizeof(*s));
	if (!c->slot_backend)
		return err_set("no slot-backend in the config: systemd-boot or tegra");
	s->backend = slot_backend_find(c->slot_backend);
	if (!s->backend)
		return -1;
	s->env = (struct slot_env){ .esp = c->esp, .efivars = c->efivars,
				    .tries = c->boot_tries ? c->boot_tries : DEFAULT_TRIES,
				    .log = c->log };
	uint8_t firmware = 0;
	if (s->backend->read(&s->env, s->view, &firmware) != 0)
		return -1;
	if (c->root_partition)
		snprintf(s->root, sizeof(s->root), "%s", c->root_partition);
	else if (update_root_partition("", s->root, sizeof(s->root)) != 0)
		return -1;
	s->running = update_slot_of_name(s->root, c->rootfs_name ? c->rootfs_name : "APP");
	if (!s->running)
		return err_set("the root partition %s is no slot's", s->root);
	if (firmware && firmware != s->running)
		return err_set("the root is %s (slot %s), but the firmware booted chain %s",
			       s->root, pkg_slot_name(s->running), pkg_slot_name(firmware));
	return 0;
}

int update_mark_good(const struct flash_config *c)
{
	struct slots s;
	if (read_slots(c, &s) != 0)
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
	struct slots s;
	if (read_slots(c, &s) != 0)
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
	return 0;
}
