/* SPDX-License-Identifier: MIT */
/*
 * The flasher's entry point. As PID 1 of the selfflash initrd it sets up the system, reports
 * what the board has, and powers off; run by hand (or in tests) it only reports.
 */
#include <blkid/blkid.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "inventory.h"
#include "pid1.h"
#include "version.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: init [--root DIR] [--version] [--help]\n"
		"\n"
		"The selfflash flasher. Started by the kernel as /init (PID 1) it mounts proc, sysfs\n"
		"and devtmpfs, prints the board inventory and powers the board off. Started as any\n"
		"other process it only prints the inventory.\n"
		"\n"
		"  --root DIR   read sysfs below DIR instead of / (not as PID 1; for tests)\n"
		"  --version    print the version and the libraries it was built with\n"
		"  --help       this text\n");
}

static void print_version(void)
{
	const char *blkid_version = NULL;
	blkid_get_library_version(&blkid_version, NULL);
	printf("selfflash-flasher %s (zlib %s, libblkid %s)\n", SELFFLASH_VERSION, zlibVersion(),
	       blkid_version ? blkid_version : "?");
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
	inventory_print(stdout, root);
	fflush(stdout);
	if (is_pid1)
		pid1_end(PID1_POWER_OFF);
	return 0;
}
