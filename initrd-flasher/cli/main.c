/* SPDX-License-Identifier: MIT */
/*
 * The flasher's entry point. As PID 1 of the selfflash initrd it sets up the system, reports
 * what the board has, and powers off; run by hand (or in tests) it only reports.
 */
#include <blkid/blkid.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "slot/bootslot.h"
#include "cmd_update.h"
#include "config.h"
#include "error.h"
#include "run/flash.h"
#include "keys.h"
#include "link/link_transport.h"
#include "board/discover.h"
#include "board/inventory.h"
#include "board/modules.h"
#include "board/pid1.h"
#include "version.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: init [--root DIR] [--version] [--help]\n"
		"       init flash ...    (init flash --help)\n"
		"       init update | mark-good | status | doctor ...   (init update --help)\n"
		"\n"
		"The selfflash flasher. Started by the kernel as /init (PID 1) it mounts proc, sysfs\n"
		"and devtmpfs, prints the board inventory and powers the board off. Started as any\n"
		"other process it only prints the inventory.\n"
		"\n"
		"  --root DIR   read sysfs below DIR instead of / (not as PID 1; for tests)\n"
		"  --version    print the version and the libraries it was built with\n"
		"  --help       this text\n");
}

static void flash_usage(FILE *out)
{
	fprintf(out,
		"usage: init flash (--package PKG|URL | --link SPEC) (--pubkey KEY.pub | --allow-unsigned)\n"
		"                  --eeprom FILE [--chip-sku SKU | --chip-sku-file FILE]\n"
		"                  --target TYPE=SPEC... [--plan] [--efivars DIR]\n"
		"                  [--link-timeout S] [--run-timeout S] [--ca FILE] [--report URL]\n"
		"\n"
		"Flashes a package: verifies its signature, identifies the board by its module\n"
		"EEPROM and chip SKU, places the partitions on the devices, then writes, reads back\n"
		"and checks everything. Nothing is written before the signature and the board match.\n"
		"\n"
		"  --package PKG       a package file (an embedded package)\n"
		"  --package URL       or a package on a web server: http://HOST[:PORT]/PATH or\n"
		"                      https://... (the server must answer Range requests, as\n"
		"                      lighttpd, nginx and object stores do); a dropped connection,\n"
		"                      408, 429, 5xx (Retry-After honoured) and an answer slower\n"
		"                      than 1 KiB/s are retried for --link-timeout; a chunk that\n"
		"                      fails its check is fetched again (3 times); a package replaced on the\n"
		"                      server while it is fetched is started again from the manifest\n"
		"  --ca FILE           trust anchors (PEM) for https:// URLs\n"
		"  --report URL        POST the result as JSON to URL at the end (for fleets)\n"
		"  --link SPEC         fetch the package from hostload: unix:PATH, tcp:HOST:PORT,\n"
		"                      virtio:PORTNAME, dev:PATH, or usb-gadget:[UDC] (the board\n"
		"                      as a USB device: bulk endpoints through FunctionFS, bound to\n"
		"                      UDC or the first one; dev:/dev/ttyGS0 is its CDC-ACM port);\n"
		"                      progress, the log and the result go to the host; a dropped\n"
		"                      link is resumed\n"
		"  --link-timeout S    give up when the host (or web server) is gone for S seconds,\n"
		"                      or has answered nothing useful for that long (default 600)\n"
		"  --run-timeout S     a package from a web server: stop fetching S seconds after\n"
		"                      the run began, however the server answers (default 86400)\n"
		"  --target TYPE=SPEC  the device for the package's target TYPE (spi, nvme, ...;\n"
		"                      TYPE:INSTANCE, e.g. nvme:1, where it has two of a type):\n"
		"                      mtd:/dev/mtdN[@BASE]  block:PATH  nor-file:PATH:ERASE_SIZE\n"
		"                      benches: a file target timed as a part (a real device sets\n"
		"                      its own pace): block:PATH;write-mbps=F;read-mbps=F,\n"
		"                      nor-file:PATH:ERASE_SIZE;erase-ms=F;page-us=F;page=N;read-mbps=F\n"
		"  --plan              print the plan and stop\n"
		"  --no-delta          fetch and write every chunk (default: look for each on the\n"
		"                      board first; a re-flash fetches and writes only what differs)\n"
		"  --sequential        write the QSPI, then the disk (default: both at once, the QSPI\n"
		"                      from memory, when its images fit in 64 MiB)\n"
		"  --efivars DIR       a T234's efivarfs (tegra): the flash writes no variable\n"
		"                      there (recovery mode keeps them in memory only), the boot\n"
		"                      BCT selects chain A; it says what the firmware starts with\n");
}

