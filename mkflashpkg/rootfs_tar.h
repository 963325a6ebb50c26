/* SPDX-License-Identifier: MIT */
/*
 * A root filesystem given as NVIDIA's tar (tools/kernel_flash/images/.../system.img) turned into
 * an ext4 image of the partition's size, with the distribution's own tools: bsdtar extracts it
 * into a private directory (under fakeroot when not root), mke2fs -d makes the file system.
 */
#ifndef SELFFLASH_ROOTFS_TAR_H
#define SELFFLASH_ROOTFS_TAR_H

#include <stdint.h>
#include <stdio.h>

/* What a root filesystem file is, by its magic numbers. */
enum rootfs_kind {
	ROOTFS_KIND_UNKNOWN,    /* none of the below */
	ROOTFS_KIND_TAR,        /* "ustar" at byte 257 and a valid first header checksum */
	ROOTFS_KIND_SPARSE,     /* Android sparse image: 0xED26FF3A little-endian at byte 0 */
	ROOTFS_KIND_EXT4,       /* raw ext2/3/4 image: 0xEF53 little-endian at byte 1080 */
	ROOTFS_KIND_COMPRESSED, /* gzip, bzip2, xz or zstd: a compressed tar, most likely */
};

/* The file's kind (enum rootfs_kind), or -1 with err_set() when it cannot be read. */
int rootfs_kind(const char *path);

/* "tar", "Android sparse image", ... for messages */
const char *rootfs_kind_name(int kind);

/* Sizes accepted for the file system: 8 MiB (mke2fs's smallest ext4 with a journal, with
 * room) to 1 PiB (the bound every size in mkflashpkg stays under). */
#define ROOTFS_MIN_BYTES (8ull << 20)
#define ROOTFS_MAX_BYTES (1ull << 50)
/* The file system's block size: a size that is not a multiple leaves its tail unused. */
#define ROOTFS_BLOCK_SIZE 4096u

struct rootfs_tar_opts {
	const char *tar_path; /* the tar, as NVIDIA's l4t_create_images_for_kernel_flash.sh made it */
	uint64_t fs_bytes;    /* the partition's size: the image file is exactly this long */
	const char *img_path; /* written (replaced); removed again when the conversion fails */
	const char *tmp_dir;  /* where the private work directory goes; NULL: $TMPDIR or /tmp */
	/*
	 * NULL: mke2fs picks a random UUID and directory hash seed, as NVIDIA's mkfs.ext4 on the
	 * board does. Else both are derived from SHA-256 over this text and the tar's bytes, and
	 * the file system's own times from the tar's "./" mtime: one tar and one text give the
	 * same UUID (give the partition's name, so APP and APP_b differ). Inode change times
	 * still differ from run to run (the host's clock at extraction), so images are alike,
	 * not identical. See the journal note in rootfs_tar.c before writing such an image over
	 * an earlier install of the same tar without zeroing its holes.
	 */
	const char *uuid_seed;
	/* not 0: the tree gets /etc/selfflash/system-version saying it (rootfs_version.h), after
	 * extraction, before mke2fs; and it joins the text the UUID is derived from */
	uint64_t system_version;
	int force_fakeroot; /* 1: extract under fakeroot even as root (a container's root that
			     * cannot chown or mknod) */
	FILE *log;          /* what was done, tools' output included; NULL: nothing */
};

/*
 * Makes the ext4 image: the tar's files with their numeric owners, modes (set-user-ID,
 * set-group-ID, sticky), symbolic and hard links, device nodes, FIFOs, modification and
 * access times, extended attributes (security.capability, user.*), the root directory's owner,
 * mode and times from the tar's "./". The image is sparse: only blocks in use are written.
 * Returns 0, or -1 with err_set() naming what failed (not a tar, the tool and its own message,
 * the sizes when the files do not fit); the image file is gone then and the work directory
 * always is.
 */
int rootfs_tar_to_ext4(const struct rootfs_tar_opts *o);

/*
 * Without root the extraction and mke2fs must share one fakeroot session (fakeroot keeps
 * owners, device nodes and extended attributes in its daemon's memory, which -s/-i state
 * files do not carry for attributes): rootfs_tar_to_ext4() runs this program again under
 * fakeroot with ROOTFS_TAR_SESSION_CMD as argv[1]. main() must hand such a call to
 * rootfs_tar_session_main(argc - 1, argv + 1) before anything else; it returns the exit
 * status.
 */
#define ROOTFS_TAR_SESSION_CMD "__rootfs-tar-session"
int rootfs_tar_session_main(int argc, char **argv);

#endif
