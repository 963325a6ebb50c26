/* SPDX-License-Identifier: MIT */
/* PID 1 duties: early mounts, console, and ending the system instead of exiting. */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static int mount_one(const char *source, const char *target, const char *type,
		     unsigned long flags)
{
	if (mkdir(target, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "init: mkdir %s: %s\n", target, strerror(errno));
		return -1;
	}
	if (mount(source, target, type, flags, NULL) != 0 && errno != EBUSY) {
		fprintf(stderr, "init: mount %s on %s: %s\n", type, target, strerror(errno));
		return -1;
	}
	return 0;
}

static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return; /* keep whatever the kernel gave us */
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
	/* the console is a slow UART: line buffering keeps lines whole and in order */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

int pid1_mount_early(void)
{
	int rc = 0;
	rc |= mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	rc |= mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	rc |= mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID);
	open_console();
	return rc ? -1 : 0;
}

_Noreturn void pid1_end(enum pid1_end how)
{
	fflush(NULL);
	sync();
	if (how == PID1_WAIT) {
		fprintf(stderr, "init: waiting; power-cycle the board or retry from the host\n");
		for (;;)
			pause();
	}
	reboot(how == PID1_REBOOT ? RB_AUTOBOOT : how == PID1_HALT ? RB_HALT_SYSTEM : RB_POWER_OFF);
	/* PID 1 must not exit (the kernel would panic); say why we are stuck and wait */
	fprintf(stderr, "init: reboot(2) failed: %s; halting here\n", strerror(errno));
	for (;;)
		pause();
}
