/* SPDX-License-Identifier: MIT */
/* A model of the T234 firmware's boot-chain and rootfs A/B logic (see t234_model.h). */
#include "t234_model.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "slot/bootslot.h"
#include "le.h"
#include "pkg.h"

/* L4TRootfsValidation.h: SR_RF bits 0..15 magic, 16..17 current slot, 18..19 tries of slot
 * B, 20..21 tries of slot A */
#define SR_RF_MAGIC 0xFACEu
#define SR_RF_SLOT_SHIFT 16
#define SR_RF_TRIES_B_SHIFT 18
#define SR_RF_TRIES_A_SHIFT 20

/* BootChainDxePrivate.h */
#define BOOT_CHAIN_MAX_RESET_COUNT 3
#define ST_SUCCESS 0u
#define ST_IN_PROGRESS 1u
#define ST_NO_OPERATION_REQUIRED 2u
#define ST_MAX_RESET_COUNT 5u
#define ST_BAD_BOOT_CHAIN_NEXT 9u
#define ST_BOOT_CHAIN_FAILED 12u
#define ST_BOOT_NEXT_EXISTS 14u

#define UNBOOTABLE 0xffu

static int tries_shift(int i)
{
	return i == 0 ? SR_RF_TRIES_A_SHIFT : SR_RF_TRIES_B_SHIFT;
}

static uint32_t sr_tries(uint32_t sr, int i)
{
	return (sr >> tries_shift(i)) & 3u;
}

static uint32_t sr_set_tries(uint32_t sr, int i, uint32_t tries)
{
	return (sr & ~(3u << tries_shift(i))) | ((tries & 3u) << tries_shift(i));
}

/* The model is the firmware: it writes the files itself, not through the OS's primitives. */
static void var_file(const struct t234_model *m, const char *name, const char *guid, char *path,
		     size_t size)
{
	snprintf(path, size, "%s/%s-%s", m->dir, name, guid);
}

static int var_get(const struct t234_model *m, const char *name, uint32_t *value)
{
	char path[512];
	var_file(m, name, BOOTCHAIN_GUID, path, sizeof(path));
	uint8_t buf[8];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != 8)
		return 0;
	*value = le32_load(buf + 4);
	return 1;
}

static void var_set(const struct t234_model *m, const char *name, uint32_t attributes,
		    uint32_t value)
{
	char path[512];
	var_file(m, name, BOOTCHAIN_GUID, path, sizeof(path));
	uint8_t buf[8];
	le32_store(buf, attributes);
	le32_store(buf + 4, value);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		fprintf(stderr, "model: writing %s: %s\n", path, strerror(errno));
	close(fd);
}

static void var_del(const struct t234_model *m, const char *name)
{
	char path[512];
	var_file(m, name, BOOTCHAIN_GUID, path, sizeof(path));
	(void)unlink(path);
}

static int boot_next_exists(const struct t234_model *m)
{
	char path[512];
	var_file(m, "BootNext", EFI_GLOBAL_GUID, path, sizeof(path));
	return access(path, F_OK) == 0;
}

int model_init(struct t234_model *m, const char *dir, uint32_t redundancy, uint32_t retry_max,
	       FILE *log)
{
	memset(m, 0, sizeof(*m));
	if (strlen(dir) >= sizeof(m->dir) || retry_max < 1 || retry_max > 3)
		return -1;
	strcpy(m->dir, dir);
	m->content[0] = m->content[1] = CONTENT_GOOD;
	var_set(m, "RootfsStatusSlotA", BOOTSLOT_ATTR_NV_BS_RT, 0);
	var_set(m, "RootfsStatusSlotB", BOOTSLOT_ATTR_NV_BS_RT, 0);
	var_set(m, "RootfsRedundancyLevel", BOOTSLOT_ATTR_NV_BS_RT, redundancy);
	var_set(m, "RootfsRetryCountMax", BOOTSLOT_ATTR_NV_BS_RT, retry_max);
	m->os.efivars = m->dir;
	m->os.tries = (int)retry_max;
	m->os.log = log;
	model_power_off(m);
	return 0;
}

void model_power_off(struct t234_model *m)
{
	m->sr_rf = 0;
	var_del(m, "BootChainFwCurrent"); /* BS|RT, not NV: gone with the power */
}

int model_tries_left(const struct t234_model *m, int i)
{
	return (m->sr_rf & 0xffffu) == SR_RF_MAGIC ? (int)sr_tries(m->sr_rf, i) : -1;
}

/* BootChainFinishUpdate: 1 when it resets to restore the previous chain. */
static int bootchain_finish(struct t234_model *m, uint32_t chain, uint32_t status)
{
	const int restore = status != ST_SUCCESS && m->previous_present && m->previous != chain;
	const uint32_t previous = m->previous;
	m->previous_present = 0;
	var_del(m, "BootChainFwNext");
	m->reset_count_present = 0;
	if (restore)
		m->br_bct_chain = previous;
	return restore;
}

static int bootchain_set_status_and_finish(struct t234_model *m, uint32_t chain, uint32_t status)
{
	var_set(m, "BootChainFwStatus", BOOTSLOT_ATTR_NV_BS_RT, status);
	return bootchain_finish(m, chain, status);
}

