/* SPDX-License-Identifier: MIT */
/*
 * What a Linux_for_Tegra tree holds for selfflash, found where each release puts it
 * (DESIGN.md section 12): the release, the two flash.idx files that
 * `l4t_initrd_flash.sh --no-flash` leaves with their images, the rootfs image, the kernel and
 * its modules, and the RCM bundle. Nothing here writes; l4t.c builds from what was found.
 */
#ifndef SELFFLASH_L4T_TREE_H
#define SELFFLASH_L4T_TREE_H

#include <stdio.h>

#define L4T_PATH_MAX 4096

struct l4t_release {
	unsigned branch, major, minor; /* R35.3.1: 35, 3, 1 */
	char origin[64];               /* the file it was read from */
};

struct l4t_tree {
	char dir[L4T_PATH_MAX];
	struct l4t_release rel;
	int has_release;
	char internal_idx[L4T_PATH_MAX]; /* "" when missing */
	char external_idx[L4T_PATH_MAX];
	char external_device[64];        /* from external/flash.cfg, e.g. "nvme0n1p1" */
	/* the rootfs files of APP and APP_b: flash.cfg's APP_ext=, APP_b_ext= (flash.idx leaves
	 * APP's file empty), in the external images directory */
	char app_file[256], app_b_file[256];
	char tnspec[256];                /* rootfs/etc/nv_boot_control.conf TNSPEC, "" if none */
	char kernel[L4T_PATH_MAX];
	char kernel_version[128];        /* "5.10.104-tegra", from the Image's banner */
	char module_dir[L4T_PATH_MAX];   /* rootfs/lib/modules/KVER */
	char bundle_dir[L4T_PATH_MAX];   /* "" when this release made none offline */
	char bundle_cmd[L4T_PATH_MAX];   /* the command file in it */
};

/* Looks at dir; 0 when it is a Linux_for_Tegra tree at all (missing parts are left empty,
 * l4t_tree_report names them), -1 with err_msg() when it is not one. */
int l4t_tree_scan(const char *dir, struct l4t_tree *t);

/* How far apart NVIDIA's on-device flash writes the boot BCT copies in the QSPI `BCT`
 * partition in this release (bytes). */
unsigned l4t_bct_stride(const struct l4t_release *r);

/* 1 when dir holds the files of a T234 rcmboot under NVIDIA's default names */
int l4t_bundle_defaults_present(const char *dir);
/* NVIDIA's default names of a T234 rcmboot's files, {kind, file} in send order */
const char *const (*l4t_rcm_default_names(size_t *count))[2];

/* Points t at an RCM bundle directory made elsewhere (its command file found in it). */
int l4t_tree_set_bundle(struct l4t_tree *t, const char *dir);

/* "R35.3.1" */
void l4t_release_name(const struct l4t_release *r, char *out, size_t size);

/*
 * Prints what was found and, for each part missing, what makes it: the NVIDIA command line
 * for this release and board (board: NVIDIA's configuration name, e.g.
 * jetson-agx-orin-devkit). Returns how many required parts are missing.
 */
int l4t_tree_report(FILE *out, const struct l4t_tree *t, const char *board, int need_bundle);

/* The kernel release in an arm64 Image's "Linux version X " banner; 0 or -1 with err_msg(). */
int l4t_kernel_version(const char *image, char *out, size_t size);

#endif
