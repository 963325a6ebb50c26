/* SPDX-License-Identifier: MIT */
/* A boot-firmware capsule staged on the ESP and requested from UEFI (tegra_capsule.h). */
#include "tegra_capsule.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootslot.h"
#include "capsule.h"
#include "capsule_status.h"
#include "error.h"
#include "esp_file.h"
#include "io.h"
#include "le.h"

/* written under EFI/, never in UpdateCapsule/ itself: UEFI loads every file there */
#define CAPSULE_TMP ".selfflash-capsule.tmp"
#define MAX_LISTED 32

/* OsIndications (EFI global GUID, u64) in *value; *present 0 when missing. */
int tegra_os_indications_read(const char *efivars, uint64_t *value, int *present)
{
	uint8_t v[8];
	size_t len;
	*value = 0;
	if (bootslot_var_read(efivars, "OsIndications", EFI_GLOBAL_GUID, v, sizeof(v), &len,
			      present) != 0)
		return -1;
	if (*present && len != 8)
		return err_set("EFI variable OsIndications has %zu bytes, expected 8 (UEFI reads a "
			       "UINT64)", len);
	if (*present)
		*value = le64_load(v);
	return 0;
}

static int os_indications_write(const char *efivars, uint64_t value)
{
	uint8_t v[8];
	le64_store(v, value);
	return bootslot_var_write(efivars, "OsIndications", EFI_GLOBAL_GUID,
				  BOOTSLOT_ATTR_NV_BS_RT, v, sizeof(v));
}

/* A TnSpec variable of the board (efivarfs: u32 attributes, then ASCII) into spec; "" when
 * missing. */
void tegra_board_spec(const char *efivars, const char *name, char *spec, size_t size)
{
	char path[512];
	size_t len;
	spec[0] = 0;
	snprintf(path, sizeof(path), "%s/%s-%s", efivars, name, BOOTCHAIN_GUID);
	char *text = read_small_file(path, 4 + CAPSULE_BUP_TNSPEC_LEN, &len);
	if (!text)
		return;
	if (len > 4)
		snprintf(spec, size, "%.*s", (int)(len - 4), text + 4);
	free(text);
	spec[strcspn(spec, "\n")] = 0;
}

/* The capsule refused when its BUP names none of the board's specs, as TegraFmp would at the
 * next boot (LAS 6151); logged as not checked when either side cannot tell. */
int tegra_capsule_check_board(const struct slot_env *e, const uint8_t *capsule, size_t len)
{
	struct capsule_info ci;
	if (capsule_parse(capsule, len, &ci) != 0)
		return err_prefix("the package's capsule");
	char compat[CAPSULE_BUP_TNSPEC_LEN + 1], full[CAPSULE_BUP_TNSPEC_LEN + 1];
	char seen[CAPSULE_BUP_TNSPEC_LEN + 1];
	tegra_board_spec(e->efivars, "TegraPlatformCompatSpec", compat, sizeof(compat));
	tegra_board_spec(e->efivars, "TegraPlatformSpec", full, sizeof(full));
	if (!ci.has_bup || (!compat[0] && !full[0])) {
		fprintf(e->log, "slot: capsule not checked against the board (%s)\n",
			!ci.has_bup ? ci.no_bup : "no TegraPlatformCompatSpec/TegraPlatformSpec");
		return 0;
	}
	if ((compat[0] && capsule_bup_names_board(&ci, compat, NULL, NULL, seen, sizeof(seen))) ||
	    (full[0] && capsule_bup_names_board(&ci, full, NULL, NULL, seen, sizeof(seen)))) {
		fprintf(e->log, "slot: capsule's update package matches the board (%s)\n",
			compat[0] ? compat : full);
		return 0;
	}
	return err_set("the package's capsule is for another board: none of its entries' TnSpec "
		       "(e.g. %s) matches this board's %s; the firmware would refuse it (6151)",
		       seen, compat[0] ? compat : full);
}