/* BootChainExecuteUpdate on `chain`: 1 when it resets. */
static int bootchain_execute_update(struct t234_model *m, uint32_t chain)
{
	uint32_t next, status;
	if (!var_get(m, "BootChainFwNext", &next))
		return 0;
	if (var_get(m, "BootChainFwStatus", &status)) {
		if (status != ST_IN_PROGRESS)
			return bootchain_finish(m, chain, status); /* already ERROR or SUCCESS */
		if (chain == next) {
			var_set(m, "BootChainFwStatus", BOOTSLOT_ATTR_NV_BS_RT, ST_SUCCESS);
			return bootchain_finish(m, chain, ST_SUCCESS);
		}
		return bootchain_set_status_and_finish(m, chain, ST_BOOT_CHAIN_FAILED);
	}
	if (next >= 2)
		return bootchain_set_status_and_finish(m, chain, ST_BAD_BOOT_CHAIN_NEXT);
	if (boot_next_exists(m))
		return bootchain_set_status_and_finish(m, chain, ST_BOOT_NEXT_EXISTS);
	if (next == chain)
		return bootchain_set_status_and_finish(m, chain, ST_NO_OPERATION_REQUIRED);
	m->previous_present = 1;
	m->previous = chain;
	var_set(m, "BootChainFwStatus", BOOTSLOT_ATTR_NV_BS_RT, ST_IN_PROGRESS);
	const uint32_t count = m->reset_count_present ? m->reset_count : 0;
	if (count >= BOOT_CHAIN_MAX_RESET_COUNT)
		return bootchain_set_status_and_finish(m, chain, ST_MAX_RESET_COUNT);
	m->reset_count_present = 1;
	m->reset_count = count + 1;
	m->br_bct_chain = next;
	return 1;
}

enum launch { LAUNCH_SLOT, LAUNCH_RESET, LAUNCH_RECOVERY };

/* ValidateRootfsStatus on `chain`: the slot to boot in *slot, a reset, or recovery. */
static enum launch launcher_validate_rootfs(struct t234_model *m, uint32_t chain, int *slot)
{
	uint32_t st[2] = {0, 0}, redundancy = 0, retry_max = 0;
	(void)var_get(m, "RootfsStatusSlotA", &st[0]);
	(void)var_get(m, "RootfsStatusSlotB", &st[1]);
	(void)var_get(m, "RootfsRedundancyLevel", &redundancy);
	(void)var_get(m, "RootfsRetryCountMax", &retry_max);
	uint32_t sr = m->sr_rf;
	if ((sr & 0xffffu) != SR_RF_MAGIC) { /* InitializeRootfsStatusReg: first boot */
		sr = SR_RF_MAGIC | (chain << SR_RF_SLOT_SHIFT);
		for (int i = 0; i < 2; i++)
			sr = sr_set_tries(sr, i, st[i] == UNBOOTABLE ? 0 : retry_max);
	}
	int current = (int)chain;
	if ((redundancy == 0 && st[0] == UNBOOTABLE) ||
	    (redundancy == 1 && st[0] == UNBOOTABLE && st[1] == UNBOOTABLE)) {
		m->sr_rf = 0; /* IsValidRootfs() false */
		return LAUNCH_RECOVERY;
	}
	int recovery = 0, switch_to_other = 0;
	if (redundancy == 0)
		current = 0;
	if (sr_tries(sr, current) != 0) {
		sr = sr_set_tries(sr, current, sr_tries(sr, current) - 1);
	} else {
		var_set(m, current ? "RootfsStatusSlotB" : "RootfsStatusSlotA",
			BOOTSLOT_ATTR_NV_BS_RT, UNBOOTABLE);
		const int other = 1 - current;
		if (redundancy == 1 && sr_tries(sr, other) != 0) {
			current = other;
			sr = sr_set_tries(sr, other, sr_tries(sr, other) - 1);
			switch_to_other = 1;
		} else {
			if (redundancy == 1)
				var_set(m, other ? "RootfsStatusSlotB" : "RootfsStatusSlotA",
					BOOTSLOT_ATTR_NV_BS_RT, UNBOOTABLE);
			recovery = 1;
			sr = 0; /* cleared for the recovery kernel */
		}
	}
	sr = (sr & ~(3u << SR_RF_SLOT_SHIFT)) | ((uint32_t)current << SR_RF_SLOT_SHIFT);
	m->sr_rf = sr;
	if (switch_to_other) {
		var_set(m, "BootChainFwNext", BOOTSLOT_ATTR_NV_BS_RT, (uint32_t)current);
		m->sr_rf = 0;
		var_del(m, "BootChainFwStatus");
		return LAUNCH_RESET;
	}
	if (recovery)
		return LAUNCH_RECOVERY;
	*slot = current;
	return LAUNCH_SLOT;
}

int model_boot(struct t234_model *m)
{
	m->confirm_failed = 0;
	for (m->resets = 0; m->resets < 32; m->resets++) {
		const uint32_t chain = m->br_bct_chain;
		if (m->content[chain] == CONTENT_FIRMWARE_BROKEN) {
			m->br_bct_chain = 1 - chain; /* the BootROM/MB1 fall back to the other chain */
			continue;
		}
		var_set(m, "BootChainFwCurrent", 0x6, chain); /* BS|RT: volatile */
		if (bootchain_execute_update(m, chain))
			continue;
		int slot = 0;
		const enum launch l = launcher_validate_rootfs(m, chain, &slot);
		if (l == LAUNCH_RESET)
			continue;
		if (l == LAUNCH_RECOVERY)
			return MODEL_RECOVERY;
		const uint8_t pkg_slot = slot == 0 ? PKG_SLOT_A : PKG_SLOT_B;
		if (m->content[slot] == CONTENT_GOOD) {
			if (slot_backend_tegra.mark_good(&m->os, pkg_slot) == 0) {
				uint32_t retry_max = 0;
				(void)var_get(m, "RootfsRetryCountMax", &retry_max);
				m->sr_rf = sr_set_tries(m->sr_rf, slot, retry_max);
			} else {
				m->confirm_failed = 1;
			}
		}
		return pkg_slot;
	}
	return -1;
}
