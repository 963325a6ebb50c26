/* SPDX-License-Identifier: MIT */
/* The slot backend a config chooses, and the slot the board runs (slots.h). */
#include "slots.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "pkg.h"
#include "update_plan.h"

#define DEFAULT_ROOTFS "APP"

const char *run_slots_rootfs_a(const struct flash_config *c)
{
	return c->rootfs_name ? c->rootfs_name : DEFAULT_ROOTFS;
}

int run_slots_backend(const struct flash_config *c, const struct slot_backend_ops **backend,
		      struct slot_env *env)
{
	const char *esrt = c->esrt;
	if (!esrt && c->efivars && strcmp(c->efivars, "/sys/firmware/efi/efivars") == 0)
		esrt = "/sys/firmware/efi/esrt"; /* the kernel's, beside its efivarfs */
	*env = (struct slot_env){ .esp = c->esp, .efivars = c->efivars, .esrt = esrt,
				  .mem_device = c->mem_device, .sysfs = c->sysfs,
				  .firmware_release = c->firmware_release,
				  .restore_other = c->restore_other,
				  .system_version_file = c->system_version_file,
				  .tries = c->boot_tries ? c->boot_tries : RUN_SLOTS_DEFAULT_TRIES,
				  .log = c->log };
	*backend = NULL;
	if (c->slot_backend)
		*backend = slot_backend_find(c->slot_backend);
	else if (c->efivars)
		*backend = &slot_backend_tegra;
	return c->slot_backend && !*backend ? -1 : 0;
}

int run_slots_read(const struct flash_config *c, struct run_slots *s)
{
	memset(s, 0, sizeof(*s));
	if (!c->slot_backend)
		return err_set("no slot-backend in the config: systemd-boot or tegra");
	if (run_slots_backend(c, &s->backend, &s->env) != 0)
		return -1;
	uint8_t firmware = 0;
	if (s->backend->read(&s->env, s->view, &firmware) != 0 ||
	    s->backend->read_floor(&s->env, &s->floor_known, &s->floor) != 0)
		return -1;
	if (c->root_partition)
		snprintf(s->root, sizeof(s->root), "%s", c->root_partition);
	else if (update_root_partition("", s->root, sizeof(s->root)) != 0)
		return -1;
	const char *rootfs_a = run_slots_rootfs_a(c);
	s->running = update_slot_of_name(s->root, rootfs_a);
	if (!s->running)
		return err_set("the root partition %s is no slot's (expected %s, %s_b, A_x or B_x; "
			       "set rootfs in the config to slot A's rootfs name)",
			       s->root, rootfs_a, rootfs_a);
	if (firmware && firmware != s->running)
		return err_set("the root is %s (slot %s), but the firmware booted chain %s: the "
			       "board runs a mix; not updating until they agree",
			       s->root, pkg_slot_name(s->running), pkg_slot_name(firmware));
	return 0;
}
