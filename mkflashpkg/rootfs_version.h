/* SPDX-License-Identifier: MIT */
/*
 * The running system's own version file in a root filesystem: put into a tree made from a
 * tar, checked in an ext4 image given as it is. A tegra board cannot write UEFI variables
 * while it is flashed in recovery mode, so it records the version of a first-flashed slot at
 * its first `selfflash mark-good`, from this file (initrd-flasher/slot/slot_version.c); a
 * rootfs without it leaves the version unknown, and anti-rollback then refuses the board's
 * first update unless given --allow-downgrade.
 */
#ifndef SELFFLASH_ROOTFS_VERSION_H
#define SELFFLASH_ROOTFS_VERSION_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* The board's SLOT_SYSTEM_VERSION_FILE (initrd-flasher/slot/slot_version.h) */
#define ROOTFS_VERSION_FILE "/etc/selfflash/system-version"

/* 1 when a partition of this name holds a slot's rootfs: NVIDIA's APP and APP_b, which the
 * board's `rootfs` setting names by default. `mkflashpkg build` knows no other sign of it. */
int rootfs_version_is_rootfs(const char *part_name);


/*
 * In the tree a tar was extracted to (tree_fd, a directory): makes ROOTFS_VERSION_FILE hold
 * "version\n", mode 0644, owner root:root, with its missing directories (0755, root:root).
 * Never follows a symbolic link of the tree (the tar is outside input): such a component is
 * refused. A file already there that says the same version is kept; one that says another is
 * refused. A directory the file or a directory is added to keeps its times; what is added
 * gets `when` (NULL: now). 0 or -1 with err_set(); *added says whether the file was written.
 */
int rootfs_version_put(int tree_fd, uint64_t version, const struct timespec *when, int *added);

/*
 * Reads ROOTFS_VERSION_FILE from the ext4 image at `image` (debugfs, read-only), for the
 * partition `part`, and compares it with `version`: another number is refused (the board
 * would record that one); a missing file is a warning on stderr saying what it costs and how
 * to add it; an Android sparse or non-ext4 image is said not to be checked. `out` (NULL:
 * quiet) gets a line when the file agrees. 0, or -1 with err_set().
 */
int rootfs_version_check_image(const char *part, const char *image, uint64_t version, FILE *out);

#endif
