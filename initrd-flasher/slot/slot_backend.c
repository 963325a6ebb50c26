/* SPDX-License-Identifier: MIT */
/* The slot backends by name: the one table the board's config chooses from. */
#include "slot_backend.h"

#include <string.h>

#include "error.h"
#include "pkg.h"

static const struct slot_backend_ops *const slot_backends[] = {
	&slot_backend_systemd_boot,
	&slot_backend_tegra,
};

const struct slot_backend_ops *slot_backend_find(const char *name)
{
	if (name == NULL || name[0] == '\0') {
		err_set("no slot backend named: the backends are systemd-boot, tegra");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(slot_backends) / sizeof(slot_backends[0]); i++)
		if (strcmp(slot_backends[i]->name, name) == 0)
			return slot_backends[i];
	/* the name comes from a config file: shown cut, never trusted to be short */
	err_set("slot backend \"%.64s\" is unknown: the backends are systemd-boot, tegra", name);
	return NULL;
}

int slot_index(uint8_t slot, int *index)
{
	if (slot != PKG_SLOT_A && slot != PKG_SLOT_B)
		return err_set("slot %u: expected A (%d) or B (%d)", slot, PKG_SLOT_A, PKG_SLOT_B);
	*index = slot == PKG_SLOT_B;
	return 0;
}

const char *slot_health_name(enum slot_health h)
{
	switch (h) {
	case SLOT_GOOD:
		return "good";
	case SLOT_TRIAL:
		return "on trial";
	case SLOT_BAD:
		return "bad";
	case SLOT_UNBOOTABLE:
		return "unbootable";
	case SLOT_UNKNOWN:
		break;
	}
	return "unknown";
}
