/* SPDX-License-Identifier: MIT */
/*
 * The systemd-boot slot backend against a model of systemd-boot 252 (sdboot_model.c): an
 * update boots the new slot on trial, confirms it or falls back by itself, survives a power
 * cut after any file operation, and refuses a hostile ESP without writing.
 * With `--esp-update DIR` or `--esp-mark-good DIR` it leaves an ESP for
 * tests/host/slot_sdboot_bootctl.sh to show to the real bootctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slot/bls_entry.h"
#include "check.h"
#include "error.h"
#include "pkg.h"
#include "sdboot_model.h"
#include "slot/slot_backend.h"

/* slot_version.h's SLOT_FLOOR_FILE, spelled out: the test states the ESP contract itself */
#define SLOT_FLOOR_FILE_FOR_TEST "selfflash/version-floor"

static const struct slot_backend_ops *sd = &slot_backend_systemd_boot;
static char esp[256];
static char vars[300]; /* the efivarfs systemd-boot's variables are read from */
static FILE *logf_;
static struct slot_env env;

/* ---- power cuts: every file operation of the backend goes through these ---------------- */
ssize_t __real_write(int fd, const void *buf, size_t len);
int __real_renameat(int olddir, const char *old, int newdir, const char *new_name);
int __real_unlinkat(int dir, const char *name, int flags);
int __real_fsync(int fd);
int __real_mkdirat(int dir, const char *name, mode_t mode);
ssize_t __wrap_write(int fd, const void *buf, size_t len);
int __wrap_renameat(int olddir, const char *old, int newdir, const char *new_name);
int __wrap_unlinkat(int dir, const char *name, int flags);
int __wrap_fsync(int fd);
int __wrap_mkdirat(int dir, const char *name, mode_t mode);

/*
 * FAT as Linux writes it: a renamed file's new directory entry holds size 0 until the file's
 * inode is written back (fs/fat/namei_vfat.c: vfat_rename, vfat_build_slots, vfat_sync_ipos),
 * which an fsync of the file does. A cut before that leaves the file empty under its new name.
 */
#define PENDING_MAX 16
static char pending[PENDING_MAX][600];
static int npending;

static void fd_path(int fd, char *out, size_t n)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t k = readlink(link, out, n - 1);
	out[k < 0 ? 0 : k] = '\0';
}

static void at_path(int dir, const char *name, char *out, size_t n)
{
	char d[512] = "";
	if (dir == AT_FDCWD) {
		if (!getcwd(d, sizeof(d)))
			d[0] = '\0';
	} else {
		fd_path(dir, d, sizeof(d));
	}
	snprintf(out, n, "%s/%s", d, name);
}

static void pending_drop(const char *path)
{
	for (int i = 0; i < npending; i++)
		if (strcmp(pending[i], path) == 0)
			memmove(pending[i], pending[--npending], sizeof(pending[i]));
}

static void pending_add(const char *path)
{
	pending_drop(path);
	if (npending < PENDING_MAX)
		snprintf(pending[npending++], sizeof(pending[0]), "%s", path);
}

static long ops_left = -1; /* operations before the power goes; -1: never */
static long ops_done;
static int cut;             /* the power went: nothing more reaches the disk */
static int armed_entry_written; /* arm's entry is on the disk (its file fsync'ed) */

/* 1 when this operation may reach the disk. */
static int op_allowed(void)
{
	if (cut)
		return 0;
	if (ops_left == 0) {
		cut = 1;
		return 0;
	}
	if (ops_left > 0)
		ops_left--;
	ops_done++;
	return 1;
}

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	if (ops_left < 0 && !cut)
		return __real_write(fd, buf, len);
	if (!cut && ops_left == 0) {
		/* the cut comes in the middle of the write: half of it is on the disk */
		cut = 1;
		if (len > 1 && __real_write(fd, buf, len / 2) < 0)
			return -1;
	}
	if (!op_allowed())
		return errno = EIO, -1;
	return __real_write(fd, buf, len);
}

int __wrap_renameat(int olddir, const char *old, int newdir, const char *new_name)
{
	if (!op_allowed())
		return errno = EIO, -1;
	int rc = __real_renameat(olddir, old, newdir, new_name);
	if (rc == 0) {
		char from[600], to[600];
		at_path(olddir, old, from, sizeof(from));
		at_path(newdir, new_name, to, sizeof(to));
		pending_drop(from);
		pending_add(to);
	}
	return rc;
}

int __wrap_unlinkat(int dir, const char *name, int flags)
{
	if (!op_allowed())
		return errno = EIO, -1;
	int rc = __real_unlinkat(dir, name, flags);
	if (rc == 0) {
		char path[600];
		at_path(dir, name, path, sizeof(path));
		pending_drop(path);
	}
	return rc;
}

int __wrap_fsync(int fd)
{
	if (!op_allowed())
		return errno = EIO, -1;
	int rc = __real_fsync(fd);
	if (rc == 0) {
		char path[600];
		fd_path(fd, path, sizeof(path));
		/* the armed entry is on the disk once its renamed file was fsync'ed (FAT) */
		size_t len = strlen(path);
		if (len > 7 && strcmp(path + len - 7, "+3.conf") == 0)
			armed_entry_written = 1;
		pending_drop(path);
	}
	return rc;
}

