/* SPDX-License-Identifier: MIT */
/* `mkflashpkg rootfs-from-tar`: NVIDIA's rootfs tar to an ext4 image, on its own. */
#include "cmd_rootfs.h"

#include <getopt.h>
#include <stdio.h>

#include "build.h"
#include "error.h"
#include "layout.h"
#include "rootfs_tar.h"

int cmd_rootfs_from_tar(int argc, char **argv)
{
	static const struct option options[] = {
		{ "uuid-seed", required_argument, NULL, 's' },
		{ "tmp-dir", required_argument, NULL, 't' },
		{ "fakeroot", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "system-version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rootfs_tar_opts o = { .log = stdout };
	int opt;
	while ((opt = getopt_long(argc, argv, "q", options, NULL)) != -1) {
		if (opt == 's')
			o.uuid_seed = optarg;
		else if (opt == 't')
			o.tmp_dir = optarg;
		else if (opt == 'f')
			o.force_fakeroot = 1;
		else if (opt == 'q')
			o.log = NULL;
		else if (opt == 'V' && build_parse_system_version(optarg, &o.system_version) != 0) {
			fprintf(stderr, "mkflashpkg rootfs-from-tar: %s\n", err_msg());
			return 2;
		} else if (opt == 'V')
			continue;
		else
			return 2;
	}
	if (optind != argc - 3) {
		fprintf(stderr, "usage: mkflashpkg rootfs-from-tar [--uuid-seed TEXT] [--tmp-dir DIR] "
				"[--fakeroot] [--system-version N] [-q] TAR SIZE OUT.img\n");
		return 2;
	}
	o.tar_path = argv[optind];
	o.img_path = argv[optind + 2];
	if (layout_parse_u64(argv[optind + 1], &o.fs_bytes) != 0) {
		fprintf(stderr, "mkflashpkg rootfs-from-tar: SIZE '%s' is not a number of bytes\n",
			argv[optind + 1]);
		return 2;
	}
	if (rootfs_tar_to_ext4(&o) != 0) {
		fprintf(stderr, "mkflashpkg rootfs-from-tar: %s\n", err_msg());
		return 1;
	}
	return 0;
}
