/* SPDX-License-Identifier: MIT */
/*
 * /sbin/init of the demo system (one image for both slots): finds its slot from the GPT name
 * of the partition it was booted from, says so, confirms the slot with `selfflash mark-good`
 * (unless built broken), shows `selfflash status`, brings up the NIC QEMU may give it (an
 * https:// update needs it), runs the command QEMU passes in fw_cfg (an update) and reboots,
 * or powers off. Tests and scripts/demo-update.sh read its lines from the console. Nothing
 * here may end PID 1: every failure is printed and the boot goes on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo-net.h"

#define SELFFLASH "/usr/sbin/selfflash"
#define SYSTEM_VERSION_FILE "/etc/selfflash/system-version"
/* present only in a system built with rootfs/build.sh --broken */
#define BROKEN_FILE "/etc/selfflash/broken"
#define ESP_MOUNT "/boot/efi"
#define ESP_PARTNAME "esp"
/* what the host asks this boot to do: qemu/run-normal.sh --command TEXT */
#define COMMAND_FILE "/sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/command/raw"
#define MAX_COMMAND_ARGS 32

/* The root is a disk filesystem, not an initramfs: nothing has mounted devtmpfs, and the
 * kernel found no /dev/console to give us unless the image carries one. Mount it ourselves;
 * EBUSY means someone (CONFIG_DEVTMPFS_MOUNT) already did. */
static void open_console(void)
{
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL) != 0 && errno != EBUSY)
		return; /* keep whatever the kernel gave us; the message below may still get out */
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void mount_api(const char *type, const char *where)
{
	if (mount(type, where, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0 &&
	    errno != EBUSY)
		printf("selfflash-demo: mount %s on %s: %s\n", type, where, strerror(errno));
}

/* What the kernel and firmware offer, mounted where programs look for them. The root is
 * read-only, so /run and /tmp are tmpfs; efivarfs holds what systemd-boot says it booted
 * (LoaderEntrySelected) and is absent when the kernel was not started by UEFI. */
static void mount_api_filesystems(void)
{
	mount_api("proc", "/proc");
	mount_api("sysfs", "/sys");
	mount_api("tmpfs", "/run");
	mount_api("tmpfs", "/tmp");
	if (access("/sys/firmware/efi/efivars", F_OK) == 0)
		mount_api("efivarfs", "/sys/firmware/efi/efivars");
}

/* Reads a small text file into buf, cut at its first newline; returns 0 or -1 (errno). */
static int read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The value of KEY= in a sysfs uevent file into buf; 0, or -1 when the file or key is absent. */
static int uevent_value(const char *uevent_path, const char *key, char *buf, size_t size)
{
	char text[4096];
	int fd = open(uevent_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	size_t key_len = strlen(key);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, key, key_len) == 0 && line[key_len] == '=') {
			snprintf(buf, size, "%s", line + key_len + 1);
			return 0;
		}
	}
	return -1;
}

struct root_partition {
	char sysfs[PATH_MAX]; /* /sys/dev/block/MAJ:MIN, the partition the root lives on */
	char name[64];        /* its GPT name (PARTNAME) */
	char slot;            /* 'A', 'B', or '?' when the name is not a slot's */
};

/* The slot is the partition the kernel mounted as root: APP is slot A, APP_b slot B (the
 * names NVIDIA's layouts give them). Both slots hold the same image, so nothing inside it
 * can say which one it is. */
