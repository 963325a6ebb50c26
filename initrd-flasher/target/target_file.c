/* SPDX-License-Identifier: MIT */
/* File-backed targets: a disk (plain pread/pwrite) and NOR flash emulated with its rules. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/falloc.h>
#include <linux/fs.h>
#endif

#include "error.h"
#include "io.h"

struct nor_file {
	uint64_t flip_bit_at;
};

static int range_ok(struct target *t, uint64_t off, uint64_t len, const char *what)
{
	if (off > t->size || len > t->size - off)
		return err_set("%s: %s of %" PRIu64 " bytes at %" PRIu64 " is past the end (%" PRIu64
			       " bytes)",
			       t->name, what, len, off, t->size);
	return 0;
}

static int file_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	if (range_ok(t, off, len, "read") != 0)
		return -1;
	if (io_pread_all(t->fd, buf, len, off) != 0)
		return err_set("%s: read at %" PRIu64 ": %s", t->name, off, io_error());
	return 0;
}

/*
 * O_DIRECT read for the read-back: the kernel first writes back the writer's dirty pages in
 * the range, then reads the device, so the bytes compared are the ones it holds.
 */
static int block_read_direct(struct target *t, uint64_t off, void *buf, size_t len, size_t *got)
{
	if (off >= t->size)
		return err_set("%s: read-back at %" PRIu64 " is past the end (%" PRIu64 " bytes)",
			       t->name, off, t->size);
	*got = 0;
	while (*got < len) {
		ssize_t n = pread(t->direct_fd, (uint8_t *)buf + *got, len - *got,
				  (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set("%s: uncached read at %" PRIu64 ": %s", t->name, off + *got,
				       strerror(errno));
		if (n == 0)
			break; /* the device or file ends inside the last aligned block */
		*got += (size_t)n;
	}
	return 0;
}

static int file_write_raw(struct target *t, uint64_t off, const void *buf, size_t len)
{
	if (io_pwrite_all(t->fd, buf, len, off) != 0)
		return err_set("%s: write at %" PRIu64 ": %s", t->name, off, strerror(errno));
	return 0;
}

static int block_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	if (range_ok(t, off, len, "write") != 0)
		return -1;
	return file_write_raw(t, off, buf, len);
}

static int file_flush(struct target *t)
{
	if (fsync(t->fd) != 0 && errno != EINVAL)
		return err_set("%s: fsync: %s", t->name, strerror(errno));
	/* drop the cached pages, so that read-back comes from the device, not from memory */
	(void)posix_fadvise(t->fd, 0, 0, POSIX_FADV_DONTNEED);
#ifdef BLKFLSBUF
	(void)ioctl(t->fd, BLKFLSBUF, 0);
#endif
	return 0;
}

static void file_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->direct_fd >= 0)
		close(t->direct_fd);
	t->fd = t->direct_fd = -1;
	free(t->priv);
	t->priv = NULL;
}

/* NOR rules: a write can only clear bits. */
static int nor_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	struct nor_file *nf = t->priv;
	if (range_ok(t, off, len, "write") != 0)
		return -1;
	uint8_t cur[4096];
	const uint8_t *src = buf;
	for (size_t done = 0; done < len;) {
		size_t n = len - done;
		if (n > sizeof(cur))
			n = sizeof(cur);
		if (file_read(t, off + done, cur, n) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (src[done + i] & ~cur[i])
				return err_set("%s: write at %" PRIu64 " sets bits of a byte that is "
					       "not erased (0x%02x over 0x%02x)",
					       t->name, off + done + i, src[done + i], cur[i]);
			cur[i] &= src[done + i];
			if (off + done + i == nf->flip_bit_at)
				cur[i] ^= 0x10;
		}
		if (file_write_raw(t, off + done, cur, n) != 0)
			return -1;
		done += n;
	}
	return 0;
}

static int nor_erase(struct target *t, uint64_t off, uint64_t len)
{
	if (range_ok(t, off, len, "erase") != 0)
		return -1;
	if (off % t->erase_size || len % t->erase_size)
		return err_set("%s: erase of %" PRIu64 " bytes at %" PRIu64
			       " is not aligned to %" PRIu32,
			       t->name, len, off, t->erase_size);
	uint8_t ff[4096];
	memset(ff, 0xff, sizeof(ff));
	for (uint64_t done = 0; done < len; done += sizeof(ff))
		if (file_write_raw(t, off + done, ff,
				   len - done < sizeof(ff) ? (size_t)(len - done) : sizeof(ff)) != 0)
			return -1;
	return 0;
}