int __wrap_mkdirat(int dir, const char *name, mode_t mode)
{
	return op_allowed() ? __real_mkdirat(dir, name, mode) : (errno = EIO, -1);
}

static void power_on(long budget)
{
	/* the power came back after a cut: what FAT had not written of renamed files is gone */
	for (int i = 0; cut && i < npending; i++)
		if (truncate(pending[i], 0) != 0)
			perror(pending[i]);
	npending = 0;
	ops_left = budget;
	ops_done = 0;
	cut = 0;
	armed_entry_written = 0;
}

/* ---- the ESP, as files ---------------------------------------------------------------- */
static void put(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *rel, const char *fmt, ...)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", esp, rel);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(2);
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* The whole file, NUL-terminated, or NULL when it is missing. Caller frees. */
static char *get(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", esp, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, (2 << 20) + 1);
	fread(buf, 1, 2 << 20, f);
	fclose(f);
	return buf;
}

static int same_file(const char *rel, const char *want)
{
	char *got = get(rel);
	int same = got && want && strcmp(got, want) == 0;
	free(got);
	return same;
}

static int exists(const char *rel)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", esp, rel);
	return stat(path, &st) == 0;
}

static void esp_fresh(void)
{
	char cmd[600];
	static int n;
	if (esp[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s-vars'", esp, esp);
		if (system(cmd) != 0)
			exit(2);
	}
	snprintf(esp, sizeof(esp), "%s/sdboot-esp-%d-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), n++);
	const char *dirs[] = { "", "/loader", "/loader/entries", "/selfflash",
			       "/selfflash/slot-a", "/selfflash/slot-b", "/EFI", "/EFI/BOOT" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s%s", esp, dirs[i]);
		if (mkdir(cmd, 0755) != 0) {
			perror(cmd);
			exit(2);
		}
	}
	env.esp = esp;
	env.tries = 3;
	env.log = logf_;
	snprintf(vars, sizeof(vars), "%s-vars", esp);
	if (mkdir(vars, 0755) != 0) {
		perror(vars);
		exit(2);
	}
	env.efivars = vars;
}

#define LOADER_GUID "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
/* A Boot Loader Interface variable as systemd-boot sets it: attributes, then each text in
 * UTF-16LE with its NUL. */
static void loader_strings_put(const char *name, const char *const *texts, size_t count)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s-%s", vars, name, LOADER_GUID);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fwrite("\x06\0\0\0", 1, 4, f);
	for (size_t k = 0; k < count; k++)
		for (size_t i = 0; i <= strlen(texts[k]); i++) {
			fputc(texts[k][i], f);
			fputc(0, f);
		}
	fclose(f);
}

static void loader_var_put(const char *name, const char *text)
{
	loader_strings_put(name, &text, 1);
}

static int loader_var_exists(const char *name)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s-%s", vars, name, LOADER_GUID);
	return stat(path, &st) == 0;
}

/* The first flash's ESP as rootfs/build.sh makes it (the ESP contract): A G=2, B G=1. */
static const char entry_a1[] = "title      selfflash slot A, system version 7\n"
			       "sort-key   selfflash\n"
			       "version    2\n"
			       "linux      /selfflash/slot-a/Image\n"
			       "options    root=PARTLABEL=APP console=ttyAMA0\n"
			       "# selfflash system-version 7\n";
static void esp_first_flash(void)
{
	esp_fresh();
	put("EFI/BOOT/BOOTAA64.EFI", "stand-in for systemd-bootaa64.efi");
	put("loader/loader.conf", "timeout 0\neditor no\n");
	put("selfflash/slot-a/Image", "kernel A1");
	put("selfflash/slot-b/Image", "kernel B1");
	put("selfflash/slot-b/initrd", "initrd B1");
	put("loader/entries/selfflash-slot-a.conf", "%s", entry_a1);
	put("loader/entries/selfflash-slot-b.conf",
	    "title      selfflash slot B, system version 7\nsort-key   selfflash\n"
	    "version    1\nlinux      /selfflash/slot-b/Image\n"
	    "initrd     /selfflash/slot-b/initrd\n"
	    "options    root=PARTLABEL=APP_b console=ttyAMA0\n# selfflash system-version 7\n");
	/* systemd-boot booted slot A's entry: the board runs A */
	loader_var_put("LoaderEntrySelected", "selfflash-slot-a.conf");
}

static const struct slot_boot boot_b2 = {
	.kernel = (const uint8_t *)"kernel B2", .kernel_len = 9,
	.ramdisk = (const uint8_t *)"initrd B2", .ramdisk_len = 9,
	.cmdline = "console=ttyAMA0 quiet", .root_partition = "APP_b", .version = 8,
};