static void find_root_partition(struct root_partition *root)
{
	struct stat st;
	char uevent[PATH_MAX + 16];
	root->slot = '?';
	root->name[0] = '\0';
	root->sysfs[0] = '\0';
	if (stat("/", &st) != 0) {
		printf("selfflash-demo: stat /: %s; slot unknown\n", strerror(errno));
		return;
	}
	snprintf(root->sysfs, sizeof(root->sysfs), "/sys/dev/block/%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	snprintf(uevent, sizeof(uevent), "%s/uevent", root->sysfs);
	if (uevent_value(uevent, "PARTNAME", root->name, sizeof(root->name)) != 0) {
		printf("selfflash-demo: / is on device %u:%u, which is no named disk partition "
		       "(%s has no PARTNAME); slot unknown\n",
		       major(st.st_dev), minor(st.st_dev), uevent);
		root->sysfs[0] = '\0';
		return;
	}
	if (strcmp(root->name, "APP") == 0)
		root->slot = 'A';
	else if (strcmp(root->name, "APP_b") == 0)
		root->slot = 'B';
	else
		printf("selfflash-demo: / is on partition '%s'; expected APP (slot A) or APP_b "
		       "(slot B)\n", root->name);
}

static void report_cmdline(void)
{
	char cmdline[4096];
	if (read_line("/proc/cmdline", cmdline, sizeof(cmdline)) != 0) {
		printf("selfflash-demo: /proc/cmdline: %s\n", strerror(errno));
		return;
	}
	printf("selfflash-demo: cmdline: %s\n", cmdline);
}

/* The ESP's device, once found. */
static char esp_dev[128];

/*
 * Mounts the ESP of the disk the root is on (the sibling partition named "esp") at /boot/efi,
 * where selfflash's boot-slot backend keeps the loader entries: read-only, so that a boot
 * that changes nothing leaves its bytes as they were (a read-write vfat mount marks the
 * volume dirty and updates access dates). 0 or -1.
 */
static int mount_esp(const struct root_partition *root)
{
	char disk[PATH_MAX], path[PATH_MAX + 300], name[64], devname[64], dev[128];
	snprintf(path, sizeof(path), "%s/..", root->sysfs);
	if (!realpath(path, disk)) {
		printf("selfflash-demo: ESP: %s: %s; not mounted\n", path, strerror(errno));
		return -1;
	}
	DIR *d = opendir(disk);
	if (!d) {
		printf("selfflash-demo: ESP: %s: %s; not mounted\n", disk, strerror(errno));
		return -1;
	}
	devname[0] = '\0';
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/uevent", disk, e->d_name);
		if (uevent_value(path, "PARTNAME", name, sizeof(name)) == 0 &&
		    strcmp(name, ESP_PARTNAME) == 0 &&
		    uevent_value(path, "DEVNAME", devname, sizeof(devname)) == 0)
			break;
		devname[0] = '\0';
	}
	closedir(d);
	if (!devname[0]) {
		printf("selfflash-demo: ESP: no partition named '%s' on %s; not mounted\n",
		       ESP_PARTNAME, disk);
		return -1;
	}
	snprintf(dev, sizeof(dev), "/dev/%s", devname);
	snprintf(esp_dev, sizeof(esp_dev), "%s", dev);
	if (mount(dev, ESP_MOUNT, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		printf("selfflash-demo: ESP: mount %s (vfat) on %s: %s\n", dev, ESP_MOUNT,
		       strerror(errno));
		return -1;
	}
	printf("selfflash-demo: ESP %s mounted on %s (read-only until something must change)\n",
	       dev, ESP_MOUNT);
	return 0;
}

/* The ESP made writable (rw 1) for a change, or read-only again (rw 0). 0 or -1, said. */
static int esp_writable(int rw)
{
	unsigned long flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME;
	if (!rw) {
		sync();
		flags |= MS_RDONLY;
	}
	if (mount(esp_dev, ESP_MOUNT, "vfat", flags, NULL) != 0) {
		printf("selfflash-demo: ESP: remount %s %s: %s\n", ESP_MOUNT,
		       rw ? "read-write" : "read-only", strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 when the slot's loader entry carries a boot counter (on trial: mark-good has work). */
static int slot_on_trial(char slot)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "selfflash-slot-%c+", slot == 'B' ? 'b' : 'a');
	DIR *d = opendir(ESP_MOUNT "/loader/entries");
	int found = 0;
	for (struct dirent *e; d && !found && (e = readdir(d)) != NULL;)
		found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return found;
}

/* Runs selfflash with args (NULL-terminated, args[0] the first argument after the program),
 * its output straight to the console; returns its exit status, or -1 when it did not run to
 * an exit (said on the console). */
static int run_selfflash(char *const args[])
{
	char *argv[MAX_COMMAND_ARGS + 2];
	int n = 0;
	argv[n++] = SELFFLASH;
	for (int i = 0; args[i] && n < MAX_COMMAND_ARGS + 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(stdout);
	pid_t child = fork();
	if (child < 0) {
		printf("selfflash-demo: fork for %s: %s\n", SELFFLASH, strerror(errno));
		return -1;
	}
	if (child == 0) {
		execv(SELFFLASH, argv);
		printf("selfflash-demo: exec %s: %s\n", SELFFLASH, strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			printf("selfflash-demo: waitpid: %s\n", strerror(errno));
			return -1;
		}
	}
	if (WIFSIGNALED(status)) {
		printf("selfflash-demo: %s %s: killed by signal %d\n", SELFFLASH, args[0],
		       WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/*
 * The boot-time step: `selfflash mark-good` on every healthy boot, not only after an update.
 * On a T234 the firmware takes a try on every boot and gives the tries back only when the
 * running system confirms (tegra backend); on systemd-boot a confirmed entry makes it a no-op
 * that writes nothing, so the ESP is made writable only while the slot is on trial.
 */
static void confirm_slot(char slot)
{
	if (access(BROKEN_FILE, F_OK) == 0) {
		printf("selfflash-demo: this system is deliberately broken: slot %c is not "
		       "confirmed (no mark-good); the boot loader's tries run out\n", slot);
		return;
	}
	const int trial = slot_on_trial(slot);
	char *args[] = { "mark-good", NULL };
	int rc = !trial || esp_writable(1) == 0 ? run_selfflash(args) : -1;
	if (trial)
		esp_writable(0);
	if (rc == 0)
		printf("selfflash-demo: mark-good: slot %c confirmed%s\n", slot,
		       trial ? "" : " (it was already)");
	else
		printf("selfflash-demo: mark-good: FAILED (exit status %d); slot %c is not "
		       "confirmed\n", rc, slot);
}

/* The fw_cfg command, split on spaces into args (pointers into text); the count, 0 for none. */
static int read_command(char *text, size_t size, char *args[MAX_COMMAND_ARGS + 1])
{
	if (read_line(COMMAND_FILE, text, size) != 0)
		return 0;
	int n = 0;
	for (char *word = strtok(text, " \t"); word; word = strtok(NULL, " \t")) {
		if (n == MAX_COMMAND_ARGS) {
			printf("selfflash-demo: command: more than %d words; the rest is ignored\n",
			       MAX_COMMAND_ARGS);
			break;
		}
		args[n++] = word;
	}
	args[n] = NULL;
	return n;
}

static void unmount_esp(int mounted)
{
	sync();
	if (mounted && umount(ESP_MOUNT) != 0)
		printf("selfflash-demo: umount %s: %s\n", ESP_MOUNT, strerror(errno));
}

int main(void)
{
	open_console();
	mount_api_filesystems();

	char version[32];
	if (read_line(SYSTEM_VERSION_FILE, version, sizeof(version)) != 0 || !version[0])
		snprintf(version, sizeof(version), "?");
	struct root_partition root;
	find_root_partition(&root);
	printf("selfflash-demo: booted slot %c (system version %s)\n", root.slot, version);
	report_cmdline();
	demo_clock_report();

	int esp_mounted = 0;
	char command[1024], *args[MAX_COMMAND_ARGS + 1];
	int nargs = 0;
	if (root.slot == '?') {
		/* booted from an initramfs (hostload --boot-only) or a foreign partition: no
		 * slot to confirm, and the disk is left as it is */
		printf("selfflash-demo: not booted from a slot; no mark-good, no status\n");
	} else {
		esp_mounted = mount_esp(&root) == 0;
		if (esp_mounted)
			confirm_slot(root.slot);
		else
			printf("selfflash-demo: mark-good: no ESP, slot %c not confirmed\n", root.slot);
		char *status_args[] = { "status", NULL };
		int rc = run_selfflash(status_args);
		if (rc != 0)
			printf("selfflash-demo: status: exit status %d\n", rc);
		nargs = read_command(command, sizeof(command), args);
	}
	demo_net_up();
	if (nargs > 0) {
		printf("selfflash-demo: running the host's command: %s", SELFFLASH);
		for (int i = 0; i < nargs; i++)
			printf(" %s", args[i]);
		printf("\n");
		int rc = !esp_mounted || esp_writable(1) == 0 ? run_selfflash(args) : -1;
		printf("selfflash-demo: command finished: exit status %d\n", rc);
		unmount_esp(esp_mounted);
		printf("selfflash-demo: rebooting\n");
		fflush(stdout);
		sync();
		reboot(RB_AUTOBOOT);
		printf("selfflash-demo: reboot(RB_AUTOBOOT) failed: %s\n", strerror(errno));
	} else {
		unmount_esp(esp_mounted);
		printf("selfflash-demo: powering off\n");
		fflush(stdout);
		sync();
		reboot(RB_POWER_OFF);
		printf("selfflash-demo: reboot(RB_POWER_OFF) failed: %s\n", strerror(errno));
	}
	/* PID 1 must not return (the kernel would panic); say why and wait */
	fflush(stdout);
	for (;;)
		pause();
}
