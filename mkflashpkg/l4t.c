/* SPDX-License-Identifier: MIT */
/* mkflashpkg l4t: the command and its steps, in the order a user reads them in its output. */
#include "l4t.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "error.h"
#include "pkg.h"
#include "rootfs_tar.h"

#define MAX_FILES LAYOUT_MAX_PARTS

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mkflashpkg l4t L4T_DIR -o OUTDIR (--key FILE.key | --unsigned) [options]\n"
		"\n"
		"Turns NVIDIA's Linux_for_Tegra tree (R35.x or R36.x, after apply_binaries.sh and\n"
		"tools/kernel_flash/l4t_initrd_flash.sh --no-flash) into what selfflash needs:\n"
		"  OUTDIR/package.sfpkg   the signed QSPI images and the disk (both flash.idx files;\n"
		"                         the rootfs tar made into ext4 on this host)\n"
		"  OUTDIR/Image           the tree's kernel (kernel/Image)\n"
		"  OUTDIR/initrd.cpio.gz  the flasher with the kernel modules it needs, from the\n"
		"                         tree's modules.dep, in load order\n"
		"  OUTDIR/rcm-bundle/     the RCM boot files, from the release's command file\n"
		"Then: hostload rcm --usb --bundle OUTDIR/rcm-bundle --kernel OUTDIR/Image\n"
		"        --initrd OUTDIR/initrd.cpio.gz OUTDIR/package.sfpkg\n"
		"Anything missing is named with the NVIDIA command that makes it; nothing is written.\n"
		"\n"
		"  -o, --output OUTDIR     where the outputs go (created)\n"
		"      --key FILE.key      sign the package; the flasher trusts FILE.pub\n"
		"      --unsigned          an unsigned package (development boards only)\n"
		"      --pubkey FILE.pub   the key the flasher trusts (default: the key's .pub)\n"
		"      --board NAME        NVIDIA's board configuration, for the commands shown\n"
		"                          (default jetson-agx-orin-devkit)\n"
		"      --board-id BBBB-SSSS  the module the package is for, when the images' file\n"
		"                          names do not tell it (e.g. 3701-0005)\n"
		"      --external DEV      the board's disk (default: flash.cfg's external_device)\n"
		"      --rootfs FILE       the rootfs to write instead of the index's system.img: an\n"
		"                          ext4 image, an Android sparse image or a tar\n"
		"      --bundle DIR        an RCM bundle made elsewhere (R35, R36.2 make none offline)\n"
		"      --no-bundle         build without one (boot the board by other means)\n"
		"      --profile NAME      the platform's drivers: %s\n"
		"                          (default: the T234 profile of the tree's release)\n"
		"      --module NAME       one more kernel module for the initrd (repeatable)\n"
		"      --flasher FILE      the flasher binary (default: ../board/init from here)\n"
		"      --mkinitrd FILE     mkinitrd (default: next to this program)\n"
		"      --system-version N  as for build; a rootfs made from a tar gets\n"
		"                          /etc/selfflash/system-version saying N (a tegra board\n"
		"                          records a first-flashed slot's version from it)\n"
		"      --capsule FILE      the boot firmware's UEFI capsule (NVIDIA's\n"
		"                          generate_capsule/l4t_generate_soc_capsule.sh output) for\n"
		"                          updates of a running board; default: TREE/TEGRA_BL.Cap\n"
		"                          when it is there\n"
		"  -j, --jobs N            as for build\n"
		"      --codec zstd[:LEVEL]|zlib  as for build\n"
		"      --check             report what is there and what is missing; write nothing\n",
		l4t_profile_list());
}

