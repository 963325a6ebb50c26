/* SPDX-License-Identifier: MIT */
/* The T234 boot-chain variables read from efivarfs, checked and told in words (tegra_vars.h). */
#include "tegra_vars.h"

#include <string.h>

#include "bootslot.h"
#include "error.h"
#include "le.h"

/* Reads variable name: 4 bytes of attributes, then value_len bytes (2 or 4). 0 or -1. */
static int read_var(const char *dir, const char *name, const char *guid, size_t value_len,
		    int *present, uint32_t *value)
{
	uint8_t buf[BOOTSLOT_VAR_MAX];
	size_t len;
	if (bootslot_var_read(dir, name, guid, buf, sizeof(buf), &len, present) != 0)
		return -1;
	if (!*present)
		return 0;
	if (len != value_len)
		return err_set("EFI variable %s is %zu bytes, expected %zu (attributes and a %zu-byte "
			       "value)", name, 4 + len, 4 + value_len, value_len);
	*value = value_len == 2 ? le16_load(buf) : le32_load(buf);
	return 0;
}

static int read_u32(const char *dir, const char *name, struct tegra_var *v)
{
	return read_var(dir, name, BOOTCHAIN_GUID, 4, &v->present, &v->value);
}

int tegra_vars_read(const char *dir, struct tegra_state *s)
{
	memset(s, 0, sizeof(*s));
	uint32_t boot_next = 0;
	if (read_u32(dir, "BootChainFwCurrent", &s->current) != 0 ||
	    read_u32(dir, "BootChainFwNext", &s->next) != 0 ||
	    read_u32(dir, "BootChainFwStatus", &s->status) != 0 ||
	    read_u32(dir, "RootfsStatusSlotA", &s->rootfs[0]) != 0 ||
	    read_u32(dir, "RootfsStatusSlotB", &s->rootfs[1]) != 0 ||
	    read_u32(dir, "RootfsRedundancyLevel", &s->redundancy) != 0 ||
	    read_u32(dir, "RootfsRetryCountMax", &s->retry_max) != 0 ||
	    read_var(dir, "BootNext", EFI_GLOBAL_GUID, 2, &s->boot_next_present, &boot_next) != 0)
		return -1;
	s->boot_next = (uint16_t)boot_next;
	return 0;
}

const char *tegra_vars_status_text(uint32_t code)
{
	/* STATUS_* of edk2-nvidia Silicon/NVIDIA/Drivers/BootChainDxe/BootChainDxePrivate.h */
	static const char *const text[] = {
		"success",
		"switch in progress",
		"no operation required (the chain asked for was already running)",
		"cancelled: a firmware capsule update was pending",
		"error reading the status",
		"gave up after 3 resets: the new chain never reached UEFI, back on the old one",
		"error setting the reset count",
		"error setting in-progress",
		"the switch in progress failed",
		"bad BootChainFwNext value",
		"error reading BootChainFwNext",
		"error updating the firmware chain",
		"boot chain failed",
		"error reading the reset count",
		"refused: UEFI BootNext exists",
		"error reading the scratch register",
		"error setting the scratch register",
		"refused: a BR-BCT update is pending",
		"error setting the previous chain",
	};
	return code < sizeof(text) / sizeof(text[0]) ? text[code] : "unknown code";
}

const char *tegra_vars_chain_name(uint32_t v)
{
	return v == 0 ? "A" : v == 1 ? "B" : "?";
}

void tegra_vars_describe(const struct tegra_state *s, const char *prefix, FILE *out)
{
	if (s->current.present)
		fprintf(out, "%sboot chain: running chain %s (BootChainFwCurrent %u)\n", prefix,
			tegra_vars_chain_name(s->current.value), s->current.value);
	else
		fprintf(out, "%sboot chain: running chain not recorded (no BootChainFwCurrent)\n",
			prefix);
	if (s->next.present)
		fprintf(out, "%sboot chain: switch to chain %s pending (BootChainFwNext %u)\n", prefix,
			tegra_vars_chain_name(s->next.value), s->next.value);
	else
		fprintf(out, "%sboot chain: no switch pending\n", prefix);
	if (s->status.present)
		fprintf(out, "%sboot chain: last switch: %s (BootChainFwStatus %u)%s\n", prefix,
			tegra_vars_status_text(s->status.value), s->status.value,
			s->status.value == 1 ? "" : "; while it exists a capsule update is refused");
	else
		fprintf(out, "%sboot chain: no switch result recorded\n", prefix);
	for (int i = 0; i < 2; i++) {
		const struct tegra_var *r = &s->rootfs[i];
		if (!r->present)
			continue;
		fprintf(out, "%srootfs slot %c: %s (RootfsStatusSlot%c 0x%x)\n", prefix, 'A' + i,
			r->value == 0 ? "normal" : r->value == 0xff ? "unbootable" : "unknown state",
			'A' + i, r->value);
	}
	if (s->redundancy.present)
		fprintf(out, "%srootfs A/B: %s (RootfsRedundancyLevel %u)\n", prefix,
			s->redundancy.value == 1 ? "follows the boot chain" : "boot chain only",
			s->redundancy.value);
	if (s->retry_max.present)
		fprintf(out, "%srootfs A/B: at most %u tries per slot (RootfsRetryCountMax)\n", prefix,
			s->retry_max.value);
	if (s->boot_next_present)
		fprintf(out, "%sUEFI BootNext: Boot%04X, a boot-chain switch is refused while it "
			     "exists\n",
			prefix, s->boot_next);
}

int tegra_vars_write_u32(const char *dir, const char *name, uint32_t value)
{
	uint8_t v[4];
	le32_store(v, value);
	return bootslot_var_write(dir, name, BOOTCHAIN_GUID, BOOTSLOT_ATTR_NV_BS_RT, v, sizeof(v));
}

int tegra_vars_running_chain(const char *dir, const struct tegra_state *s, int *running)
{
	if (!s->current.present)
		return err_set("EFI variable BootChainFwCurrent is missing: not a T234 running "
			       "NVIDIA's UEFI firmware, or efivarfs is not mounted at %s", dir);
	if (s->current.value > 1)
		return err_set("BootChainFwCurrent is %u, expected 0 (chain A) or 1 (chain B)",
			       s->current.value);
	*running = (int)s->current.value;
	return 0;
}

/* BootNext is the OS's or the user's one-time boot choice, not ours to delete */
int tegra_vars_refuse_boot_next(const struct tegra_state *s)
{
	if (s->boot_next_present)
		return err_set("UEFI BootNext is set (Boot%04X): the firmware refuses a boot-chain "
			       "switch while it exists (status 14); delete it (efibootmgr "
			       "--delete-bootnext) and flash again",
			       s->boot_next);
	return 0;
}
