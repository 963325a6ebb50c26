/* SPDX-License-Identifier: MIT */
/*
 * systemd-boot's variables and /EFI/Linux, checked before an update (sdboot_loader.h).
 *
 * What systemd's docs/BOOT_LOADER_INTERFACE.md says of them (v252), and what follows:
 *   LoaderEntrySelected  set by the boot loader to the identifier of the entry it booted (in
 *                        v252 the entry file's name in lower case, boot counter included:
 *                        the name before config_entry_bump_counters renamed it). Ours
 *                        name the slot; anything else means the running system was not booted
 *                        from a slot's entry, and an update would be judged on a root
 *                        partition the boot loader does not agree with: refused.
 *   LoaderEntryDefault   "the default boot loader entry to use", set by `bootctl
 *                        set-default` or the menu's 'd' key, persistent; it wins over
 *                        loader.conf and the sort order (config_default_entry_select), so
 *                        the trial entry would never boot, or an entry with no tries left
 *                        would boot for ever. It is the administrator's standing choice, as
 *                        a loader.conf `default` line is (bls_loader_conf_check refuses
 *                        that too): refused with the fix, never undone behind their back.
 *                        The fix, `bootctl set-default ""`, removes the variable (an empty
 *                        argument is efi_set_variable(variable, NULL, 0) in systemd's
 *                        src/boot/bootctl.c verb_set_efivar).
 *   LoaderEntryOneShot   "the default boot loader entry to use for a single following boot";
 *                        the boot loader deletes it as it reads it. It asks for one boot,
 *                        before the update armed its slot; the update's trial boot is that
 *                        next boot, so arm clears it (logged), as systemd-boot itself would
 *                        at that boot. Cleared, not refused: waiting for a reboot to spend
 *                        it would only delay the update.
 * Type #2 entries: systemd-boot loads every *.efi of /EFI/Linux that is a unified kernel
 * image (config_load_type2_entries, boot.c) and sorts it with the Type #1 entries by
 * sort-key, then version: one may sort before both slots and boot by default, and its tries
 * are not ours. Refused, with the file named, as a foreign loader/entries file is.
 *   LoaderEntries        the identifiers of every entry the boot loader found at this boot,
 *                        in menu order (systemd-stable v252.39 src/boot/efi/boot.c
 *                        config_write_entries_to_variable). It is the only view the running
 *                        system has of an XBOOTLDR partition's loader/entries and EFI/Linux,
 *                        which systemd-boot loads beside the ESP's (config_load_xbootldr) and
 *                        sorts with them (config_load_all_entries): an entry there may sort
 *                        before a slot, or before the old slot when the trial entry runs out
 *                        of tries, so it is refused like a foreign entry on the ESP. The
 *                        entries added after the sort, at the end of the menu, never win over a
 *                        slot: "auto-*" (shell, default loader, firmware setup, Windows,
 *                        macOS) and "secure-boot-keys-*". Missing (a boot loader that does not
 *                        set it): nothing more to check.
 */
#include "sdboot_loader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bls_entry.h"
#include "bootslot.h"
#include "error.h"
#include "io.h"

/* LoaderEntries holds one identifier per entry: a board with many kernels lists many */
#define LOADER_ENTRIES_MAX 65536

static const char *efivars_dir(const struct slot_env *e)
{
	return e->efivars ? e->efivars : SDBOOT_EFIVARS_DEFAULT;
}

/* One UTF-16LE string of at most len bytes (a variable's, or one of LoaderEntries') as
 * ASCII into out, anything else as '?' (which no entry of ours holds). Returns the bytes it
 * took, its NUL included. */