/* path next to this program: /proc/self/exe's directory + rel */
static const char *beside_self(const char *rel, char *out, size_t size)
{
	char self[L4T_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return rel;
	self[n] = '\0';
	snprintf(out, size, "%s/%s", dirname(self), rel);
	return out;
}

int l4t_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "unsigned", no_argument, NULL, 'u' },
		{ "pubkey", required_argument, NULL, 'P' },
		{ "board", required_argument, NULL, 'b' },
		{ "board-id", required_argument, NULL, 'I' },
		{ "external", required_argument, NULL, 'e' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "bundle", required_argument, NULL, 'B' },
		{ "no-bundle", no_argument, NULL, 'N' },
		{ "profile", required_argument, NULL, 'p' },
		{ "module", required_argument, NULL, 'm' },
		{ "flasher", required_argument, NULL, 'F' },
		{ "mkinitrd", required_argument, NULL, 'M' },
		{ "system-version", required_argument, NULL, 'V' },
		{ "capsule", required_argument, NULL, 'C' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "codec", required_argument, NULL, 'Z' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct l4t_opts o;
	memset(&o, 0, sizeof(o));
	o.board = "jetson-agx-orin-devkit";
	int opt, no_bundle = 0;
	while ((opt = getopt_long(argc, argv, "o:j:h", options, NULL)) != -1) {
		int rc = 0;
		switch (opt) {
		case 'o': o.out_dir = optarg; break;
		case 'k': o.key_path = optarg; break;
		case 'u': o.allow_unsigned = 1; break;
		case 'P': o.pubkey_path = optarg; break;
		case 'b': o.board = optarg; break;
		case 'I': o.board_id = optarg; break;
		case 'e': o.external = optarg; break;
		case 'r': o.rootfs = optarg; break;
		case 'B': o.bundle = optarg; break;
		case 'N': no_bundle = 1; break;
		case 'F': o.flasher = optarg; break;
		case 'M': o.mkinitrd = optarg; break;
		case 'C': o.capsule = optarg; break;
		case 'c': o.check_only = 1; break;
		case 'p':
			if (!(o.profile = l4t_profile_find(optarg)))
				rc = err_set("--profile %s: expected one of %s", optarg,
					     l4t_profile_list());
			break;
		case 'm':
			if (o.n_extra_modules == L4T_MAX_EXTRA_MODULES)
				rc = err_set("more than %d --module", L4T_MAX_EXTRA_MODULES);
			else
				o.extra_modules[o.n_extra_modules++] = optarg;
			break;
		case 'V':
			rc = build_parse_system_version(optarg, &o.system_version);
			break;
		case 'j':
			rc = build_parse_jobs(optarg, &o.jobs);
			break;
		case 'Z':
			rc = build_parse_codec(optarg, &o.codec);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc != 0) {
			fprintf(stderr, "mkflashpkg l4t: %s\n", err_msg());
			return 2;
		}
	}
	if (optind != argc - 1 || (!o.out_dir && !o.check_only) ||
	    (!o.check_only && !o.key_path == !o.allow_unsigned) || (no_bundle && o.bundle)) {
		fprintf(stderr, "mkflashpkg l4t: needs L4T_DIR, -o OUTDIR and one of --key, "
				"--unsigned (--bundle and --no-bundle exclude each other; see "
				"mkflashpkg l4t --help)\n");
		return 2;
	}
	/* --board goes into the commands printed for the user to paste */
	if (strspn(o.board, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") !=
	    strlen(o.board)) {
		fprintf(stderr, "mkflashpkg l4t: --board %s: expected NVIDIA's board configuration "
				"name, e.g. jetson-agx-orin-devkit\n", o.board);
		return 2;
	}
	o.tree_dir = argv[optind];
	o.no_bundle = no_bundle;
	if (!o.flasher) {
		static char flasher[L4T_PATH_MAX];
		o.flasher = beside_self("../board/init", flasher, sizeof(flasher));
	}
	if (!o.mkinitrd) {
		static char mkinitrd[L4T_PATH_MAX];
		o.mkinitrd = beside_self("mkinitrd", mkinitrd, sizeof(mkinitrd));
	}
	if (l4t_run(&o) != 0) {
		fprintf(stderr, "mkflashpkg l4t: %s\n", err_msg());
		return 1;
	}
	return 0;
}
