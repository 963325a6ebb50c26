/* SPDX-License-Identifier: MIT */
/* Chunks from a package file (an embedded package, or a package on a disk in tests). */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "io.h"
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