/* Boots the ESP with the model; "" when it booted slot (a or b) with these exact files. */
static const char *boots(char slot, const char *kernel, const char *initrd, char *file_out)
{
	static char why[4096];
	struct model_entry m;
	char want[64], rel[4096];
	if (model_boot(esp, &m, why, sizeof(why)) < 0)
		return why;
	if (file_out)
		strcpy(file_out, m.file);
	snprintf(want, sizeof(want), "/selfflash/slot-%c/Image", slot);
	snprintf(rel, sizeof(rel), "%s", m.linux_path + 1);
	if (strcmp(m.linux_path, want) != 0 || !same_file(rel, kernel)) {
		snprintf(why, sizeof(why), "booted %s (kernel %s), expected slot %c's %s", m.file,
			 m.linux_path, slot, kernel);
		return why;
	}
	snprintf(rel, sizeof(rel), "%s", m.initrd + (m.initrd[0] == '/'));
	if ((initrd == NULL) != (m.initrd_count == 0) || (initrd && !same_file(rel, initrd))) {
		snprintf(why, sizeof(why), "booted %s with initrd '%s', expected %s", m.file,
			 m.initrd, initrd ? initrd : "none");
		return why;
	}
	const char *part = slot == 'a' ? "root=PARTLABEL=APP " : "root=PARTLABEL=APP_b ";
	if (strncmp(m.options, part, strlen(part)) != 0) {
		snprintf(why, sizeof(why), "booted %s with options '%.200s'", m.file, m.options);
		return why;
	}
	return "";
}

static int update_to_b(const struct slot_boot *b)
{
	return sd->check(&env, PKG_SLOT_B) < 0 || sd->disarm(&env, PKG_SLOT_B) < 0 ||
			       sd->install(&env, PKG_SLOT_B, b) < 0 || sd->arm(&env, PKG_SLOT_B, b) < 0
		       ? -1
		       : 0;
}

/* ---- cases ---------------------------------------------------------------------------- */
static void first_flash_boots_a_and_reads_both_good(void)
{
	struct slot_view v[2];
	uint8_t running = 9;
	esp_first_flash();
	CHECK_STR_EQ(boots('a', "kernel A1", NULL, NULL), "");
	CHECK(sd->read(&env, v, &running) == 0);
	CHECK(running == 0);
	CHECK(v[0].health == SLOT_GOOD && v[1].health == SLOT_GOOD);
	CHECK(v[0].has_version && v[0].version == 7 && v[1].version == 7);
}

static void update_boots_new_slot_on_trial_then_confirmed(void)
{
	struct slot_view v[2];
	uint8_t running;
	char file[300];
	esp_first_flash();
	CHECK(sd->check(&env, PKG_SLOT_B) == 0);
	CHECK(sd->disarm(&env, PKG_SLOT_B) == 0);
	CHECK(sd->read(&env, v, &running) == 0 && v[1].health == SLOT_UNBOOTABLE);
	CHECK_STR_EQ(boots('a', "kernel A1", NULL, NULL), "");
	CHECK(sd->install(&env, PKG_SLOT_B, &boot_b2) == 0);
	CHECK(sd->arm(&env, PKG_SLOT_B, &boot_b2) == 0);
	CHECK(sd->read(&env, v, &running) == 0);
	CHECK(v[1].health == SLOT_TRIAL && v[1].tries_left == 3 && v[1].tries_done == 0);
	CHECK(v[1].has_version && v[1].version == 8);
	CHECK(exists("loader/entries/selfflash-slot-b+3.conf"));
	CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", file), "");
	CHECK_STR_EQ(file, "selfflash-slot-b+3.conf");
	CHECK(sd->read(&env, v, &running) == 0 && v[1].tries_left == 2 && v[1].tries_done == 1);
	CHECK(sd->mark_good(&env, PKG_SLOT_B) == 0);
	CHECK(sd->read(&env, v, &running) == 0 && v[1].health == SLOT_GOOD);
	for (int i = 0; i < 4; i++) {
		CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", file), "");
		CHECK_STR_EQ(file, "selfflash-slot-b.conf");
	}
	CHECK(same_file("loader/entries/selfflash-slot-a.conf", entry_a1));
	CHECK(same_file("selfflash/slot-a/Image", "kernel A1"));
	/* confirming twice is not an error */
	CHECK(sd->mark_good(&env, PKG_SLOT_B) == 0);
}

static void unconfirmed_slot_falls_back_after_its_tries(void)
{
	static const char *const names[] = { "selfflash-slot-b+3.conf", "selfflash-slot-b+2-1.conf",
					     "selfflash-slot-b+1-2.conf" };
	struct slot_view v[2];
	uint8_t running;
	char file[300];
	esp_first_flash();
	CHECK(update_to_b(&boot_b2) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", file), "");
		CHECK_STR_EQ(file, names[i]);
	}
	CHECK(exists("loader/entries/selfflash-slot-b+0-3.conf"));
	CHECK_STR_EQ(boots('a', "kernel A1", NULL, file), "");
	CHECK_STR_EQ(boots('a', "kernel A1", NULL, file), "");
	CHECK(sd->read(&env, v, &running) == 0);
	CHECK(v[1].health == SLOT_BAD && v[1].tries_done == 3 && v[1].tries_left == 0);
	CHECK(v[0].health == SLOT_GOOD);
	CHECK(same_file("loader/entries/selfflash-slot-a.conf", entry_a1));
	/* the next update replaces the bad slot: it sorts first again with a new version */
	CHECK(update_to_b(&boot_b2) == 0);
	CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", file), "");
}

