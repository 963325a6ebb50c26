/* SPDX-License-Identifier: MIT */
/* A model of the T234 firmware's boot-chain and rootfs A/B logic (see t234_model.h). */
#include "t234_model.h"
#include "t234_model_capsule.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slot/bootslot.h"
#include "slot/tegra_release.h"
#include "slot/tegra_scratch.h"
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

/* SR_RF, in the memory file at its physical address, as the firmware reads and writes it */
uint32_t model_sr_rf(const struct t234_model *m)
{
	uint8_t b[4] = {0, 0, 0, 0};
	int fd = open(m->mem, O_RDONLY);
	if (fd >= 0) {
		if (pread(fd, b, 4, TEGRA_SR_RF_ADDRESS) != 4)
			memset(b, 0, 4);
		close(fd);
	}
	return le32_load(b);
}

static void sr_rf_set(const struct t234_model *m, uint32_t v)
{
	uint8_t b[4];
	le32_store(b, v);
	int fd = open(m->mem, O_WRONLY);
	if (fd < 0 || pwrite(fd, b, 4, TEGRA_SR_RF_ADDRESS) != 4)
		fprintf(stderr, "model: writing SR_RF in %s: %s\n", m->mem, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* What the board's sysfs says of the release: NVIDIA's R35.3.1 build string (uefi_jetson.bin);
 * for r35.4.1 a build from the edk2-nvidia tag, whose "202210.3-..." names no release, so the
 * ESRT's Version32 (flash.sh NV4 format) tells it; for r36.4.3 NVIDIA's R36 form. */
static void sysfs_init(const struct t234_model *m, enum model_release release)
{
	static const char *const bios[] = {"3.1-32827747", "202210.3-8444db34",
					   "36.4.3-gcid-38968081"};
	static const char *const version[] = {"0x230301", "0x230401", "0x240403"};
	char path[600];
	const char *const parts[] = {"class", "class/dmi", "class/dmi/id", "firmware",
				     "firmware/efi", "firmware/efi/esrt",
				     "firmware/efi/esrt/entries",
				     "firmware/efi/esrt/entries/entry0"};
	mkdir(m->sysfs, 0755);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->sysfs, parts[i]);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/class/dmi/id/bios_version", m->sysfs);
	write_file(path, bios[release]);
	snprintf(path, sizeof(path), "%s/firmware/efi/esrt/entries/entry0/fw_class", m->sysfs);
	write_file(path, TEGRA_T234_FMP_GUID "\n");
	snprintf(path, sizeof(path), "%s/firmware/efi/esrt/entries/entry0/fw_version", m->sysfs);
	char v[32];
	snprintf(v, sizeof(v), "%lu\n", strtoul(version[release], NULL, 16));
	write_file(path, v);
}

/* The UEFI image's device-tree defaults, put into a store that lacks them. */
static void apply_defaults(const struct t234_model *m)
{
	uint32_t v;
	if (!var_get(m, "RootfsRedundancyLevel", &v))
		var_set(m, "RootfsRedundancyLevel", BOOTSLOT_ATTR_NV_BS_RT, m->dtb_redundancy);
	if (!var_get(m, "RootfsRetryCountMax", &v))
		var_set(m, "RootfsRetryCountMax", BOOTSLOT_ATTR_NV_BS_RT, m->dtb_retry_max);
}

int model_init(struct t234_model *m, const char *root, enum model_release release,
	       uint32_t redundancy, uint32_t retry_max, FILE *log)
{
	memset(m, 0, sizeof(*m));
	if (strlen(root) + 16 >= sizeof(m->dir) || retry_max < 1 || retry_max > 3)
		return -1;
	snprintf(m->dir, sizeof(m->dir), "%s/efivars", root);
	snprintf(m->mem, sizeof(m->mem), "%s/mem", root);
	snprintf(m->sysfs, sizeof(m->sysfs), "%s/sys", root);
	mkdir(m->dir, 0755);
	int fd = open(m->mem, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)TEGRA_SR_RF_ADDRESS + 4096) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	m->release = release;
	m->chain_release[0] = m->chain_release[1] = release;
	sysfs_init(m, release);
	m->dtb_redundancy = redundancy;
	m->dtb_retry_max = retry_max;
	m->content[0] = m->content[1] = CONTENT_GOOD;
	var_set(m, "RootfsStatusSlotA", BOOTSLOT_ATTR_NV_BS_RT, 0);
	var_set(m, "RootfsStatusSlotB", BOOTSLOT_ATTR_NV_BS_RT, 0);
	apply_defaults(m);
	m->os.efivars = m->dir;
	m->os.mem_device = m->mem;
	m->os.sysfs = m->sysfs;
	m->os.tries = (int)retry_max;
	m->os.log = log;
	for (int i = 0; i < 2; i++)
		snprintf(m->version_file[i], sizeof(m->version_file[i]), "%s/system-version-%c",
			 root, 'a' + i);
	m->os.system_version_file = m->version_file[0];
	model_power_off(m);
	return 0;
}

