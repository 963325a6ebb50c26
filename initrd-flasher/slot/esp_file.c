/* SPDX-License-Identifier: MIT */
/* ESP files replaced by new file, fsync, rename, directory fsync. */
#include "esp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

int esp_dir_sync(int dir, const char *label)
{
	if (fsync(dir) < 0)
		return err_set("%s: fsync of the directory: %s", label, strerror(errno));
	return 0;
}

int esp_file_replace(int dir, const char *label, const char *tmp_name, const char *name,
		     const void *buf, size_t len)
{
	int fd = openat(dir, tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0644);
	if (fd < 0)
		return err_set("%s/%s: create: %s", label, tmp_name, strerror(errno));
	if (io_write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		int bad = errno;
		close(fd);
		return err_set("%s/%s: write: %s", label, tmp_name, strerror(bad));
	}
	if (close(fd) < 0)
		return err_set("%s/%s: close: %s", label, tmp_name, strerror(errno));
	return esp_file_rename(dir, label, tmp_name, name);
}

/*
 * FAT keeps a file's size and first cluster in its directory entry, and Linux writes a renamed
 * file's new entry with both zero, filling them in only when the file's inode is written back
 * (fs/fat/namei_vfat.c: vfat_rename adds the entry with cluster 0, vfat_build_slots sets size
 * 0, vfat_sync_ipos only marks the inode dirty unless the mount is dirsync). A power cut before
 * that writeback leaves an empty file under the new name: the renamed file itself is fsync'ed
 * (fat_file_fsync writes its inode into the new entry), then the directory.
 */
int esp_file_rename(int dir, const char *label, const char *from, const char *to)
{
	if (renameat(dir, from, dir, to) < 0)
		return err_set("%s/%s: rename to %s: %s", label, from, to, strerror(errno));
	int fd = openat(dir, to, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s/%s: open after the rename: %s", label, to, strerror(errno));
	int rc = fsync(fd);
	int bad = errno;
	close(fd);
	if (rc < 0)
		return err_set("%s/%s: fsync after the rename: %s", label, to, strerror(bad));
	return esp_dir_sync(dir, label);
}

int esp_file_remove(int dir, const char *label, const char *name)
{
	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return err_set("%s/%s: remove: %s", label, name, strerror(errno));
	return 0;
}

int esp_dir_open_made(int parent, const char *label, const char *name, int *fd)
{
	int made = 0;
	if (mkdirat(parent, name, 0755) == 0)
		made = 1;
	else if (errno != EEXIST)
		return err_set("%s/%s: mkdir: %s", label, name, strerror(errno));
	if (made && esp_dir_sync(parent, label) < 0)
		return -1;
	*fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return err_set("%s/%s: %s; expected a directory", label, name, strerror(errno));
	return 0;
}

int esp_file_read_small(int dir, const char *name, const char *label, char *buf, size_t max,
			size_t *len)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return err_set("%s: %s", label, strerror(errno));
	if (fstat(fd, &st) < 0) {
		int bad = errno;
		close(fd);
		return err_set("%s: %s", label, strerror(bad));
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return err_set("%s: not a regular file", label);
		return err_set("%s: %llu bytes, at most %zu expected", label,
			       (unsigned long long)st.st_size, max);
	}
	ssize_t got = read(fd, buf, max);
	close(fd);
	if (got < 0 || (size_t)got != (size_t)st.st_size)
		return err_set("%s: read %zd of %llu bytes", label, got,
			       (unsigned long long)st.st_size);
	*len = (size_t)got;
	return 0;
}

int esp_file_check_same(const char *path, const void *want, size_t len)
{
	unsigned char buf[16384];
	const unsigned char *w = want;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	size_t off = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set("%s: read: %s", path, strerror(errno));
			break;
		}
		if (n == 0 || (size_t)n > len - off || memcmp(buf, w + off, (size_t)n) != 0) {
			if (n != 0 || off != len)
				rc = err_set("%s: differs from the boot image's copy at byte %zu or "
					     "after",
					     path, off);
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	return rc;
}
