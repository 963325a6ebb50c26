/* SPDX-License-Identifier: MIT */
/*
 * What the flasher does because it is PID 1 of an initramfs: mount the kernel filesystems,
 * give itself a console, and end by powering off or rebooting, never by exiting.
 */
#ifndef SELFFLASH_PID1_H
#define SELFFLASH_PID1_H

/*
 * Mounts proc on /proc, sysfs on /sys and devtmpfs on /dev (creating the directories),
 * then points stdin, stdout and stderr at /dev/console. A filesystem that is already
 * mounted is not an error. Returns 0, or -1 after printing what failed (the caller goes on:
 * a missing /proc must not stop a flash that does not need it).
 */
int pid1_mount_early(void);

/* How PID 1 ends. */
enum pid1_end {
	PID1_POWER_OFF,
	PID1_REBOOT,
	PID1_HALT,
	PID1_WAIT, /* stay up doing nothing (the host may retry) */
};

/* Syncs and ends the system as asked; never returns (if the kernel refuses, it waits). */
_Noreturn void pid1_end(enum pid1_end how);

#endif
