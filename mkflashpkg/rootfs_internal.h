/* SPDX-License-Identifier: MIT */
/* Between rootfs_tar.c (the conversion's frame) and rootfs_session.c (extract, make the image). */
#ifndef SELFFLASH_ROOTFS_INTERNAL_H
#define SELFFLASH_ROOTFS_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

/* Files in the private work directory (mode 0700) */
#define ROOTFS_TREE "root"           /* the tar's "./", extracted */
#define ROOTFS_MKE2FS_CONF "mke2fs.conf"
#define ROOTFS_ERROR "error"         /* the session's message when it failed under fakeroot */
#define ROOTFS_PATH_MAX 4096

/* What the session gets: on the command line under fakeroot, as a struct as root. */
struct rootfs_session {
	const char *work_dir;  /* private: the tree, the tools' output, mke2fs.conf */
	const char *tar_path;
	const char *img_path;  /* exists, already of the partition's size */
	uint64_t blocks;       /* of ROOTFS_BLOCK_SIZE bytes */
	const char *uuid;      /* NULL: random (mke2fs's own) */
	const char *hash_seed; /* NULL: random */
	uint64_t system_version; /* 0: none; else put into the tree (rootfs_version_put) */
	int under_fakeroot;    /* for the log only */
};

/*
 * Extracts the tar into work_dir/root with bsdtar, puts the system version file in (when
 * system_version is not 0), walks the tree (sizes; in the deterministic
 * mode access times set to the modification times), runs mke2fs -d and gives the image's root
 * directory the owner, mode and times of the tar's "./" with debugfs. Returns 0, or -1 with
 * err_set(). Leaves the work directory for the caller to remove.
 */
int rootfs_session_run(const struct rootfs_session *s, FILE *log);

#endif