static void last_try_can_be_confirmed(void)
{
	struct slot_view v[2];
	uint8_t running;
	esp_first_flash();
	CHECK(update_to_b(&boot_b2) == 0);
	for (int i = 0; i < 3; i++)
		CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", NULL), "");
	/* the third boot runs as +0-3 (renamed before it booted) and may still confirm */
	CHECK(sd->mark_good(&env, PKG_SLOT_B) == 0);
	CHECK(sd->read(&env, v, &running) == 0 && v[1].health == SLOT_GOOD);
	CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", NULL), "");
}

static void mark_good_without_an_entry_is_refused(void)
{
	esp_first_flash();
	CHECK(sd->disarm(&env, PKG_SLOT_B) == 0);
	CHECK(sd->mark_good(&env, PKG_SLOT_B) < 0);
	CHECK(strstr(err_msg(), "no trial entry") != NULL);
}

/* One update with a power cut after k file operations, for every k. */
static void power_cut_anywhere(const struct slot_boot *b, const char *initrd)
{
	long k;
	for (k = 0; k < 1000; k++) {
		esp_first_flash();
		power_on(k);
		int rc = update_to_b(b);
		int finished = rc == 0 && !cut;
		int armed = armed_entry_written;
		power_on(-1);
		const char *r = armed ? boots('b', "kernel B2", initrd, NULL)
				      : boots('a', "kernel A1", NULL, NULL);
		if (r[0]) {
			fprintf(stderr, "  cut after %ld operations (armed %d): %s\n", k, armed, r);
			CHECK(0);
		}
		CHECK(same_file("loader/entries/selfflash-slot-a.conf", entry_a1));
		/* the update after the next start succeeds and boots the new slot */
		if (update_to_b(b) < 0) {
			fprintf(stderr, "  cut after %ld: re-run: %s\n", k, err_msg());
			CHECK(0);
		}
		CHECK_STR_EQ(boots('b', "kernel B2", initrd, NULL), "");
		if (finished)
			break;
	}
	/* disarm, two files installed, the entry: far more than a handful of cut points */
	CHECK(k > 10 && k < 1000);
}

static void power_cut_at_every_operation(void)
{
	power_cut_anywhere(&boot_b2, "initrd B2");
}

/* mark_good cut after k operations, for every k: slot B (on trial) boots whatever happened. */
static void power_cut_during_mark_good(void)
{
	long k;
	for (k = 0; k < 100; k++) {
		esp_first_flash();
		power_on(-1);
		CHECK(update_to_b(&boot_b2) == 0);
		power_on(k);
		int rc = slot_backend_systemd_boot.mark_good(&env, PKG_SLOT_B);
		int finished = rc == 0 && !cut;
		power_on(-1);
		const char *r = boots('b', "kernel B2", "initrd B2", NULL);
		if (r[0]) {
			fprintf(stderr, "  mark_good cut after %ld operations: %s\n", k, r);
			CHECK(0);
		}
		/* the next start confirms it for good */
		CHECK(slot_backend_systemd_boot.mark_good(&env, PKG_SLOT_B) == 0);
		CHECK(exists("loader/entries/selfflash-slot-b.conf"));
		if (finished)
			break;
	}
	CHECK(k > 2 && k < 100);
}

static void power_cut_at_every_operation_without_initrd(void)
{
	struct slot_boot b = boot_b2;
	b.ramdisk = NULL;
	b.ramdisk_len = 0;
	power_cut_anywhere(&b, NULL);
	CHECK(!exists("selfflash/slot-b/initrd"));
}

/* A listing of every file with its bytes, to prove a refusal wrote nothing. */
static char *tree(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cd '%s' && find . -type f | LC_ALL=C sort | xargs -r sha256sum",
		 esp);
	FILE *p = popen(cmd, "r");
	char *buf = calloc(1, 65536);
	if (p) {
		fread(buf, 1, 65535, p);
		pclose(p);
	}
	return buf;
}

/* Every call must fail naming `names` and leave the ESP as it was. */
static int refused_unchanged(const char *names)
{
	char *before = tree();
	struct slot_view v[2];
	uint8_t running;
	int ok = 1;
	const char *what[] = { "read", "check", "disarm" };
	for (int i = 0; i < 3 && ok; i++) {
		if (i != 1 && strstr(names, "loader.conf"))
			continue; /* the update's check refuses it: read and disarm need no loader.conf */
		int rc = i == 0 ? sd->read(&env, v, &running)
			 : i == 1 ? sd->check(&env, PKG_SLOT_B)
				  : sd->disarm(&env, PKG_SLOT_B);
		if (rc == 0 || !strstr(err_msg(), names)) {
			fprintf(stderr, "  %s: rc %d, message '%s', expected one naming %s\n",
				what[i], rc, err_msg(), names);
			ok = 0;
		}
	}
	char *after = tree();
	if (strcmp(before, after) != 0) {
		fprintf(stderr, "  the ESP changed:\n%s---\n%s", before, after);
		ok = 0;
	}
	free(before);
	free(after);
	return ok;
}

