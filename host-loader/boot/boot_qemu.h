/* SPDX-License-Identifier: MIT */
/*
 * The QEMU board as a boot backend: what `hostload rcm --qemu` starts instead of sending files
 * over Tegra RCM. RCM mode is QEMU's -kernel/-initrd; the QSPI image sits on pflash unit 1
 * (unit 0 would make QEMU boot from flash), the disk on NVMe, the link is a virtio-serial
 * port named selfflash.link whose chardev connects (and reconnects) to hostload's socket, and
 * the module EEPROM and chip SKU come through fw_cfg (DESIGN.md §7).
 */
#ifndef SELFFLASH_BOOT_QEMU_H
#define SELFFLASH_BOOT_QEMU_H

#include <sys/types.h>

struct qemu_board {
	const char *kernel, *initrd; /* what RCM boots */
	const char *qspi;            /* 64 MiB image */
	const char *disk;            /* NVMe image */
	const char *eeprom;          /* module EEPROM image, or NULL */
	const char *chip_sku;        /* e.g. "D0", or NULL */
	const char *append;          /* extra kernel command line, or NULL */
	const char *link_socket;     /* hostload's unix socket, or NULL (boot only) */
	const char *console;         /* file for the board's console; NULL: this terminal */
	const char *qemu;            /* NULL: qemu-system-aarch64 from PATH */
};

/* Checks the images (the QSPI must be exactly 64 MiB) and starts QEMU; 0 with *pid, or -1. */
int qemu_board_start(const struct qemu_board *b, pid_t *pid);

/*
 * Waits up to timeout_ms for QEMU to exit: 1 with *status (QEMU's exit code) when it did,
 * 0 when it is still running, -1 on error.
 */
int qemu_board_wait(pid_t pid, unsigned timeout_ms, int *status);

/*
 * The board's own words when it stopped before the link was up (a module missing from the
 * initrd, no EEPROM): the last "flasher: FAILED: " line of b->console, made printable, into
 * line (size > 0). 1 when there is one; 0 when there is none or no console file.
 */
int qemu_board_console_failure(const struct qemu_board *b, char *line, size_t size);

/* Stops QEMU (SIGTERM, then SIGKILL) and reaps it. */
void qemu_board_kill(pid_t pid);

#endif