/* Every file already in UpdateCapsule/ removed (UEFI would apply each), logged. */
static int remove_stale(const struct slot_env *e, int capdir)
{
	int fd = dup(capdir);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set("%s: list: %s", TEGRA_CAPSULE_DIR, strerror(errno));
	}
	char names[MAX_LISTED][256];
	int n = 0, rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < MAX_LISTED)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    de->d_type != DT_DIR) /* UEFI loads files only */
			snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	closedir(d);
	for (int i = 0; i < n && rc == 0; i++) {
		rc = esp_file_remove(capdir, TEGRA_CAPSULE_DIR, names[i]);
		if (rc == 0)
			fprintf(e->log, "slot: removed the stale capsule %s/%s\n", TEGRA_CAPSULE_DIR,
				names[i]);
	}
	return rc != 0 ? -1 : n == 0 ? 0 : esp_dir_sync(capdir, TEGRA_CAPSULE_DIR);
}

/* The capsule as EFI/.tmp, fsync'ed, renamed into UpdateCapsule/, both directories fsync'ed. */
static int stage(int efi, int capdir, const struct slot_boot *b)
{
	int fd = openat(efi, CAPSULE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0644);
	if (fd < 0)
		return err_set("EFI/%s: create: %s", CAPSULE_TMP, strerror(errno));
	if (io_write_all(fd, b->capsule, b->capsule_len) < 0 || fsync(fd) < 0) {
		int bad = errno;
		close(fd);
		unlinkat(efi, CAPSULE_TMP, 0);
		return err_set("EFI/%s: write: %s", CAPSULE_TMP, strerror(bad));
	}
	if (close(fd) < 0)
		return err_set("EFI/%s: close: %s", CAPSULE_TMP, strerror(errno));
	if (renameat(efi, CAPSULE_TMP, capdir, TEGRA_CAPSULE_NAME) < 0)
		return err_set("EFI/%s: rename to %s/%s: %s", CAPSULE_TMP, TEGRA_CAPSULE_DIR,
			       TEGRA_CAPSULE_NAME, strerror(errno));
	/* FAT writes a renamed file's size and cluster with its inode (esp_file.c) */
	fd = openat(capdir, TEGRA_CAPSULE_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		int bad = errno;
		if (fd >= 0)
			close(fd);
		return err_set("%s/%s: fsync: %s", TEGRA_CAPSULE_DIR, TEGRA_CAPSULE_NAME,
			       strerror(bad));
	}
	close(fd);
	return esp_dir_sync(capdir, TEGRA_CAPSULE_DIR) != 0 || esp_dir_sync(efi, "EFI") != 0 ? -1
												  : 0;
}

int tegra_capsule_install(const struct slot_env *e, uint8_t target, const struct slot_boot *b)
{
	(void)target; /* TegraFmp always writes the chain that is not running */
	if (!b->capsule)
		return 0;
	if (!e->esp)
		return err_set("the package carries a capsule, staged on the ESP: set `esp DIR` in "
			       "the config to where the boot disk's ESP is mounted");
	if (tegra_capsule_check_board(e, b->capsule, b->capsule_len) != 0)
		return -1;
	uint64_t ind;
	int present;
	if (tegra_os_indications_read(e->efivars, &ind, &present) != 0)
		return -1;
	if (present && (ind & TEGRA_CAPSULE_OS_INDICATION)) {
		if (os_indications_write(e->efivars, ind & ~(uint64_t)TEGRA_CAPSULE_OS_INDICATION))
			return -1;
		fprintf(e->log, "slot: took back a pending capsule request (OsIndications bit 0x4)\n");
	}
	int root = open(e->esp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), efi = -1, capdir = -1;
	if (root < 0)
		return err_set("ESP %s: %s", e->esp, strerror(errno));
	int rc = esp_dir_open_made(root, e->esp, "EFI", &efi);
	if (rc == 0)
		rc = esp_dir_open_made(efi, "EFI", "UpdateCapsule", &capdir);
	if (rc == 0)
		rc = remove_stale(e, capdir);
	if (rc == 0)
		rc = stage(efi, capdir, b);
	if (rc == 0)
		fprintf(e->log, "slot: capsule staged: %s/%s/%s, %zu bytes\n", e->esp,
			TEGRA_CAPSULE_DIR, TEGRA_CAPSULE_NAME, b->capsule_len);
	if (capdir >= 0)
		close(capdir);
	if (efi >= 0)
		close(efi);
	close(root);
	return rc;
}

