/* SPDX-License-Identifier: MIT */
/*
 * The systemd-boot slot backend: Boot Loader Specification boot counting on the ESP.
 *
 * The ESP contract (shared with rootfs/build.sh, which makes the first flash's ESP):
 *   /loader/loader.conf   no `default` line: systemd-boot 252 then boots the first entry in
 *                         its sort order (config_default_entry_select, src/boot/efi/boot.c)
 *   /selfflash/slot-S/Image, /selfflash/slot-S/initrd (only when the slot has one), S = a, b
 *   /loader/entries/selfflash-slot-S.conf (confirmed) or selfflash-slot-S+L[-D].conf (on
 *   trial): title, sort-key selfflash, version G, linux, [initrd], options
 *   root=PARTLABEL=P CMDLINE, and "# selfflash system-version V" (bls_entry.c writes it).
 *   No entry: the slot is not bootable.
 * config_entry_compare (boot.c) puts entries with no tries left last, then orders entries
 * that share a sort-key by version, newest first; so the install with the largest G boots
 * while it has tries left, and the other slot boots once they are used up.
 * config_entry_bump_counters renames +L-D to +(L-1)-(D+1) before each boot
 * (docs/AUTOMATIC_BOOT_ASSESSMENT.md).
 *
 * Besides these, systemd-boot picks from its variables LoaderEntryDefault and
 * LoaderEntryOneShot and from unified kernel images in /EFI/Linux: check refuses the first
 * and the last, arm clears the one-shot, and check requires LoaderEntrySelected to name the
 * running slot's entry (sdboot_loader.c says why).
 *
 * Every change is a new file, fsync, rename, fsync of the directory, so a power cut leaves
 * either the old or the new file; the entry is written last (arm).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bls_entry.h"
#include "error.h"
#include "esp_file.h"
#include "sdboot_loader.h"
#include "sdboot_scan.h"
#include "slot_backend.h"
#include "slot_version.h"

static int sdboot_read(const struct slot_env *e, struct slot_view v[2], uint8_t *running)
{
	struct sdboot_scan s;
	int dir;
	*running = 0;
	if (sdboot_esp_open(e, ENTRIES_DIR, &dir) < 0)
		return -1;
	int rc = sdboot_scan(dir, &s, NULL);
	close(dir);
	if (rc < 0)
		return -1;
	sdboot_view_fill(&s, 0, &v[0]);
	sdboot_view_fill(&s, 1, &v[1]);
	return 0;
}

static int sdboot_check(const struct slot_env *e, uint8_t target)
{
	char foreign[NAME_MAX + 1];
	struct sdboot_scan s;
	size_t len;
	int i = 0, esp, dir;
	if (slot_index(target, &i) < 0 || sdboot_esp_open(e, ".", &esp) < 0)
		return -1;
	int rc = sdboot_esp_open(e, ENTRIES_DIR, &dir);
	if (rc == 0) {
		rc = sdboot_scan(dir, &s, foreign);
		close(dir);
	}
	if (rc == 0 && foreign[0])
		rc = err_set("loader/entries/%s: an entry selfflash does not manage; systemd-boot "
			     "could choose it over both slots, so fallback is not assured; remove "
			     "it or move it out of loader/entries",
			     foreign);
	if (rc == 0 && faccessat(esp, "loader/loader.conf", F_OK, 0) == 0) {
		char conf[BLS_LOADER_CONF_MAX];
		rc = esp_file_read_small(esp, "loader/loader.conf", "loader/loader.conf", conf,
				     sizeof(conf), &len) < 0 ||
				     bls_loader_conf_check(conf, len, "loader/loader.conf") < 0
			     ? -1
			     : 0;
	}
	/* what else systemd-boot picks from: its variables, /EFI/Linux (sdboot_loader.c) */
	if (rc == 0)
		rc = sdboot_loader_check(e, esp, i);
	close(esp);
	return rc;
}

static int sdboot_disarm(const struct slot_env *e, uint8_t target)
{
	struct sdboot_scan s;
	int i = 0, dir;
	if (slot_index(target, &i) < 0 || sdboot_esp_open(e, ENTRIES_DIR, &dir) < 0)
		return -1;
	/* refuses an ESP it cannot read whole before removing anything */
	int rc = sdboot_scan(dir, &s, NULL);
	int fd = rc < 0 ? -1 : dup(dir);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (rc == 0 && !d)
		rc = err_set("loader/entries: %s", strerror(errno));
	struct dirent *de;
	if (d)
		rewinddir(d); /* the scan's descriptor shared this one's position */
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct bls_name n;
		if (bls_name_parse(de->d_name, &n) != 1 || n.slot != i)
			continue;
		if (unlinkat(dir, de->d_name, 0) < 0)
			rc = err_set("loader/entries/%s: remove: %s", de->d_name, strerror(errno));
		else
			fprintf(e->log, "systemd-boot: slot %c disarmed: removed loader/entries/%s\n",
				i ? 'b' : 'a', de->d_name);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = esp_dir_sync(dir, "loader/entries");
	close(dir);
	return rc;
}