void model_power_off(struct t234_model *m)
{
	sr_rf_set(m, 0);
	var_del(m, "BootChainFwCurrent"); /* BS|RT, not NV: gone with the power */
}

static void dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char file[600];
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		unlink(file);
	}
	closedir(d);
}

void model_first_flash(struct t234_model *m, const char *session, int store_erased)
{
	dir_empty(session); /* the in-memory store of recovery mode: starts empty */
	const struct slot_env rcm = {.efivars = session, .mem_device = m->mem, .sysfs = m->sysfs,
				     .tries = m->os.tries, .log = m->os.log};
	if (slot_backend_tegra.check_first(&rcm, PKG_SLOT_A) == 0)
		(void)slot_backend_tegra.select_first(&rcm, PKG_SLOT_A);
	dir_empty(session); /* dropped at the reset */
	if (store_erased) {
		dir_empty(m->dir);
		m->previous_present = m->reset_count_present = 0;
	}
	m->br_bct_chain = 0;
	model_power_off(m);
}

int model_tries_left(const struct t234_model *m, int i)
{
	const uint32_t sr = model_sr_rf(m);
	return (sr & 0xffffu) == SR_RF_MAGIC ? (int)sr_tries(sr, i) : -1;
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
	uint32_t sr = model_sr_rf(m);
	if ((sr & 0xffffu) != SR_RF_MAGIC) { /* InitializeRootfsStatusReg: first boot */
		sr = SR_RF_MAGIC | (chain << SR_RF_SLOT_SHIFT);
		for (int i = 0; i < 2; i++)
			sr = sr_set_tries(sr, i, st[i] == UNBOOTABLE ? 0 : retry_max);
	}
	int current = (int)chain;
	if ((redundancy == 0 && st[0] == UNBOOTABLE) ||
	    (redundancy == 1 && st[0] == UNBOOTABLE && st[1] == UNBOOTABLE)) {
		sr_rf_set(m, 0); /* IsValidRootfs() false */
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
	sr_rf_set(m, sr);
	if (switch_to_other) {
		var_set(m, "BootChainFwNext", BOOTSLOT_ATTR_NV_BS_RT, (uint32_t)current);
		sr_rf_set(m, 0);
		/* from r35.4.1 only (L4TRootfsValidation.c:889-890 @r35.4.1, :914-915 @r36.4.3) */
		if (m->chain_release[chain] != MODEL_R35_3_1)
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
	m->confirms = 0;
	for (m->resets = 0; m->resets < MODEL_MAX_RESETS; m->resets++) {
		const uint32_t chain = m->br_bct_chain;
		if (m->content[chain] == CONTENT_FIRMWARE_BROKEN) {
			m->br_bct_chain = 1 - chain; /* the BootROM/MB1 fall back to the other chain */
			continue;
		}
		var_set(m, "BootChainFwCurrent", 0x6, chain); /* BS|RT: volatile */
		apply_defaults(m);
		if (bootchain_execute_update(m, chain))
			continue;
		/* BDS: capsule on disk (PlatformBm.c), after BootChainDxe, before the launcher */
		if (m->capsule) {
			const int applied = m->capsule->applied;
			const int reset = model_capsule_on_disk(m, chain, m->capsule);
			if (m->capsule->applied != applied)
				m->chain_release[1 - chain] = m->capsule_release;
			if (reset)
				continue;
		}
		sysfs_init(m, m->chain_release[chain]); /* what the running firmware reports */
		int slot = 0;
		const enum launch l = launcher_validate_rootfs(m, chain, &slot);
		if (l == LAUNCH_RESET)
			continue;
		if (l == LAUNCH_RECOVERY)
			return MODEL_RECOVERY;
		const uint8_t pkg_slot = slot == 0 ? PKG_SLOT_A : PKG_SLOT_B;
		if (m->content[slot] == CONTENT_GOOD) {
			m->confirms++;
			m->os.system_version_file = m->version_file[pkg_slot == PKG_SLOT_B];
			if (slot_backend_tegra.mark_good(&m->os, pkg_slot) != 0)
				m->confirm_failed = 1;
		}
		return pkg_slot;
	}
	return MODEL_RESET_LOOP;
}
