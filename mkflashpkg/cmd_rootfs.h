/* SPDX-License-Identifier: MIT */
/* `mkflashpkg rootfs-from-tar`: the command line of rootfs_tar_to_ext4(). */
#ifndef SELFFLASH_CMD_ROOTFS_H
#define SELFFLASH_CMD_ROOTFS_H

/* argv[0] is "rootfs-from-tar"; returns the exit status (0, 1 failed, 2 usage). */
int cmd_rootfs_from_tar(int argc, char **argv);

#endif