/* install and arm run only on a disarmed target: its entry would boot half-written files. */
static int scan_disarmed(const struct slot_env *e, int i, int *dir, struct sdboot_scan *s)
{
	if (sdboot_esp_open(e, ENTRIES_DIR, dir) < 0)
		return -1;
	if (sdboot_scan(*dir, s, NULL) < 0 ||
	    (s->has_entry[i] && err_set("loader/entries/%s: slot %c still has an entry; disarm it "
					"before its boot files are replaced",
					s->entry_name[i], i ? 'b' : 'a') < 0)) {
		close(*dir);
		return -1;
	}
	return 0;
}

static int install_files(int slot_dir, const char *label, const struct slot_boot *b)
{
	if (esp_file_replace(slot_dir, label, "Image.new", "Image", b->kernel, b->kernel_len) < 0)
		return -1;
	if (b->ramdisk)
		return esp_file_replace(slot_dir, label, "initrd.new", "initrd", b->ramdisk,
					b->ramdisk_len);
	/* an initrd of an earlier install must not be booted with this kernel */
	if (esp_file_remove(slot_dir, label, "initrd") < 0)
		return -1;
	return esp_dir_sync(slot_dir, label);
}

static int sdboot_install(const struct slot_env *e, uint8_t target, const struct slot_boot *b)
{
	struct sdboot_scan s;
	char label[32];
	int i = 0, entries, esp, top = -1, slot_dir = -1;
	if (slot_index(target, &i) < 0 || bls_boot_check(b) < 0)
		return -1;
	if (!b->kernel || b->kernel_len == 0)
		return err_set("slot %c: the boot image has no kernel", i ? 'b' : 'a');
	if (scan_disarmed(e, i, &entries, &s) < 0)
		return -1;
	close(entries);
	if (sdboot_esp_open(e, ".", &esp) < 0)
		return -1;
	snprintf(label, sizeof(label), "selfflash/slot-%c", i ? 'b' : 'a');
	int rc = esp_dir_open_made(esp, "ESP", "selfflash", &top);
	if (rc == 0)
		rc = esp_dir_open_made(top, "selfflash", label + strlen("selfflash/"), &slot_dir);
	if (rc == 0)
		rc = install_files(slot_dir, label, b);
	if (rc == 0)
		fprintf(e->log, "systemd-boot: slot %c installed: %s/Image (%zu bytes)%s\n",
			i ? 'b' : 'a', label, b->kernel_len, b->ramdisk ? " and initrd" : "");
	if (slot_dir >= 0)
		close(slot_dir);
	if (top >= 0)
		close(top);
	close(esp);
	return rc;
}

/*
 * The files the entry will name hold what b holds (read back): an entry whose kernel is
 * missing is skipped by systemd-boot, and one over another install's files boots those.
 */
static int check_installed(const struct slot_env *e, int i, const struct slot_boot *b)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/selfflash/slot-%c/Image", e->esp, i ? 'b' : 'a');
	if (esp_file_check_same(path, b->kernel, b->kernel_len) < 0)
		return err_prefix("slot %c not installed", i ? 'b' : 'a');
	snprintf(path, sizeof(path), "%s/selfflash/slot-%c/initrd", e->esp, i ? 'b' : 'a');
	if (b->ramdisk && esp_file_check_same(path, b->ramdisk, b->ramdisk_len) < 0)
		return err_prefix("slot %c not installed", i ? 'b' : 'a');
	if (!b->ramdisk && access(path, F_OK) == 0)
		return err_set("%s: left from an earlier install; install the slot before arming "
			       "it",
			       path);
	return 0;
}

static int sdboot_arm(const struct slot_env *e, uint8_t target, const struct slot_boot *b)
{
	char text[BLS_ENTRY_MAX + 1], name[64];
	struct sdboot_scan s;
	size_t len;
	int i = 0, dir;
	if (slot_index(target, &i) < 0 || bls_boot_check(b) < 0)
		return -1;
	if (e->tries < 1)
		return err_set("slot-tries %d: expected at least 1", e->tries);
	if (scan_disarmed(e, i, &dir, &s) < 0)
		return -1;
	int rc = 0;
	if (s.max_generation == UINT64_MAX)
		rc = err_set("loader/entries: version %llu is the largest there is; renumber the "
			     "entries (the newest must stay the largest)",
			     (unsigned long long)s.max_generation);
	if (rc == 0)
		rc = check_installed(e, i, b);
	if (rc == 0)
		rc = bls_entry_format(text, sizeof(text), i, b, s.max_generation + 1, &len);
	if (rc == 0 && bls_name_format(name, sizeof(name), i, e->tries) < 0)
		rc = err_set("slot-tries %d: entry name too long", e->tries);
	/* a one-shot request would boot another entry before this one's trial: the entry,
	 * written next, stays the last write */
	if (rc == 0)
		rc = sdboot_oneshot_clear(e);
	if (rc == 0) {
		char tmp[80];
		snprintf(tmp, sizeof(tmp), "%s.tmp", name);
		rc = esp_file_replace(dir, ENTRIES_DIR, tmp, name, text, len);
	}
	if (rc == 0)
		fprintf(e->log,
			"systemd-boot: slot %c armed: loader/entries/%s, version %llu, %d tries\n",
			i ? 'b' : 'a', name, (unsigned long long)(s.max_generation + 1), e->tries);
	close(dir);
	return rc;
}