static void hostile_two_entries_for_one_slot(void)
{
	esp_first_flash();
	/* not a copy of the confirmed entry: nobody knows which one should boot */
	put("loader/entries/selfflash-slot-a+2-1.conf", "%s# another system\n", entry_a1);
	CHECK(refused_unchanged("selfflash-slot-a"));
	CHECK(strstr(err_msg(), "two entries") != NULL);
}

/*
 * A confirm cut short: the confirmed entry was written beside the counted one it copies, which
 * was not removed yet. Both boot the same slot; it reads as confirmed, and mark_good (or a
 * disarm) removes the counted one. An empty entry file (a rename cut short on FAT) boots
 * nothing and reads as unbootable.
 */
static void interrupted_confirm_and_empty_entry(void)
{
	esp_first_flash();
	put("loader/entries/selfflash-slot-a+2-1.conf", "%s", entry_a1);
	struct slot_view v[2];
	uint8_t running;
	CHECK(slot_backend_systemd_boot.read(&env, v, &running) == 0);
	CHECK(v[0].health == SLOT_GOOD);
	CHECK(slot_backend_systemd_boot.mark_good(&env, PKG_SLOT_A) == 0);
	CHECK(!exists("loader/entries/selfflash-slot-a+2-1.conf"));
	CHECK(same_file("loader/entries/selfflash-slot-a.conf", entry_a1));
	char path[512];
	snprintf(path, sizeof(path), "%s/loader/entries/selfflash-slot-b.conf", esp);
	CHECK(unlink(path) == 0);
	put("loader/entries/selfflash-slot-b+3.conf", "%s", "");
	CHECK(slot_backend_systemd_boot.read(&env, v, &running) == 0);
	CHECK(v[1].health == SLOT_UNBOOTABLE);
	CHECK_STR_EQ(boots('a', "kernel A1", NULL, NULL), "");
}

static void hostile_counter_out_of_range(void)
{
	esp_first_flash();
	put("loader/entries/selfflash-slot-a+99999999999999999999.conf", "%s", entry_a1);
	unlink(strcat(strcpy((char[512]){ 0 }, esp), "/loader/entries/selfflash-slot-a.conf"));
	CHECK(refused_unchanged("selfflash-slot-a+99999999999999999999.conf"));
	CHECK(strstr(err_msg(), "counter") != NULL);
}

static void hostile_entry_of_one_mib(void)
{
	esp_first_flash();
	char *big = malloc(1 << 20);
	memset(big, '#', 1 << 20);
	big[(1 << 20) - 1] = '\0';
	put("loader/entries/selfflash-slot-b.conf", "%s\n", big);
	free(big);
	CHECK(refused_unchanged("loader/entries/selfflash-slot-b.conf"));
	CHECK(strstr(err_msg(), "1048576 bytes") != NULL);
}

static void hostile_malformed_line(void)
{
	esp_first_flash();
	put("loader/entries/selfflash-slot-b.conf", "%sversion 0\n", entry_a1);
	CHECK(refused_unchanged("loader/entries/selfflash-slot-b.conf line "));
}

static void hostile_default_pins_slot_a(void)
{
	esp_first_flash();
	put("loader/loader.conf", "timeout 0\n\ndefault selfflash-slot-a.conf\neditor no\n");
	CHECK(refused_unchanged("loader/loader.conf line 3: 'default selfflash-slot-a.conf'"));
	CHECK(strstr(err_msg(), "remove the line") != NULL);
	/* why: the pinned entry wins even when the model would otherwise fall back */
	CHECK_STR_EQ(boots('a', "kernel A1", NULL, NULL), "");
}

static void hostile_foreign_entry_refused_by_check(void)
{
	esp_first_flash();
	put("loader/entries/debian.conf", "title Debian\nlinux /selfflash/slot-a/Image\n");
	char *before = tree();
	CHECK(sd->check(&env, PKG_SLOT_B) < 0);
	CHECK(strstr(err_msg(), "loader/entries/debian.conf") != NULL);
	char *after = tree();
	int same = strcmp(before, after) == 0;
	free(before);
	free(after);
	CHECK(same);
}

static void hostile_missing_esp_or_entries(void)
{
	esp_first_flash();
	char path[600];
	snprintf(path, sizeof(path), "rm -rf '%s/loader/entries'", esp);
	CHECK(system(path) == 0);
	CHECK(sd->check(&env, PKG_SLOT_B) < 0 && strstr(err_msg(), "loader/entries") != NULL);
	struct slot_env gone = env;
	gone.esp = "/nonexistent/esp";
	CHECK(sd->check(&gone, PKG_SLOT_B) < 0 && strstr(err_msg(), "/nonexistent/esp") != NULL);
}

