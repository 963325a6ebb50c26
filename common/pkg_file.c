/* SPDX-License-Identifier: MIT */
/* A package in a file: header checked, manifest authenticated before it is decoded. */
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
#include "keys.h"

int pkg_file_read(const struct pkg_file *f, void *buf, size_t len, uint64_t off)
{
	if (f->read)
		return f->read(f->read_ctx, buf, len, off);
	if (io_pread_all(f->fd, buf, len, off) != 0)
		return err_set("read at %" PRIu64 ": %s", off, io_error());
	return 0;
}

/*
 * Header and manifest bytes of a package of `size` bytes: the header is checked (it gives the
 * manifest's size); the manifest stays raw bytes until its signature holds.
 */
static int load_manifest(struct pkg_file *f, uint64_t size)
{
	int rc = 0;
	if (size < PKG_PREFIX_SIZE)
		rc = err_set("package is %" PRIu64 " bytes, shorter than its %d-byte header", size,
			     PKG_PREFIX_SIZE);
	if (rc == 0)
		rc = pkg_file_read(f, f->prefix, sizeof(f->prefix), 0);
	if (rc == 0)
		rc = pkg_header_decode(f->prefix, size, &f->header);
	/* the size was checked against PKG_MAX_MANIFEST_SIZE before this allocation */
	if (rc == 0 && !(f->manifest_buf = malloc((size_t)f->header.manifest_size)))
		rc = err_set("out of memory for a %" PRIu64 "-byte manifest", f->header.manifest_size);
	if (rc == 0)
		rc = pkg_file_read(f, f->manifest_buf, (size_t)f->header.manifest_size,
				PKG_MANIFEST_OFFSET);
	return rc;
}

int pkg_file_decode_unverified(struct pkg_file *f)
{
	if (pkg_manifest_decode(f->manifest_buf, f->header.manifest_size, f->header.data_size,
				&f->manifest) != 0)
		return -1;
	f->decoded = 1;
	return 0;
}

int pkg_file_authenticate(struct pkg_file *f, const struct pkg_pubkey *key)
{
	/* BearSSL's habit: the signature covers raw bytes, and nothing parses them before it holds */
	if (pkg_verify_signature(key, &f->header, f->prefix, f->manifest_buf,
				 f->header.manifest_size) != 0)
		return -1;
	return pkg_file_decode_unverified(f);
}

int pkg_file_open_reader(struct pkg_file *f, const char *name, uint64_t size, pkg_read_fn read,
			 void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->read = read;
	f->read_ctx = ctx;
	int rc = load_manifest(f, size);
	if (rc != 0) {
		if (strncmp(err_msg(), name, strlen(name)) != 0) /* a URL's own messages name it */
			err_prefix("%s", name);
		pkg_file_close(f);
	}
	return rc;
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
	int rc = load_manifest(f, (uint64_t)st.st_size);
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

