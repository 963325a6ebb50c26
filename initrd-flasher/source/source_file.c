/* SPDX-License-Identifier: MIT */
/* A package in a file (an embedded package, or a package on a disk in tests): its bytes and its
 * chunks by pread. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"
#include "package_source.h"
#include "source.h"

static int file_fetch(struct chunk_source *src, const struct pkg_chunk *c, uint8_t *buf)
{
	struct file_source *fs = src->priv;
	uint64_t off = fs->data_offset + c->stored_offset;
	if (io_pread_all(fs->fd, buf, c->stored_size, off) != 0)
		return err_set("package read at %" PRIu64 ": %s", off, io_error());
	return 0;
}

static const struct chunk_source_ops file_source_ops = {
	.name = "package file",
	.fetch = file_fetch,
};

void file_source_init(struct file_source *fs, int fd, uint64_t data_offset)
{
	memset(fs, 0, sizeof(*fs));
	fs->fd = fd;
	fs->data_offset = data_offset;
	fs->src.ops = &file_source_ops;
	fs->src.priv = fs;
}

/* ---- the package source ---------------------------------------------------------------- */

struct file_package {
	struct package_source base;
	int fd;
	uint64_t size;
	struct file_source chunks;
};

static int file_open(struct package_source **out, const struct package_source_opts *o)
{
	int fd = open(o->where, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", o->where, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set("%s: not a regular file", o->where);
	}
	struct file_package *fp = calloc(1, sizeof(*fp));
	if (!fp) {
		close(fd);
		return err_set("out of memory");
	}
	fp->base.ops = &file_package_source;
	fp->base.name = o->where;
	fp->fd = fd;
	fp->size = (uint64_t)st.st_size;
	*out = &fp->base;
	return 0;
}

static uint64_t file_size(const struct package_source *s)
{
	return ((const struct file_package *)s)->size;
}

static int file_read(void *s, void *buf, size_t len, uint64_t off)
{
	struct file_package *fp = s;
	if (io_pread_all(fp->fd, buf, len, off) != 0)
		return err_set("read at %" PRIu64 ": %s", off, io_error());
	return 0;
}

static struct chunk_source *file_chunks(struct package_source *s, uint64_t data_offset)
{
	struct file_package *fp = (struct file_package *)s;
	file_source_init(&fp->chunks, fp->fd, data_offset);
	return &fp->chunks.src;
}

static void file_close(struct package_source *s)
{
	struct file_package *fp = (struct file_package *)s;
	close(fp->fd);
	free(fp);
}

const struct package_source_ops file_package_source = {
	.name = "package file",
	.open = file_open,
	.size = file_size,
	.read = file_read,
	.chunks = file_chunks,
	.close = file_close,
};
