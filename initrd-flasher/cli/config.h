/* SPDX-License-Identifier: MIT */
/*
 * The flasher's configuration in the initrd (/etc/selfflash/flasher.conf): one setting per
 * line, "KEY VALUE", '#' starts a comment.
 *
 *   package /package.sfpkg          an embedded package (fully offline flashing)
 *   package https://HOST/PATH       or: the package from a web server (http:// or https://;
 *                                   the server must answer Range requests)
 *   ca /etc/selfflash/ca.pem        trust anchors (PEM) for https:// URLs; required with one
 *   report https://HOST/PATH        POST the result as JSON there at the end (for fleets;
 *                                   a report that cannot be sent does not fail the run)
 *   link virtio:selfflash.link      or: the package from hostload over the link
 *                                   (usb-gadget: or usb-gadget:UDC on a Jetson: FunctionFS
 *                                   bulk endpoints; dev:/dev/ttyGS0: the gadget's CDC-ACM)
 *   pubkey /etc/selfflash/pubkey.pem
 *   allow-unsigned yes              development mode only
 *   eeprom PATH                     default: the Jetson I2C path, then QEMU's fw_cfg
 *   chip-sku D0 | chip-sku-file PATH    default: QEMU's fw_cfg file (board/discover.h);
 *                                   a Jetson's is named here or left out
 *   target spi mtd:/dev/mtd0@67108864
 *   target nvme block:/dev/nvme0n1
 *   efivars /sys/firmware/efi/efivars   record the boot slot (T234 UEFI boot chain)
 *   on-failure wait | halt | poweroff
 *   link-timeout SECONDS            give up when the host is gone this long (default 600)
 *   run-timeout SECONDS             a package from a web server: stop fetching this long after
 *                                   the run began (default 86400, at most 2592000)
 *   parallel on | off               write the QSPI (from memory) and the disk at once
 *                                   (default on)
 *   delta on | off                  look for each chunk on the board before fetching it
 *                                   (default on: a re-flash fetches only what differs)
 *   usb-vendor 0x1d6b               the USB gadget's ids (defaults: 0x1d6b, 0x0104)
 *   usb-product 0x0104
 *   usb-serial TEXT                 default: the serial number in the module EEPROM
 *   usb-manufacturer TEXT           default: selfflash
 *   usb-product-name TEXT           default: selfflash flasher
 *   module PATH                     a kernel module to load first (repeatable, at most 128)
 *
 * Updates of a running board (selfflash update, mark-good, status; update.h):
 *   slot-backend systemd-boot | tegra   how slots boot on trial and fall back
 *   esp /boot/efi                   systemd-boot: where the ESP is mounted
 *   boot-tries 3                    trial boots before falling back (1..9; tegra: 1..3)
 *   rootfs APP                      slot A's rootfs partition (slot B's: APP_b)
 *   mem-device /dev/mem             tegra: how the rootfs tries register is reached
 *   sysfs /sys                      tegra: where bios_version and the ESRT are read
 *   firmware-release 35.4.1         tegra: the boot firmware's L4T release, when its
 *                                   bios_version does not say it (a firmware built
 *                                   elsewhere)
 *   root-partition NAME             the running root's partition (default: found from /)
 *   system-version-file PATH        mark-good: where the running system's image says its
 *                                   version, recorded for anti-rollback where no update
 *                                   did (default /etc/selfflash/system-version)
 *   update-qspi yes | no            also write the inactive chain's QSPI firmware through
 *                                   MTD (default no: unverified from a running Jetson)
 */
#ifndef SELFFLASH_CONFIG_H
#define SELFFLASH_CONFIG_H

#include "run/flash.h"

enum on_failure {
	ON_FAILURE_WAIT,     /* stay up: the host may retry over the link */
	ON_FAILURE_HALT,
	ON_FAILURE_POWEROFF,
};

#define CONFIG_MODULES_MAX 128 /* mkflashpkg l4t resolves at most KMODS_MAX_ORDER */

struct flasher_config {
	struct flash_config flash;
	unsigned sources; /* package and link lines seen: exactly one names flash.source */
	enum on_failure on_failure;
	const char *modules[CONFIG_MODULES_MAX]; /* loaded in this order, before the link */
	size_t nmodules;
	char storage[8192]; /* the strings flash points into */
	size_t used;
	char found_eeprom[256];   /* what config_find_board() found, when the text names none */
	char found_chip_sku[256];
};

/* A number of seconds, 1 to max, in decimal digits only (the config's timeouts and their
 * command-line options); 0 with *out set, or -1 (the caller names the setting). */
int config_seconds(const char *text, unsigned long max, unsigned *out);

/* Parses config text into cfg (which the caller zeroed); 0 or -1 naming the line. */
int config_parse(const char *text, size_t len, struct flasher_config *cfg);

/*
 * The defaults of eeprom and chip-sku-file (board/discover.h): where the board below root
 * ("" for the running system) keeps its module EEPROM and chip SKU, for each the config
 * leaves unnamed. What the board lacks stays NULL (identify then says what is missing).
 */
void config_find_board(struct flasher_config *cfg, const char *root);

#endif
