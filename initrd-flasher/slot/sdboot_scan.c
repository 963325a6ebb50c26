/* SPDX-License-Identifier: MIT */
/* The systemd-boot backend's scan of the ESP's loader entries (sdboot_scan.h). */
#include "sdboot_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "esp_file.h"

int sdboot_esp_open(const struct slot_env *e, const char *rel, int *fd)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", e->esp, rel) >= (int)sizeof(path))
		return err_set("ESP path %.80s...: too long", e->esp);
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return err_set("%s: %s; expected the %s directory of the ESP", path, strerror(errno),
			       rel);
	return 0;
}

/* One entry file of ours: refused when its slot already has one. */
static int scan_one(int dir, const char *name, const struct bls_name *n, struct sdboot_scan *s)
{
	char text[BLS_ENTRY_MAX];
	char label[NAME_MAX + 32];
	size_t len;
	int i = n->slot;
	snprintf(label, sizeof(label), "loader/entries/%s", name);
	if (esp_file_read_small(dir, name, label, text, sizeof(text), &len) < 0)
		return -1;
	/*
	 * Empty: a rename cut short by the power. FAT writes a renamed file's size with its inode,
	 * after the rename (esp_file.c); systemd-boot skips an entry without `linux`
	 * (config_entry_add_type1 in src/boot/efi/boot.c), and so does this: not bootable.
	 */
	if (len == 0)
		return 0;
	if (s->has_entry[i]) {
		/* the confirmed entry and the counted one it was copied from: a cut confirm */
		int counted_first = s->name[i].has_counter && !n->has_counter;
		int counted_now = !s->name[i].has_counter && n->has_counter;
		if ((counted_first || counted_now) && len == s->text_len[i] &&
		    memcmp(text, s->text[i], len) == 0) {
			if (counted_now) {
				snprintf(s->stale_name[i], sizeof(s->stale_name[i]), "%s", name);
				return 0;
			}
			memcpy(s->stale_name[i], s->entry_name[i], sizeof(s->stale_name[i]));
		} else {
			return err_set("loader/entries: slot %c has two entries, %s and %s; remove "
				       "the one that should not boot",
				       i ? 'b' : 'a', s->entry_name[i], name);
		}
	}
	if (bls_entry_parse(text, len, label, i, &s->entry[i]) < 0)
		return -1;
	memcpy(s->text[i], text, len);
	s->text_len[i] = len;
	s->has_entry[i] = 1;
	s->name[i] = *n;
	snprintf(s->entry_name[i], sizeof(s->entry_name[i]), "%s", name);
	if (s->entry[i].generation > s->max_generation)
		s->max_generation = s->entry[i].generation;
	return 0;
}

/*
 * Reads every entry of ours in loader/entries (dir). foreign_name, when not NULL, gets the
 * first entry systemd-boot would load that is not ours ("" when none).
 */
int sdboot_scan(int dir, struct sdboot_scan *s, char foreign_name[NAME_MAX + 1])
{
	memset(s, 0, sizeof(*s));
	if (foreign_name)
		foreign_name[0] = '\0';
	int fd = dup(dir);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set("loader/entries: %s", strerror(errno));
	}
	rewinddir(d);
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct bls_name n;
		int ours = bls_name_parse(de->d_name, &n);
		size_t len = strlen(de->d_name);
		if (ours < 0) {
			rc = -1;
		} else if (ours && !n.is_tmp) {
			rc = scan_one(dir, de->d_name, &n, s);
		} else if (!ours && foreign_name && !foreign_name[0] && de->d_name[0] != '.' &&
			   len >= 5 && strcasecmp(de->d_name + len - 5, ".conf") == 0 &&
			   strncmp(de->d_name, "auto-", 5) != 0) {
			/* what config_load_entries (boot.c) would load */
			snprintf(foreign_name, NAME_MAX + 1, "%s", de->d_name);
		}
	}
	closedir(d);
	return rc;
}

void sdboot_view_fill(const struct sdboot_scan *s, int i, struct slot_view *v)
{
	memset(v, 0, sizeof(*v));
	v->tries_left = -1;
	v->tries_done = -1;
	if (!s->has_entry[i]) {
		v->health = SLOT_UNBOOTABLE;
		return;
	}
	const struct bls_name *n = &s->name[i];
	v->health = !n->has_counter ? SLOT_GOOD : n->tries_left > 0 ? SLOT_TRIAL : SLOT_BAD;
	if (n->has_counter) {
		v->tries_left = n->tries_left;
		v->tries_done = n->tries_done;
	}
	v->has_version = s->entry[i].has_system_version;
	v->version = s->entry[i].system_version;
}
