/* SPDX-License-Identifier: MIT */
/*
 * /sbin/init of the demo rootfs: says which slot booted (from /etc/slot) and with which kernel
 * command line, then powers the board off. Tests read these lines from the console.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#define SLOT_FILE "/etc/slot"

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

/* Reads a small text file into buf without its trailing newline; returns 0 or -1 (errno). */
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

static void report_slot(void)
{
	char slot[16];
	if (read_line(SLOT_FILE, slot, sizeof(slot)) != 0) {
		printf("selfflash-demo: %s: %s; expected a file holding A or B\n", SLOT_FILE,
		       strerror(errno));
		return;
	}
	if (strcmp(slot, "A") != 0 && strcmp(slot, "B") != 0) {
		printf("selfflash-demo: %s holds '%s'; expected A or B\n", SLOT_FILE, slot);
		return;
	}
	printf("selfflash-demo: booted slot %s\n", slot);
}

static void report_cmdline(void)
{
	char cmdline[4096];
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0 &&
	    errno != EBUSY) {
		printf("selfflash-demo: mount proc: %s; cannot show the command line\n",
		       strerror(errno));
		return;
	}
	if (read_line("/proc/cmdline", cmdline, sizeof(cmdline)) != 0) {
		printf("selfflash-demo: /proc/cmdline: %s\n", strerror(errno));
		return;
	}
	printf("selfflash-demo: cmdline: %s\n", cmdline);
}

int main(void)
{
	open_console();
	report_slot();
	report_cmdline();
	printf("selfflash-demo: powering off\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	/* PID 1 must not return (the kernel would panic); say why and wait */
	printf("selfflash-demo: reboot(RB_POWER_OFF) failed: %s\n", strerror(errno));
	fflush(stdout);
	for (;;)
		pause();
}
