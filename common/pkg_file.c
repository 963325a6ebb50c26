/* SPDX-License-Identifier: MIT */
/* A package in a file: header and manifest read and checked, chunks read by offset. */
#include "pkg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

int pkg_file_read(const struct pkg_file *f, void *buf, size_t len, uint64_t off)
{
	if (io_pread_all(f->fd, buf, len, off) != 0)
		return err_set("read at %" PRIu64 ": %s", off, io_error());
	return 0;
}

int pkg_file_open(const char *path, struct pkg_file *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		pkg_file_close(f);
		return err_set("%s: not a regular file", path);
	}
	int rc = 0;
	if ((uint64_t)st.st_size < PKG_PREFIX_SIZE)
		rc = err_set("package is %lld bytes, shorter than its %d-byte header",
			     (long long)st.st_size, PKG_PREFIX_SIZE);
	if (rc == 0)
		rc = pkg_file_read(f, f->prefix, sizeof(f->prefix), 0);
	if (rc == 0)
		rc = pkg_header_decode(f->prefix, (uint64_t)st.st_size, &f->header);
	/* the size was checked against PKG_MAX_MANIFEST_SIZE before this allocation */
	if (rc == 0 && !(f->manifest_buf = malloc((size_t)f->header.manifest_size)))
		rc = err_set("out of memory for a %" PRIu64 "-byte manifest", f->header.manifest_size);
	if (rc == 0)
		rc = pkg_file_read(f, f->manifest_buf, (size_t)f->header.manifest_size,
				PKG_MANIFEST_OFFSET);
	if (rc == 0)
		rc = pkg_manifest_decode(f->manifest_buf, f->header.manifest_size,
					 f->header.data_size, &f->manifest);
	if (rc != 0) {
		err_prefix("%s", path);
		pkg_file_close(f);
	}
	return rc;
}

void pkg_file_close(struct pkg_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->manifest_buf);
	f->manifest_buf = NULL;
}