static void hostile_cmdline_with_newline(void)
{
	struct slot_boot b = boot_b2;
	b.cmdline = "quiet\ninitrd /evil";
	esp_first_flash();
	CHECK(sd->disarm(&env, PKG_SLOT_B) == 0);
	char *before = tree();
	CHECK(sd->install(&env, PKG_SLOT_B, &b) < 0);
	CHECK(strstr(err_msg(), "command line byte 5 is a newline") != NULL);
	CHECK(sd->arm(&env, PKG_SLOT_B, &b) < 0);
	CHECK(strstr(err_msg(), "newline") != NULL);
	char *after = tree();
	int same = strcmp(before, after) == 0;
	free(before);
	free(after);
	CHECK(same);
}

static void arm_refuses_a_slot_still_armed_or_not_installed(void)
{
	esp_first_flash();
	CHECK(sd->arm(&env, PKG_SLOT_B, &boot_b2) < 0);
	CHECK(strstr(err_msg(), "still has an entry") != NULL);
	CHECK(sd->install(&env, PKG_SLOT_B, &boot_b2) < 0);
	CHECK(sd->disarm(&env, PKG_SLOT_B) == 0);
	/* slot b's files are still the first flash's: arming them would boot the old kernel */
	CHECK(sd->arm(&env, PKG_SLOT_B, &boot_b2) < 0);
	CHECK(strstr(err_msg(), "slot b not installed") != NULL);
	CHECK(!exists("loader/entries/selfflash-slot-b+3.conf"));
}

static void entry_text_is_the_contract(void)
{
	char text[BLS_ENTRY_MAX + 1];
	size_t len;
	struct bls_entry e;
	struct slot_boot b = boot_b2;
	CHECK(bls_entry_format(text, sizeof(text), 1, &b, 3, &len) == 0);
	CHECK_STR_EQ(text, "title      selfflash slot B, system version 8\n"
			   "sort-key   selfflash\n"
			   "version    3\n"
			   "linux      /selfflash/slot-b/Image\n"
			   "initrd     /selfflash/slot-b/initrd\n"
			   "options    root=PARTLABEL=APP_b console=ttyAMA0 quiet\n"
			   "# selfflash system-version 8\n");
	CHECK(bls_entry_parse(text, len, "x", 1, &e) == 0);
	CHECK(e.generation == 3 && e.has_initrd && e.has_system_version && e.system_version == 8);
	CHECK(bls_entry_parse(text, len, "x", 0, &e) < 0); /* slot b's paths are not slot a's */
	b.cmdline = "";
	b.ramdisk = NULL;
	CHECK(bls_entry_format(text, sizeof(text), 0, &b, 18446744073709551615ull, &len) == 0);
	CHECK(strstr(text, "options    root=PARTLABEL=APP_b\n") && !strstr(text, "initrd"));
	CHECK(strstr(text, "version    18446744073709551615\n"));
}

static void entry_names(void)
{
	struct bls_name n;
	CHECK(bls_name_parse("selfflash-slot-a.conf", &n) == 1 && n.slot == 0 && !n.has_counter);
	CHECK(bls_name_parse("selfflash-slot-b+3.conf", &n) == 1 && n.slot == 1 &&
	      n.tries_left == 3 && n.tries_done == 0);
	CHECK(bls_name_parse("selfflash-slot-b+0-12.conf", &n) == 1 && n.tries_left == 0 &&
	      n.tries_done == 12);
	CHECK(bls_name_parse("selfflash-slot-b+3.conf.tmp", &n) == 1 && n.is_tmp);
	CHECK(bls_name_parse("debian.conf", &n) == 0);
	CHECK(bls_name_parse("selfflash-slot-c.conf", &n) < 0);
	CHECK(bls_name_parse("selfflash-slot-a+.conf", &n) < 0);
	CHECK(bls_name_parse("selfflash-slot-a+2-.conf", &n) < 0);
	CHECK(bls_name_parse("selfflash-slot-a+2147483648.conf", &n) < 0);
	CHECK(bls_name_parse("selfflash-slot-a+2147483647.conf", &n) == 1);
	CHECK(bls_name_parse("selfflash-slot-a+1-1+2.conf", &n) < 0);
	CHECK(bls_name_parse("selfflash-slot-a.conf.new", &n) < 0);
	CHECK(strstr(err_msg(), "selfflash-slot-a.conf.new") != NULL);
}

/* Every file of the ESP and of the variables, for "a refusal wrote nothing". */
static char *esp_and_vars_state(void)
{
	char cmd[900];
	snprintf(cmd, sizeof(cmd), "cd '%s' && find . '%s' -type f | sort | xargs sha256sum", esp,
		 vars);
	FILE *p = popen(cmd, "r");
	char *buf = calloc(1, 1 << 16);
	if (p) {
		fread(buf, 1, (1 << 16) - 1, p);
		pclose(p);
	}
	return buf;
}

/* check refuses with `want` in its message and writes nothing. */
static void refused_by_check(const char *want)
{
	char *before = esp_and_vars_state();
	CHECK(sd->check(&env, PKG_SLOT_B) < 0);
	if (!strstr(err_msg(), want)) {
		fprintf(stderr, "  message: %s (expected '%s')\n", err_msg(), want);
		CHECK(0);
	}
	char *after = esp_and_vars_state();
	CHECK_STR_EQ(after, before);
	free(before);
	free(after);
}

