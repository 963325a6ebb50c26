/* SPDX-License-Identifier: MIT */
/* The running system's own version and the systemd-boot backend's floor file (slot_version.h). */
#include "slot_version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "version_text.h"
#include "esp_file.h"
#include "sdboot_scan.h"

/* "18446744073709551615\n" and a byte more, so that a longer file is seen as one */
#define VERSION_TEXT_MAX 24

int slot_version_read_own(const struct slot_env *e, int *known, uint64_t *v)
{
	const char *path = e->system_version_file ? e->system_version_file
						  : SLOT_SYSTEM_VERSION_FILE;
	char text[VERSION_TEXT_MAX];
	*known = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set("%s: %s", path, strerror(errno));
	ssize_t got = read(fd, text, sizeof(text));
	int bad = errno;
	close(fd);
	if (got < 0)
		return err_set("%s: %s", path, strerror(bad));
	if ((size_t)got == sizeof(text))
		return err_set("%s: longer than a system version (a decimal number)", path);
	if (version_text_parse(text, (size_t)got, path, v) < 0)
		return -1;
	*known = 1;
	return 0;
}

int slot_floor_read_esp(const struct slot_env *e, int *known, uint64_t *floor)
{
	int esp;
	*known = 0;
	if (sdboot_esp_open(e, ".", &esp) < 0)
		return -1;
	int rc = 0;
	if (faccessat(esp, SLOT_FLOOR_FILE, F_OK, 0) == 0) {
		char text[VERSION_TEXT_MAX];
		size_t len;
		rc = esp_file_read_small(esp, SLOT_FLOOR_FILE, SLOT_FLOOR_FILE, text, sizeof(text),
					 &len);
		/* empty: a rename cut short by the power (FAT writes a renamed file's size only
		 * with its inode, esp_file.h): no floor, until the next mark_good writes it again
		 * from the confirmed slot's version */
		if (rc == 0 && len > 0)
			rc = version_text_parse(text, len, SLOT_FLOOR_FILE, floor);
		*known = rc == 0 && len > 0;
	} else if (errno != ENOENT) {
		rc = err_set("%s/%s: %s", e->esp, SLOT_FLOOR_FILE, strerror(errno));
	}
	close(esp);
	return rc;
}

int slot_floor_raise_esp(const struct slot_env *e, uint64_t v)
{
	int known, esp, top = -1;
	uint64_t floor = 0;
	if (slot_floor_read_esp(e, &known, &floor) < 0)
		return -1;
	if (known && floor >= v)
		return 0;
	if (sdboot_esp_open(e, ".", &esp) < 0)
		return -1;
	char text[VERSION_TEXT_MAX];
	int len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)v);
	int rc = esp_dir_open_made(esp, "ESP", "selfflash", &top);
	if (rc == 0)
		rc = esp_file_replace(top, "selfflash", "version-floor.tmp", "version-floor", text,
				      (size_t)len);
	if (rc == 0)
		fprintf(e->log, "selfflash: anti-rollback floor %s%llu (%s): packages older than "
				"it are refused\n",
			known ? "raised to " : "set to ", (unsigned long long)v, SLOT_FLOOR_FILE);
	if (top >= 0)
		close(top);
	close(esp);
	return rc;
}
