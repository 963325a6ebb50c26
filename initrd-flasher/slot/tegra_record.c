/* SPDX-License-Identifier: MIT */
/* selfflash's own record of each T234 slot in an EFI variable (tegra_record.h). */
#include "tegra_record.h"

#include <string.h>

#include "bootslot.h"
#include "error.h"
#include "le.h"

/* selfflash's vendor GUID for its own variables (random, fixed once) */
#define SLOT_RECORD_GUID "2a812345-13c3-4ab0-98cd-49fab6d8302e"
#define SLOT_RECORD_LEN 16
#define SLOT_RECORD_HAS_VERSION 0x1u

const char *const tegra_rootfs_var[2] = {"RootfsStatusSlotA", "RootfsStatusSlotB"};
const char *const tegra_record_var[2] = {"SelfflashSlotA", "SelfflashSlotB"};
const char *const tegra_floor_var = "SelfflashFloor";

int tegra_record_read(const char *dir, int i, struct slot_record *r)
{
	uint8_t v[SLOT_RECORD_LEN];
	size_t len;
	int present;
	memset(r, 0, sizeof(*r));
	if (bootslot_var_read(dir, tegra_record_var[i], SLOT_RECORD_GUID, v, sizeof(v), &len,
			      &present))
		return -1;
	if (!present)
		return 0;
	if (len != SLOT_RECORD_LEN)
		return err_set("EFI variable %s has a %zu-byte value, expected %d",
			       tegra_record_var[i], len, SLOT_RECORD_LEN);
	uint32_t state = le32_load(v);
	if (state < RECORD_WRITING || state > RECORD_ROLLED_BACK)
		return err_set("EFI variable %s: state %u is unknown (1..4)", tegra_record_var[i],
			       state);
	r->state = (enum record_state)state;
	r->has_version = (le32_load(v + 4) & SLOT_RECORD_HAS_VERSION) != 0;
	r->version = le64_load(v + 8);
	return 0;
}

int tegra_record_write(const char *dir, int i, const struct slot_record *r)
{
	uint8_t v[SLOT_RECORD_LEN];
	le32_store(v, (uint32_t)r->state);
	le32_store(v + 4, r->has_version ? SLOT_RECORD_HAS_VERSION : 0);
	le64_store(v + 8, r->has_version ? r->version : 0);
	return bootslot_var_write(dir, tegra_record_var[i], SLOT_RECORD_GUID,
				  BOOTSLOT_ATTR_NV_BS_RT, v, sizeof(v));
}

int tegra_floor_read(const char *dir, int *known, uint64_t *floor)
{
	uint8_t v[8];
	size_t len;
	if (bootslot_var_read(dir, tegra_floor_var, SLOT_RECORD_GUID, v, sizeof(v), &len, known))
		return -1;
	if (!*known)
		return 0;
	if (len != sizeof(v))
		return err_set("EFI variable %s has a %zu-byte value, expected 8", tegra_floor_var,
			       len);
	*floor = le64_load(v);
	return 0;
}

int tegra_floor_raise(const char *dir, uint64_t version, int *raised)
{
	int known;
	uint64_t floor = 0;
	*raised = 0;
	if (tegra_floor_read(dir, &known, &floor) != 0)
		return -1;
	if (known && floor >= version)
		return 0;
	uint8_t v[8];
	le64_store(v, version);
	if (bootslot_var_write(dir, tegra_floor_var, SLOT_RECORD_GUID, BOOTSLOT_ATTR_NV_BS_RT, v,
			       sizeof(v)) != 0)
		return -1;
	*raised = 1;
	return 0;
}
