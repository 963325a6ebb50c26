/* SPDX-License-Identifier: MIT */
/* Boot chain selection through efivarfs. */
#include "bootslot.h"

#include <errno.h>
#include <fcntl.h>
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

static int remove_var(const char *dir, const char *name, const char *guid, FILE *log)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s-%s", dir, name, guid);
	if (access(path, F_OK) != 0)
		return 0;
	make_mutable(path);
	if (unlink(path) != 0)
		return err_set("%s: cannot remove the stale variable: %s", path, strerror(errno));
	fprintf(log, "flasher: removed stale EFI variable %s\n", name);
	return 0;
}

int bootslot_set_efivars(const char *dir, uint8_t slot, FILE *log)
{
	if (slot != PKG_SLOT_A && slot != PKG_SLOT_B)
		return err_set("boot slot %u is neither A nor B", slot);
	char path[512];
	snprintf(path, sizeof(path), "%s/BootChainFwNext-%s", dir, BOOTCHAIN_GUID);
	/* attributes NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS, then a u32: 0 A, 1 B */
	uint8_t var[8];
	le32_store(var, 0x7);
	le32_store(var + 4, slot == PKG_SLOT_A ? 0 : 1);
	make_mutable(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	/* efivarfs takes a variable in one write */
	ssize_t n = write(fd, var, sizeof(var));
	int e = errno;
	if (close(fd) != 0 && n == (ssize_t)sizeof(var))
		return err_set("%s: %s", path, strerror(errno));
	if (n != (ssize_t)sizeof(var))
		return err_set("%s: %s", path, n < 0 ? strerror(e) : "short write");
	if (remove_var(dir, "BootChainFwStatus", BOOTCHAIN_GUID, log) != 0 ||
	    remove_var(dir, "BootNext", EFI_GLOBAL_GUID, log) != 0)
		return -1;
	fprintf(log, "flasher: boot chain %s selected (BootChainFwNext)\n", slot == PKG_SLOT_A ? "A" : "B");
	return 0;
}