static int cmd_flash(int argc, char **argv)
{
	static const struct option options[] = {
		{ "package", required_argument, NULL, 'p' },
		{ "link", required_argument, NULL, 'l' },
		{ "link-timeout", required_argument, NULL, 'T' },
		{ "run-timeout", required_argument, NULL, 'W' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "eeprom", required_argument, NULL, 'e' },
		{ "chip-sku", required_argument, NULL, 'c' },
		{ "chip-sku-file", required_argument, NULL, 'C' },
		{ "target", required_argument, NULL, 't' },
		{ "plan", no_argument, NULL, 'P' },
		{ "no-delta", no_argument, NULL, 'D' },
		{ "sequential", no_argument, NULL, 'S' },
		{ "efivars", required_argument, NULL, 'E' },
		{ "ca", required_argument, NULL, 'A' },
		{ "report", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct flash_config c = { .log = stdout };
	unsigned sources = 0; /* --package and --link: exactly one */
	int link_given = 0;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
		case 'l':
			c.source = optarg;
			sources++;
			link_given = opt == 'l';
			break;
		case 'A': c.ca = optarg; break;
		case 'R': c.report_url = optarg; break;
		case 'T':
			if (config_seconds(optarg, 86400, &c.link_timeout_s) != 0) {
				fprintf(stderr, "flasher: --link-timeout '%s': expected 1..86400 seconds\n",
					optarg);
				return 2;
			}
			break;
		case 'W':
			if (config_seconds(optarg, FLASH_RUN_TIMEOUT_MAX_S, &c.run_timeout_s) != 0) {
				fprintf(stderr, "flasher: --run-timeout '%s': expected 1..%u seconds\n",
					optarg, FLASH_RUN_TIMEOUT_MAX_S);
				return 2;
			}
			break;
		case 'k': c.pubkey = optarg; break;
		case 'u': c.allow_unsigned = 1; break;
		case 'e': c.eeprom = optarg; break;
		case 'c': c.chip_sku = optarg; break;
		case 'C': c.chip_sku_file = optarg; break;
		case 'P': c.plan_only = 1; break;
		case 'D': c.no_delta = 1; break;
		case 'S': c.sequential = 1; break;
		case 'E': c.efivars = optarg; break;
		case 't': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1] || c.ntargets == PKG_MAX_TARGETS) {
				fprintf(stderr, "init flash: --target '%s': expected TYPE=SPEC\n", optarg);
				return 2;
			}
			*eq = '\0';
			c.targets[c.ntargets++] = (struct flash_target_spec){ optarg, eq + 1 };
			break;
		}
		case 'h':
			flash_usage(stdout);
			return 0;
		default:
			flash_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || sources != 1 ||
	    (!c.pubkey && !c.allow_unsigned)) {
		flash_usage(stderr);
		return 2;
	}
	if (link_given && !link_spec_known(c.source)) {
		fprintf(stderr, "flasher: --link '%s': expected unix:PATH, tcp:HOST:PORT, "
				"virtio:NAME, dev:PATH or usb-gadget:[UDC]\n", c.source);
		return 2;
	}
	if (flash_run(&c) != 0) {
		fprintf(stderr, "flasher: FAILED: %s\n", err_msg());
		return 1;
	}
	return 0;
}

static void print_version(void)
{
	const char *blkid_version = NULL;
	blkid_get_library_version(&blkid_version, NULL);
	printf("selfflash-flasher %s (zlib %s, zstd %s, libblkid %s)\n", SELFFLASH_VERSION,
	       zlibVersion(), ZSTD_versionString(), blkid_version ? blkid_version : "?");
}

#define CONFIG_PATH "/etc/selfflash/flasher.conf"