/* SEEK_DATA: a file system that knows its holes says where the next data is; a block device
 * answers with the offset itself (all data), and then nothing is learned */
static int file_is_hole(struct target *t, uint64_t off, uint64_t len)
{
	if (off > (uint64_t)INT64_MAX)
		return 0;
	off_t data = lseek(t->fd, (off_t)off, SEEK_DATA);
	if (data < 0)
		return errno == ENXIO; /* no data after off at all */
	return (uint64_t)data >= off + len;
}

/* errno values that say "this device or file system cannot zero that way", not "it failed" */
static int zero_unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOTTY || e == ENOSYS || e == EINVAL || e == ENODEV;
}

/*
 * A range made zeros without writing them: BLKZEROOUT on a block device (the kernel issues
 * WRITE ZEROES or a discard that reads back zeros, else writes zero pages itself, and drops
 * the cached pages of the range); on a regular file a punched hole, which keeps the size and
 * reads as zeros, else FALLOC_FL_ZERO_RANGE. 1 where none of these exists.
 */
static int block_zero(struct target *t, uint64_t off, uint64_t len)
{
	if (range_ok(t, off, len, "zeroing") != 0)
		return -1;
#if defined(BLKZEROOUT) && defined(FALLOC_FL_PUNCH_HOLE)
	uint64_t range[2] = { off, len };
	if (ioctl(t->fd, BLKZEROOUT, range) == 0)
		return 0;
	if (!zero_unsupported(errno))
		return err_set("%s: BLKZEROOUT of %" PRIu64 " bytes at %" PRIu64 ": %s", t->name, len,
			       off, strerror(errno));
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX)
		return 1;
	const int modes[] = { FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (fallocate(t->fd, modes[i], (off_t)off, (off_t)len) == 0)
			return 0;
		if (!zero_unsupported(errno))
			return err_set("%s: zeroing %" PRIu64 " bytes at %" PRIu64 ": %s", t->name, len,
				       off, strerror(errno));
	}
#else
	(void)off;
	(void)len;
#endif
	return 1;
}

static const struct target_ops nor_file_ops = { .read = file_read,
						.write = nor_write,
						.erase = nor_erase,
						.flush = file_flush,
						.close = file_close };
static const struct target_ops block_ops = { .read = file_read,
					     .write = block_write,
					     .flush = file_flush,
					     .close = file_close,
					     .read_direct = block_read_direct,
					     .is_hole = file_is_hole,
					     .zero = block_zero };
/* a disk whose device or file system refused O_DIRECT: read back through the cache */
static const struct target_ops block_cached_ops = { .read = file_read,
						    .write = block_write,
						    .flush = file_flush,
						    .close = file_close,
						    .is_hole = file_is_hole,
						    .zero = block_zero };

static int open_file(struct target *t, const char *path, const struct target_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->direct_fd = -1;
	t->fd = open(path, O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	snprintf(t->name, sizeof(t->name), "%s", path);
	struct stat st;
	if (fstat(t->fd, &st) != 0) {
		close(t->fd);
		return err_set("%s: %s", path, strerror(errno));
	}
	t->size = (uint64_t)st.st_size;
#ifdef BLKGETSIZE64
	if (S_ISBLK(st.st_mode) && ioctl(t->fd, BLKGETSIZE64, &t->size) != 0) {
		close(t->fd);
		return err_set("%s: cannot read the device size: %s", path, strerror(errno));
	}
#endif
	t->ops = ops;
	return 0;
}

int target_open_nor_file(struct target *t, const char *path, uint32_t erase_size,
			 uint64_t flip_bit_at)
{
	if (erase_size == 0 || (erase_size & (erase_size - 1)))
		return err_set("erase size %" PRIu32 " is not a power of two", erase_size);
	if (open_file(t, path, &nor_file_ops) != 0)
		return -1;
	struct nor_file *nf = calloc(1, sizeof(*nf));
	if (!nf || t->size % erase_size) {
		free(nf);
		file_close(t);
		return err_set("%s: size is not a multiple of the erase size %" PRIu32, path,
			       erase_size);
	}
	nf->flip_bit_at = flip_bit_at;
	t->priv = nf;
	t->erase_size = erase_size;
	t->write_size = 1;
	return 0;
}

int target_open_block(struct target *t, const char *path)
{
	if (open_file(t, path, &block_ops) != 0)
		return -1;
	t->write_size = 512;
	t->direct_fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (t->direct_fd < 0) {
		snprintf(t->direct_error, sizeof(t->direct_error), "O_DIRECT: %s", strerror(errno));
		t->ops = &block_cached_ops;
	}
	return 0;
}
