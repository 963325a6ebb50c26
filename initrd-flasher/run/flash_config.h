/* SPDX-License-Identifier: MIT */
/* What a flash or an update is told to do: the command line's and flasher.conf's settings. */
#ifndef SELFFLASH_FLASH_CONFIG_H
#define SELFFLASH_FLASH_CONFIG_H

#include <stdio.h>

#include "pkg.h"
#include "plan.h"
#include "board/usb_gadget.h"

/* A day: a 1.3 GiB package takes about 3 h at 1 Mbit/s, and no fleet waits longer than this
 * for a board that never finishes. */
#define FLASH_RUN_TIMEOUT_DEFAULT_S 86400u
/* --run-timeout takes at most this many seconds (30 days) */
#define FLASH_RUN_TIMEOUT_MAX_S 2592000u

struct flash_config {
	/* where the package is: a file, a link spec (unix:, tcp:, virtio:, dev:, tty:,
	 * usb-gadget:: hostload serves it) or an http:// or https:// URL; the kind of source is
	 * picked from the text (source/package_source.h) */
	const char *source;
	const char *ca;       /* PEM trust anchors for https:// (package and report) */
	const char *report_url; /* where the result is POSTed as JSON at the end; NULL: nowhere */
	unsigned link_timeout_s; /* give up when the host (or web server) is gone this long (0: 10 min) */
	/* a package from a web server: the run stops fetching this long after it began, restarts
	 * included (0: FLASH_RUN_TIMEOUT_DEFAULT_S) */
	unsigned run_timeout_s;
	const char *pubkey;   /* trusted key (PEM); NULL only with allow_unsigned */
	int allow_unsigned;   /* development mode: accept an unsigned package, loudly */
	const char *eeprom;   /* module EEPROM image */
	const char *chip_sku; /* chip SKU as text, or NULL to read chip_sku_file */
	const char *chip_sku_file;
	struct flash_target_spec targets[PKG_MAX_TARGETS];
	size_t ntargets;
	int plan_only;
	int no_delta; /* fetch and write every chunk, even one the board already holds */
	int sequential; /* write the QSPI and then the disk, not both at once */
	const char *efivars; /* efivarfs to record the boot slot in; NULL: no boot-slot store */
	/* for a usb-gadget: link: ids and strings (zero/NULL: the defaults); serial NULL: the
	 * module EEPROM's */
	struct usb_gadget_opts usb;
	/* updates of a running board (update.h) */
	const char *slot_backend;   /* "systemd-boot" or "tegra" (slot_backend.h) */
	const char *esp;            /* where the ESP is mounted (systemd-boot's entries; tegra's
				     * capsule, EFI/UpdateCapsule) */
	const char *esrt;           /* tegra: the ESRT in sysfs; NULL: /sys/firmware/efi/esrt
				     * when efivars is /sys/firmware/efi/efivars */
	int boot_tries;             /* trial boots before falling back; 0: 3 */
	const char *rootfs_name;    /* slot A's rootfs partition; NULL: "APP" (NVIDIA's name) */
	int update_qspi;            /* an update also writes the inactive chain's QSPI firmware */
	const char *root_partition; /* the running root's partition name; NULL: from "/" */
	int allow_downgrade;        /* accept a package older than the installed system */
	/* tegra: the memory device of the rootfs tries register (NULL: /dev/mem), the sysfs root
	 * (NULL: /sys), the boot firmware's release when the board's word is wrong or missing */
	const char *mem_device;
	const char *sysfs;
	const char *firmware_release;
	int restore_other;          /* mark-good: make the other slot bootable again */
	const char *system_version_file; /* mark-good: the running system's own version (NULL:
					  * /etc/selfflash/system-version) */
	FILE *log;
};

/* The run's time limit with its default applied. */
static inline unsigned flash_run_timeout_s(const struct flash_config *c)
{
	return c->run_timeout_s ? c->run_timeout_s : FLASH_RUN_TIMEOUT_DEFAULT_S;
}

#endif