/* What PID 1 found in the initrd: nothing to flash, a config whose modules are loaded, or a
 * config that failed (parsing it or loading a module; err_msg() says which). */
enum pid1_setup {
	PID1_NO_CONFIG,
	PID1_CONFIGURED,
	PID1_SETUP_FAILED,
};

/*
 * PID 1: reads the config and loads the kernel modules it names, before anything looks for a
 * device (the inventory, the EEPROM, the targets, the link): on a Jetson the QSPI, EEPROM,
 * disk and USB device drivers may all be modules.
 */
static enum pid1_setup setup_configured(struct flasher_config *cfg)
{
	size_t len;
	char *text = read_small_file(CONFIG_PATH, 65536, &len);
	if (!text)
		return PID1_NO_CONFIG;
	int rc = config_parse(text, len, cfg);
	free(text);
	if (rc == 0)
		rc = modules_load(cfg->modules, cfg->nmodules, stdout);
	return rc == 0 ? PID1_CONFIGURED : PID1_SETUP_FAILED;
}

/*
 * PID 1 after the inventory: run the data path of the config setup_configured() read. Returns
 * the way to end: reboot into what was flashed on success, as configured on failure, power
 * off without a config.
 */
static enum pid1_end run_configured(struct flasher_config *cfg, enum pid1_setup setup,
				    const char *root)
{
	if (setup == PID1_NO_CONFIG) {
		printf("flasher: no %s: nothing to flash\n", CONFIG_PATH);
		return PID1_POWER_OFF;
	}
	int rc = setup == PID1_CONFIGURED ? 0 : -1;
	struct flash_config *f = &cfg->flash;
	f->log = stdout;
	if (rc == 0)
		config_find_board(cfg, root);
	if (rc == 0 && !f->eeprom) {
		char places[512];
		discover_eeprom_places(places, sizeof(places));
		rc = err_set("no module EEPROM to identify the board by: the config names none and "
			     "none is at %s (its driver is not built into the kernel, no module line "
			     "of the config loads it, or the board has none)", places);
	}
	if (rc == 0 && cfg->sources != 1)
		rc = err_set("%s must name either a package or a link", CONFIG_PATH);
	if (rc == 0)
		rc = flash_run(f);
	if (rc == 0) {
		printf("flasher: SUCCESS: rebooting into what was flashed\n");
		return PID1_REBOOT;
	}
	printf("flasher: FAILED: %s\n", err_msg());
	if (setup == PID1_SETUP_FAILED)
		printf("flasher: nothing was written: the config or its modules failed before any "
		       "device was opened\n");
	else
		printf("flasher: the board will not reboot into a half-written slot\n");
	return cfg->on_failure == ON_FAILURE_HALT       ? PID1_HALT
	       : cfg->on_failure == ON_FAILURE_POWEROFF ? PID1_POWER_OFF
							: PID1_WAIT;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const int is_pid1 = getpid() == 1;
	const char *root = "";
	int opt;

	if (!is_pid1 && argc > 1 && strcmp(argv[1], "flash") == 0)
		return cmd_flash(argc - 1, argv + 1);
	if (!is_pid1 && argc > 1 && strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (!is_pid1 && argc > 1 && strcmp(argv[1], "update") == 0)
		return cmd_update(argc - 1, argv + 1);
	if (!is_pid1 && argc > 1 && strcmp(argv[1], "mark-good") == 0)
		return cmd_mark_good(argc - 1, argv + 1);
	if (!is_pid1 && argc > 1 && strcmp(argv[1], "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);

	/* the kernel passes unknown boot parameters to init; PID 1 must not choke on them */
	while (!is_pid1 && (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			root = optarg;
			break;
		case 'V':
			print_version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!is_pid1 && optind < argc) {
		fprintf(stderr, "init: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (is_pid1)
		(void)pid1_mount_early();
	print_version();
	static struct flasher_config cfg; /* large; the strings the run uses point into it */
	enum pid1_setup setup = is_pid1 ? setup_configured(&cfg) : PID1_NO_CONFIG;
	inventory_print(stdout, root);
	fflush(stdout);
	if (is_pid1)
		pid1_end(run_configured(&cfg, setup, root));
	return 0;
}