int tegra_capsule_clear_switch(const struct slot_env *e)
{
	static const char *const names[] = { "BootChainFwStatus", "BootChainFwNext" };
	for (int i = 0; i < 2; i++) {
		int removed = bootslot_var_remove(e->efivars, names[i], BOOTCHAIN_GUID);
		if (removed < 0)
			return -1;
		if (removed)
			fprintf(e->log, "slot: removed %s (the firmware cancels a capsule while it "
					"exists)\n", names[i]);
	}
	return 0;
}

int tegra_capsule_request(const struct slot_env *e)
{
	uint64_t ind;
	int present;
	if (tegra_os_indications_read(e->efivars, &ind, &present) != 0 ||
	    os_indications_write(e->efivars, ind | TEGRA_CAPSULE_OS_INDICATION) != 0)
		return -1;
	fprintf(e->log, "slot: capsule update requested (OsIndications 0x%" PRIx64 "): UEFI "
			"applies it to the other chain at the next boot and switches to it\n",
		ind | TEGRA_CAPSULE_OS_INDICATION);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The first line of dir/name into out ("" when unreadable). */
static void sysfs_line(const char *dir, const char *name, char *out, size_t size)
{
	char path[1400];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *text = read_small_file(path, 256, &len);
	out[0] = 0;
	if (text)
		snprintf(out, size, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

static void describe_esrt(const char *esrt, FILE *out)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/entries", esrt);
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(out, "capsule: no ESRT at %s: the firmware reports no capsule results\n", esrt);
		return;
	}
	char names[MAX_LISTED][64];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < MAX_LISTED)
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(names[0]))
			memcpy(names[n++], de->d_name, strlen(de->d_name) + 1); /* fits: checked */
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), by_name);
	for (int i = 0; i < n; i++) {
		char entry[700], cls[64], ver[32], las[32], lav[32], words[256];
		if (snprintf(entry, sizeof(entry), "%s/%s", dir, names[i]) >= (int)sizeof(entry))
			continue;
		sysfs_line(entry, "fw_class", cls, sizeof(cls));
		sysfs_line(entry, "fw_version", ver, sizeof(ver));
		sysfs_line(entry, "last_attempt_status", las, sizeof(las));
		sysfs_line(entry, "last_attempt_version", lav, sizeof(lav));
		char *end = NULL;
		errno = 0;
		unsigned long code = strtoul(las, &end, 0);
		if (!las[0] || *end || errno || code > UINT32_MAX)
			snprintf(words, sizeof(words), "unreadable (\"%s\")", las);
		else
			capsule_status_text((uint32_t)code, words, sizeof(words));
		fprintf(out, "capsule: ESRT %s (%s%s): firmware version %s; last capsule, version "
			     "%s: %s: %s\n", names[i], cls,
			strcmp(cls, CAPSULE_T234_IMAGE_GUID) == 0 ? ", T234 boot firmware" : "", ver,
			lav, las, words);
	}
}

/* A capsule on the ESP and whether UEFI is asked to apply it. */
static void describe_waiting(const struct slot_env *e, FILE *out)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", e->esp, TEGRA_CAPSULE_DIR);
	DIR *d = opendir(path);
	if (!d)
		return;
	uint64_t ind = 0;
	int present = 0;
	int asked = tegra_os_indications_read(e->efivars, &ind, &present) == 0 &&
		    (ind & TEGRA_CAPSULE_OS_INDICATION);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		fprintf(out, "capsule: %s/%s (%lld bytes) waits on the ESP; %s\n", path, de->d_name,
			(long long)st.st_size,
			asked ? "OsIndications asks UEFI to apply it at the next boot"
			      : "OsIndications does not ask for it: UEFI ignores it");
	}
	closedir(d);
}

int tegra_capsule_describe(const struct slot_env *e, FILE *out)
{
	if (e->esrt)
		describe_esrt(e->esrt, out);
	if (e->esp)
		describe_waiting(e, out);
	return 0;
}