/* The root partition says slot A runs, systemd-boot says it booted B: a mix, refused. */
static void loader_booted_the_target_slot_refused(void)
{
	esp_first_flash();
	loader_var_put("LoaderEntrySelected", "selfflash-slot-b.conf");
	refused_by_check("booted slot b's entry");
	/* v252 keeps the boot counter in the ID: still slot B */
	loader_var_put("LoaderEntrySelected", "selfflash-slot-b+2-1.conf");
	refused_by_check("booted slot b's entry");
	loader_var_put("LoaderEntrySelected", "debian-6.1.conf");
	refused_by_check("not a slot's");
	char path[600];
	snprintf(path, sizeof(path), "%s/LoaderEntrySelected-%s", vars, LOADER_GUID);
	CHECK(unlink(path) == 0);
	refused_by_check("no LoaderEntrySelected");
	/* the counted ID of slot A's trial entry names slot A */
	loader_var_put("LoaderEntrySelected", "selfflash-slot-a+3.conf");
	CHECK(sd->check(&env, PKG_SLOT_B) == 0);
}

/* `bootctl set-default` pins an entry over the tries: the new slot would never boot on trial
 * (pinned A) or its bad entry would boot for ever (pinned B); refused, with the fix. */
static void loader_entry_default_refused(void)
{
	esp_first_flash();
	loader_var_put("LoaderEntryDefault", "selfflash-slot-a.conf");
	refused_by_check("bootctl set-default \"\"");
	loader_var_put("LoaderEntryDefault", "");
	CHECK(sd->check(&env, PKG_SLOT_B) == 0);
}

/* `bootctl set-oneshot` would boot another entry before the trial: arm clears it. */
static void loader_entry_oneshot_cleared_at_arm(void)
{
	esp_first_flash();
	loader_var_put("LoaderEntryOneShot", "selfflash-slot-a.conf");
	CHECK(sd->check(&env, PKG_SLOT_B) == 0 && sd->disarm(&env, PKG_SLOT_B) == 0 &&
	      sd->install(&env, PKG_SLOT_B, &boot_b2) == 0);
	CHECK(loader_var_exists("LoaderEntryOneShot")); /* only the last step, arm, clears it */
	CHECK(sd->arm(&env, PKG_SLOT_B, &boot_b2) == 0);
	CHECK(!loader_var_exists("LoaderEntryOneShot"));
	CHECK_STR_EQ(boots('b', "kernel B2", "initrd B2", NULL), "");
}

/* A unified kernel image in /EFI/Linux is in systemd-boot's menu and may be its default. */
static void uki_in_efi_linux_refused(void)
{
	esp_first_flash();
	char path[600];
	snprintf(path, sizeof(path), "%s/EFI/Linux", esp);
	CHECK(mkdir(path, 0755) == 0);
	put("EFI/Linux/.hidden.efi", "skipped by systemd-boot");
	put("EFI/Linux/readme.txt", "not an image");
	CHECK(sd->check(&env, PKG_SLOT_B) == 0);
	put("EFI/Linux/debian-6.1.EFI", "MZ stand-in for a unified kernel image");
	refused_by_check("EFI/Linux/debian-6.1.EFI: a unified kernel image");
}

/* LoaderEntries as systemd-boot writes it: identifiers, each NUL-terminated UTF-16LE. */
static void loader_entries_put(const char *const *ids, size_t count)
{
	loader_strings_put("LoaderEntries", ids, count);
}

/* An XBOOTLDR partition's entries are sorted with the slots' but not on the ESP: the running
 * system sees them only in LoaderEntries. Foreign ones are refused; the slots' (with or
 * without boot counters) and the entries systemd-boot puts after them are not. */
static void loader_entries_from_xbootldr_refused(void)
{
	esp_first_flash();
	static const char *const fine[] = { "selfflash-slot-b+2-1.conf", "selfflash-slot-a.conf",
					    "auto-efi-shell", "auto-reboot-to-firmware-setup",
					    "secure-boot-keys-db" };
	loader_entries_put(fine, 5);
	CHECK(sd->check(&env, PKG_SLOT_B) == 0);
	static const char *const xbootldr[] = { "selfflash-slot-a.conf", "debian-6.1.0-13-arm64.conf",
						"auto-efi-shell" };
	loader_entries_put(xbootldr, 3);
	refused_by_check("entry \"debian-6.1.0-13-arm64.conf\" at this boot (LoaderEntries)");
	static const char *const uki[] = { "selfflash-slot-a.conf", "linux-6.1.efi" };
	loader_entries_put(uki, 2);
	refused_by_check("\"linux-6.1.efi\"");
	/* a list of 600 identifiers (a board with many kernels) is read whole, not refused */
	static char many[600][32];
	const char *many_ids[600];
	for (int i = 0; i < 600; i++) {
		snprintf(many[i], sizeof(many[i]), "auto-entry-%d", i);
		many_ids[i] = many[i];
	}
	snprintf(many[599], sizeof(many[599]), "kernel-5.%d.conf", 599);
	loader_entries_put(many_ids, 600);
	refused_by_check("\"kernel-5.599.conf\"");
	char path[600];
	snprintf(path, sizeof(path), "%s/LoaderEntries-%s", vars, LOADER_GUID);
	CHECK(unlink(path) == 0);
	CHECK(sd->check(&env, PKG_SLOT_B) == 0);
}

