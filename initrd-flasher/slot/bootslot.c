/* SPDX-License-Identifier: MIT */
/* EFI variables in efivarfs: read, written in one write, removed (bootslot.h). */
#include "bootslot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include "error.h"
#include "le.h"

/* efivarfs marks most variables immutable; the flag must go before a write or unlink. */
static void make_mutable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	int flags;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
		flags &= ~FS_IMMUTABLE_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

/* DIR/NAME-GUID, the efivarfs file of a variable; -1 when it does not fit. */
static int var_path(char *path, size_t size, const char *dir, const char *name, const char *guid)
{
	int n = snprintf(path, size, "%s/%s-%s", dir, name, guid);
	if (n < 0 || (size_t)n >= size)
		return err_set("EFI variable %s: the path under %s is too long", name, dir);
	return 0;
}

int bootslot_var_read(const char *dir, const char *name, const char *guid, uint8_t *value,
		      size_t cap, size_t *len, int *present)
{
	char path[512];
	*present = 0;
	*len = 0;
	if (cap > BOOTSLOT_VAR_MAX)
		cap = BOOTSLOT_VAR_MAX;
	if (var_path(path, sizeof(path), dir, name, guid) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set("%s: %s", path, strerror(errno));
	/* one byte more than fits, so that a variable too large is seen, not cut */
	uint8_t buf[4 + BOOTSLOT_VAR_MAX + 1];
	ssize_t n = read(fd, buf, 4 + cap + 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return err_set("%s: %s", path, strerror(e));
	if (n < 4 || (size_t)n > 4 + cap)
		return err_set("EFI variable %s is %zd bytes, expected 4 bytes of attributes and at "
			       "most %zu of value", name, n, cap);
	memcpy(value, buf + 4, (size_t)n - 4);
	*len = (size_t)n - 4;
	*present = 1;
	return 0;
}

int bootslot_var_write(const char *dir, const char *name, const char *guid, uint32_t attributes,
		       const uint8_t *value, size_t len)
{
	char path[512];
	if (len == 0 || len > BOOTSLOT_VAR_MAX)
		return err_set("EFI variable %s: a value of %zu bytes (1..%d allowed)", name, len,
			       BOOTSLOT_VAR_MAX);
	if (var_path(path, sizeof(path), dir, name, guid) != 0)
		return -1;
	uint8_t var[4 + BOOTSLOT_VAR_MAX];
	le32_store(var, attributes);
	memcpy(var + 4, value, len);
	make_mutable(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	/* efivarfs takes a variable in one write */
	ssize_t n = write(fd, var, 4 + len);
	int e = errno;
	if (close(fd) != 0 && n == (ssize_t)(4 + len))
		return err_set("%s: %s", path, strerror(errno));
	if (n != (ssize_t)(4 + len))
		return err_set("%s: %s", path, n < 0 ? strerror(e) : "short write");
	return 0;
}

int bootslot_var_remove(const char *dir, const char *name, const char *guid)
{
	char path[512];
	if (var_path(path, sizeof(path), dir, name, guid) != 0)
		return -1;
	if (access(path, F_OK) != 0)
		return 0;
	make_mutable(path);
	if (unlink(path) != 0)
		return err_set("%s: cannot remove the variable: %s", path, strerror(errno));
	return 1;
}
