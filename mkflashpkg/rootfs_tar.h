/* SPDX-License-Identifier: MIT */
/* TEMPORARY interface stub until the rootfs conversion lands */
#ifndef SELFFLASH_ROOTFS_TAR_H
#define SELFFLASH_ROOTFS_TAR_H
#include <stdint.h>
#include <stdio.h>
enum rootfs_kind { ROOTFS_RAW, ROOTFS_EXT4, ROOTFS_SPARSE, ROOTFS_TAR };
int rootfs_detect(const char *path, enum rootfs_kind *kind);
const char *rootfs_kind_name(enum rootfs_kind kind);
int rootfs_tar_to_ext4(const char *tar_path, uint64_t fs_bytes, const char *img_path,
		       const char *tmp_dir, FILE *log);
#endif
