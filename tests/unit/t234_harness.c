/* SPDX-License-Identifier: MIT */
/* Shared pieces of the tegra backend's tests (t234_harness.h). */
#include "t234_harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "le.h"
#include "pkg.h"
#include "slot/bootslot.h"

const struct slot_backend_ops *ops = &slot_backend_tegra;
char harness_root[256];
FILE *harness_log;

static int cut_after = -1; /* writes allowed before the power goes; -1 never */
int writes_done;
int power_lost;
int writes_before_arm = -1; /* writes done when the update called arm */

static int power_cut_now(void)
{
	if (power_lost || (cut_after >= 0 && writes_done >= cut_after)) {
		power_lost = 1;
		return 1;
	}
	writes_done++;
	return 0;
}

void power_cut_arm(int after)
{
	cut_after = after;
	writes_done = 0;
	power_lost = 0;
}

int __real_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len);
int __wrap_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len);
int __real_bootslot_var_remove(const char *dir, const char *name, const char *guid);
int __wrap_bootslot_var_remove(const char *dir, const char *name, const char *guid);
int __real_tegra_scratch_write(const char *mem, uint32_t address, uint32_t value);
int __wrap_tegra_scratch_write(const char *mem, uint32_t address, uint32_t value);

int __wrap_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len)
{
	if (power_cut_now())
		return err_set("power cut before writing %s", name);
	return __real_bootslot_var_write(dir, name, guid, attributes, value, len);
}

int __wrap_bootslot_var_remove(const char *dir, const char *name, const char *guid)
{
	if (power_cut_now())
		return err_set("power cut before removing %s", name);
	return __real_bootslot_var_remove(dir, name, guid);
}

int __wrap_tegra_scratch_write(const char *mem, uint32_t address, uint32_t value)
{
	if (power_cut_now())
		return err_set("power cut before writing the tries register");
	return __real_tegra_scratch_write(mem, address, value);
}

static void tree_remove(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char sub[800];
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		tree_remove(sub);
	}
	closedir(d);
	rmdir(path);
}

int board_on_a(struct t234_model *m, enum model_release release, uint32_t redundancy)
{
	power_cut_arm(-1);
	tree_remove(harness_root);
	mkdir(harness_root, 0755);
	if (model_init(m, harness_root, release, redundancy, 3, harness_log) != 0)
		return -1;
	return model_boot(m) == PKG_SLOT_A ? 0 : -1;
}

int harness_update(struct t234_model *m, uint8_t target, uint64_t version,
		   enum model_content written)
{
	const int t = target == PKG_SLOT_A ? 0 : 1;
	const struct slot_boot boot = {.version = version, .cmdline = ""};
	if (ops->check(&m->os, target) != 0 || ops->disarm(&m->os, target) != 0)
		return -1;
	/* the writes and their read-back: the slot is half-written until they end (a power cut
	 * before arm wrote anything is also one during them: the power-cut tests mark that) */
	writes_before_arm = writes_done;
	m->content[t] = written;
	return ops->arm(&m->os, target, &boot);
}

char *board_snapshot(const struct t234_model *m)
{
	struct dirent **names;
	int n = scandir(m->dir, &names, NULL, alphasort);
	if (n < 0)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *snap = calloc(1, cap);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && snap) {
			char path[600];
			snprintf(path, sizeof(path), "%s/%s", m->dir, names[i]->d_name);
			len += (size_t)snprintf(snap + len, cap - len, "%s=", names[i]->d_name);
			FILE *f = fopen(path, "rb");
			int c;
			while (f && (c = fgetc(f)) != EOF && len + 4 < cap)
				len += (size_t)snprintf(snap + len, cap - len, "%02x", c);
			if (f)
				fclose(f);
			len += (size_t)snprintf(snap + len, cap - len, ";");
		}
		free(names[i]);
	}
	free(names);
	if (snap && len + 16 < cap)
		snprintf(snap + len, cap - len, "SR_RF=%08x", model_sr_rf(m));
	return snap;
}

int var_exists(const struct t234_model *m, const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s-%s", m->dir, name, BOOTCHAIN_GUID);
	return access(path, F_OK) == 0;
}

void var_put(const struct t234_model *m, const char *name, const char *guid, uint32_t value,
	     size_t len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s-%s", m->dir, name, guid);
	uint8_t buf[8];
	le32_store(buf, BOOTSLOT_ATTR_NV_BS_RT);
	le32_store(buf + 4, value);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, 4 + len, f);
		fclose(f);
	}
}

void harness_setup(void)
{
	snprintf(harness_root, sizeof(harness_root), "%s/selfflash-t234-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(harness_root) || !(harness_log = fopen("/dev/null", "w"))) {
		perror("setup");
		exit(1);
	}
}

void harness_teardown(void)
{
	tree_remove(harness_root);
	fclose(harness_log);
}