/* The floor: the newest version ever confirmed, on the ESP; it never goes down. */
static void mark_good_raises_the_floor_never_lowers_it(void)
{
	int known = 9;
	uint64_t floor = 0;
	esp_first_flash();
	CHECK(sd->read_floor(&env, &known, &floor) == 0 && !known);
	CHECK(sd->mark_good(&env, PKG_SLOT_A) == 0); /* the first flash's slot: version 7 */
	CHECK(sd->read_floor(&env, &known, &floor) == 0 && known && floor == 7);
	CHECK(update_to_b(&boot_b2) == 0 && sd->mark_good(&env, PKG_SLOT_B) == 0);
	CHECK(sd->read_floor(&env, &known, &floor) == 0 && known && floor == 8);
	CHECK(same_file(SLOT_FLOOR_FILE_FOR_TEST, "8\n"));
	/* a downgrade to 5 (allowed by hand) confirmed: the floor stays at 8 */
	struct slot_boot old = boot_b2;
	old.version = 5;
	loader_var_put("LoaderEntrySelected", "selfflash-slot-b.conf");
	CHECK(sd->check(&env, PKG_SLOT_A) == 0 && sd->disarm(&env, PKG_SLOT_A) == 0);
	old.root_partition = "APP";
	CHECK(sd->install(&env, PKG_SLOT_A, &old) == 0 && sd->arm(&env, PKG_SLOT_A, &old) == 0);
	CHECK(sd->mark_good(&env, PKG_SLOT_A) == 0);
	CHECK(sd->read_floor(&env, &known, &floor) == 0 && known && floor == 8);
	put(SLOT_FLOOR_FILE_FOR_TEST, "8 or so\n");
	CHECK(sd->read_floor(&env, &known, &floor) < 0);
	CHECK(strstr(err_msg(), "not a decimal digit") != NULL);
}

/* For tests/host/slot_sdboot_bootctl.sh: leaves an ESP after an update (and confirmation). */
static int leave_esp(const char *dir, int confirm)
{
	snprintf(esp, sizeof(esp), "%s", dir);
	env.esp = esp;
	env.tries = 3;
	env.log = stderr;
	char cmd[900];
	snprintf(vars, sizeof(vars), "%s-vars", dir);
	env.efivars = vars;
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/loader/entries' '%s/selfflash/slot-a' "
		 "'%s/selfflash/slot-b' '%s'", dir, dir, dir, vars);
	if (system(cmd) != 0)
		return 2;
	loader_var_put("LoaderEntrySelected", "selfflash-slot-a.conf");
	put("loader/loader.conf", "timeout 0\neditor no\n");
	put("selfflash/slot-a/Image", "kernel A1");
	put("selfflash/slot-b/Image", "kernel B1");
	put("loader/entries/selfflash-slot-a.conf", "%s", entry_a1);
	if (update_to_b(&boot_b2) < 0 || (confirm && sd->mark_good(&env, PKG_SLOT_B) < 0)) {
		fprintf(stderr, "%s\n", err_msg());
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--esp-update"))
		return leave_esp(argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "--esp-mark-good"))
		return leave_esp(argv[2], 1);
	logf_ = fopen("/dev/null", "w");
	RUN(entry_names);
	RUN(entry_text_is_the_contract);
	RUN(first_flash_boots_a_and_reads_both_good);
	RUN(update_boots_new_slot_on_trial_then_confirmed);
	RUN(unconfirmed_slot_falls_back_after_its_tries);
	RUN(last_try_can_be_confirmed);
	RUN(mark_good_without_an_entry_is_refused);
	RUN(interrupted_confirm_and_empty_entry);
	RUN(power_cut_at_every_operation);
	RUN(power_cut_during_mark_good);
	RUN(power_cut_at_every_operation_without_initrd);
	RUN(hostile_two_entries_for_one_slot);
	RUN(hostile_counter_out_of_range);
	RUN(hostile_entry_of_one_mib);
	RUN(hostile_malformed_line);
	RUN(hostile_default_pins_slot_a);
	RUN(hostile_foreign_entry_refused_by_check);
	RUN(hostile_missing_esp_or_entries);
	RUN(hostile_cmdline_with_newline);
	RUN(arm_refuses_a_slot_still_armed_or_not_installed);
	RUN(loader_booted_the_target_slot_refused);
	RUN(loader_entry_default_refused);
	RUN(loader_entry_oneshot_cleared_at_arm);
	RUN(uki_in_efi_linux_refused);
	RUN(loader_entries_from_xbootldr_refused);
	RUN(mark_good_raises_the_floor_never_lowers_it);
	if (esp[0]) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s-vars'", esp, esp);
		if (system(cmd) != 0)
			return 2;
	}
	fclose(logf_);
	return CHECK_EXIT();
}
