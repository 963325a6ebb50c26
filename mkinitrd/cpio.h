/* SPDX-License-Identifier: MIT */
/*
 * A writer for the "newc" cpio format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst). Output is deterministic:
 * inode numbers count up from 1, every entry gets the same mtime, uid and gid are 0.
 */
#ifndef SELFFLASH_CPIO_H
#define SELFFLASH_CPIO_H

#include <stddef.h>
#include <stdint.h>

/* Where the archive bytes go; returns 0, or -1 with a message already printed. */
typedef int (*cpio_sink_fn)(void *sink_ctx, const void *buf, size_t len);

struct cpio_writer {
	cpio_sink_fn sink;
	void *sink_ctx;
	uint32_t mtime;    /* for every entry (SOURCE_DATE_EPOCH) */
	uint32_t next_ino; /* next inode number, from 1 */
	uint64_t offset;   /* bytes written so far, for the 4-byte alignment */
};

/* The largest file newc can describe: its size field is 8 hex digits. */
#define CPIO_MAX_FILE_SIZE 0xffffffffULL

/* Prepares w; nothing is written until the first entry. */
void cpio_writer_init(struct cpio_writer *w, cpio_sink_fn sink, void *sink_ctx,
		      uint32_t mtime);

/*
 * Each add function writes one entry named `name` (a leading '/' is dropped) with
 * permission bits `perm` (the file type is implied). Return 0, or -1 after printing what
 * was wrong (a name too long or empty, a file too large, a sink error).
 */
int cpio_add_dir(struct cpio_writer *w, const char *name, unsigned perm);
int cpio_add_char_dev(struct cpio_writer *w, const char *name, unsigned perm, unsigned major,
		      unsigned minor);
int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target);
int cpio_add_data(struct cpio_writer *w, const char *name, unsigned perm, const void *data,
		  uint64_t size);
/* Copies a regular file from an open descriptor; fails if it is not exactly `size` bytes. */
int cpio_add_fd(struct cpio_writer *w, const char *name, unsigned perm, int fd, uint64_t size);

/* Writes the trailer and pads the archive to a multiple of 512 bytes; 0 or -1. */
int cpio_finish(struct cpio_writer *w);

#endif