static int sdboot_mark_good(const struct slot_env *e, uint8_t running)
{
	char good[NAME_MAX + 1];
	struct sdboot_scan s;
	int i = 0, dir;
	if (slot_index(running, &i) < 0 || sdboot_esp_open(e, ENTRIES_DIR, &dir) < 0)
		return -1;
	int rc = sdboot_scan(dir, &s, NULL);
	char c = i ? 'b' : 'a';
	if (rc == 0 && !s.has_entry[i])
		rc = err_set("loader/entries: no entry for slot %c: the running slot has no trial "
			     "entry to confirm",
			     c);
	if (rc == 0 && !s.name[i].has_counter && !s.stale_name[i][0]) {
		fprintf(e->log, "systemd-boot: slot %c is already confirmed (loader/entries/%s)\n",
			c, s.entry_name[i]);
	} else if (rc == 0) {
		/*
		 * +0-D is accepted too: systemd-boot renames an entry before booting it
		 * (config_entry_bump_counters), so the last try runs as +0-D; systemd's own
		 * bless-boot drops the counter whatever it is (make_good, src/boot/bless-boot.c).
		 * Not a rename (bless-boot's way): on FAT a cut rename leaves an empty file, and the
		 * slot would not boot; the confirmed entry is written whole beside the counted one,
		 * which goes after it, so at any moment one of the two boots the slot.
		 */
		const char *counted = s.name[i].has_counter ? s.entry_name[i] : s.stale_name[i];
		bls_name_format(good, sizeof(good), i, -1);
		if (s.name[i].has_counter) {
			char tmp[NAME_MAX + 8];
			snprintf(tmp, sizeof(tmp), "%s.tmp", good);
			rc = esp_file_replace(dir, ENTRIES_DIR, tmp, good, s.text[i], s.text_len[i]);
		}
		if (rc == 0 && unlinkat(dir, counted, 0) < 0)
			rc = err_set("loader/entries/%s: remove: %s", counted, strerror(errno));
		if (rc == 0)
			rc = esp_dir_sync(dir, ENTRIES_DIR);
		if (rc == 0)
			fprintf(e->log, "systemd-boot: slot %c confirmed: loader/entries/%s -> %s\n",
				c, counted, good);
	}
	close(dir);
	/* the floor covers both slots: a confirmed version is one the board never goes below */
	if (rc == 0 && s.entry[i].has_system_version)
		rc = slot_floor_raise_esp(e, s.entry[i].system_version);
	else if (rc == 0)
		fprintf(e->log, "systemd-boot: slot %c's entry records no system version: updates "
				"from it are refused unless --allow-downgrade\n", c);
	return rc;
}

static int sdboot_read_floor(const struct slot_env *e, int *known, uint64_t *floor)
{
	return slot_floor_read_esp(e, known, floor);
}

/*
 * A first flash writes the ESP whole from the package (rootfs/build.sh makes it: both slots'
 * entries confirmed, slot A's with the larger version, so systemd-boot boots A first); the
 * flasher runs from recovery mode with no ESP mounted at e->esp. There is nothing to check
 * before it, and nothing to select after it that the written and read-back ESP does not
 * already say: writing an entry here would change bytes the read-back just proved.
 */
static int sdboot_check_first(const struct slot_env *e, uint8_t slot)
{
	int i = 0;
	(void)e;
	return slot_index(slot, &i);
}

static int sdboot_select_first(const struct slot_env *e, uint8_t slot)
{
	int i = 0;
	if (slot_index(slot, &i) < 0)
		return -1;
	fprintf(e->log, "systemd-boot: slot %c boots as the package's ESP says (its entries, "
			"written and read back)\n", i ? 'b' : 'a');
	return 0;
}

const struct slot_backend_ops slot_backend_systemd_boot = {
	.name = "systemd-boot",
	.install_needs_kernel = 1,
	.read = sdboot_read,
	.check = sdboot_check,
	.disarm = sdboot_disarm,
	.install = sdboot_install,
	.arm = sdboot_arm,
	.mark_good = sdboot_mark_good,
	.read_floor = sdboot_read_floor,
	.check_first = sdboot_check_first,
	.select_first = sdboot_select_first,
	.describe = NULL,
};