static size_t loader_id(const uint8_t *v, size_t len, char *out, size_t cap)
{
	size_t i = 0, n = 0;
	for (; i + 1 < len; i += 2) {
		unsigned c = v[i] | (unsigned)v[i + 1] << 8;
		if (c == 0) {
			i += 2;
			break;
		}
		if (n + 1 < cap)
			out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return i < len ? i : len;
}

/* A UTF-16LE, NUL-terminated variable as ASCII (loader_id). *present 0 when it is missing.
 * 0, or -1 naming a malformed value. */
static int loader_var(const struct slot_env *e, const char *name, char *out, size_t cap,
		      int *present)
{
	uint8_t v[BOOTSLOT_VAR_MAX];
	size_t len;
	out[0] = '\0';
	if (bootslot_var_read(efivars_dir(e), name, LOADER_GUID, v, sizeof(v), &len, present) != 0)
		return -1;
	if (!*present)
		return 0;
	if (len % 2)
		return err_set("EFI variable %s: %zu bytes, expected a UTF-16 string", name, len);
	loader_id(v, len, out, cap);
	return 0;
}

static int check_selected(const struct slot_env *e, int target)
{
	char id[BOOTSLOT_VAR_MAX / 2 + 1];
	int present;
	struct bls_name n;
	if (loader_var(e, "LoaderEntrySelected", id, sizeof(id), &present) != 0)
		return -1;
	if (!present)
		return err_set("%s has no LoaderEntrySelected: systemd-boot did not boot this "
			       "system, or that is not its efivarfs; the running slot cannot be "
			       "checked with the boot loader (set efivars in the config to the "
			       "efivarfs directory)", efivars_dir(e));
	int ours = bls_name_parse(id, &n);
	if (ours < 0)
		return -1;
	if (!ours)
		return err_set("systemd-boot booted loader entry \"%s\" (LoaderEntrySelected), not "
			       "a slot's: the root partition's slot is not what the boot loader "
			       "chose; boot a slot's entry (selfflash-slot-a or -b), then update", id);
	if (n.slot == target)
		return err_set("systemd-boot booted slot %c's entry \"%s\" (LoaderEntrySelected), "
			       "but the root partition is slot %c's: the board runs a mix; not "
			       "updating slot %c until they agree",
			       'a' + n.slot, id, 'a' + (1 - target), 'a' + target);
	return 0;
}

static int check_default_and_oneshot(const struct slot_env *e)
{
	char id[BOOTSLOT_VAR_MAX / 2 + 1];
	int present;
	if (loader_var(e, "LoaderEntryDefault", id, sizeof(id), &present) != 0)
		return -1;
	if (present && id[0])
		return err_set("LoaderEntryDefault is \"%s\" (`bootctl set-default`, or the boot "
			       "menu's 'd' key): systemd-boot boots that entry whatever its tries "
			       "say, so the updated slot would not boot on trial or not fall back; "
			       "remove it with `bootctl set-default \"\"`, then update", id);
	if (loader_var(e, "LoaderEntryOneShot", id, sizeof(id), &present) != 0)
		return -1;
	if (present)
		fprintf(e->log, "systemd-boot: LoaderEntryOneShot is \"%s\" (`bootctl "
				"set-oneshot`): cleared when the slot is armed, so its trial is "
				"the next boot\n", id);
	return 0;
}

/* Every entry systemd-boot found at this boot is a slot's, or one it puts after them. */
static int check_reported_entries(const struct slot_env *e)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/LoaderEntries-%s", efivars_dir(e), LOADER_GUID) >=
	    (int)sizeof(path))
		return err_set("%s: path too long", efivars_dir(e));
	if (access(path, F_OK) != 0)
		return 0;
	size_t len;
	char *raw = read_small_file(path, LOADER_ENTRIES_MAX + 4, &len);
	if (!raw)
		return -1;
	int rc = 0;
	if (len < 4 || (len - 4) % 2)
		rc = err_set("EFI variable LoaderEntries: %zu bytes, expected 4 bytes of attributes "
			     "and UTF-16 strings", len);
	const uint8_t *v = (const uint8_t *)raw + 4;
	for (size_t at = 4, took; rc == 0 && at < len; at += took) {
		char id[256];
		struct bls_name n;
		took = loader_id(v + (at - 4), len - at, id, sizeof(id));
		if (!id[0] || strncmp(id, "auto-", 5) == 0 || strncmp(id, "secure-boot-keys-", 17) == 0)
			continue;
		int ours = bls_name_parse(id, &n);
		if (ours < 0)
			rc = -1;
		else if (!ours)
			rc = err_set("systemd-boot found entry \"%s\" at this boot (LoaderEntries) "
				     "besides the slots': one on an XBOOTLDR partition (its "
				     "loader/entries or EFI/Linux), or one removed since; systemd-boot "
				     "sorts it with the slots' entries, so trial boot and fallback are "
				     "not assured; remove it, reboot so that the boot loader lists its "
				     "entries again, then update", id);
	}
	free(raw);
	return rc;
}

/* Unified kernel images (Type #2 entries) in /EFI/Linux. */
static int check_uki(int esp)
{
	int fd = openat(esp, "EFI/Linux", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0
							   : err_set("EFI/Linux: %s", strerror(errno));
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_set("EFI/Linux: %s", strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 || strcasecmp(de->d_name + len - 4, ".efi") != 0)
			continue;
		rc = err_set("EFI/Linux/%s: a unified kernel image (a Type #2 entry): "
			     "systemd-boot lists it with the slots' entries and may boot it by "
			     "default, so trial boot and fallback are not assured; remove it or "
			     "move it out of EFI/Linux", de->d_name);
	}
	closedir(d);
	return rc;
}

int sdboot_loader_check(const struct slot_env *e, int esp, int target)
{
	if (check_uki(esp) != 0 || check_default_and_oneshot(e) != 0 || check_selected(e, target))
		return -1;
	return check_reported_entries(e);
}

int sdboot_oneshot_clear(const struct slot_env *e)
{
	int removed = bootslot_var_remove(efivars_dir(e), "LoaderEntryOneShot", LOADER_GUID);
	if (removed < 0)
		return err_prefix("LoaderEntryOneShot would boot another entry before the "
				  "updated slot's trial");
	if (removed)
		fprintf(e->log, "systemd-boot: removed LoaderEntryOneShot, so the next boot is "
				"the updated slot's trial\n");
	return 0;
}
