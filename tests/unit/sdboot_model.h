/* SPDX-License-Identifier: MIT */
/*
 * A model of how systemd-boot 252 (Debian bookworm's systemd-boot-efi) chooses and counts a
 * Type #1 entry, written from its source (src/boot/efi/boot.c), so tests can "boot" an ESP
 * directory after every step of an update.
 */
#ifndef SELFFLASH_SDBOOT_MODEL_H
#define SELFFLASH_SDBOOT_MODEL_H

#define MODEL_TEXT_MAX 2048

struct model_entry {
	char file[256];        /* its name in loader/entries when it was chosen */
	char id[256];          /* file name, lower case */
	char title[256];
	char sort_key[64];     /* "" with has_sort_key 0 */
	int has_sort_key;
	char version[64];
	int has_version;
	char linux_path[256];
	char initrd[256];      /* the first initrd line; "" when none */
	int initrd_count;
	char options[MODEL_TEXT_MAX];
	int tries_left, tries_done; /* -1 without boot counting */
};

/*
 * Loads loader/entries of the ESP at esp as config_load_entries does, sorts them with
 * config_entry_compare, picks the default as config_default_entry_select does (a `default`
 * pattern of loader/loader.conf first, else the first entry) and bumps its counter by
 * renaming as config_entry_bump_counters does. Returns 0 with *chosen (its name before the
 * rename), or -1 with why: nothing bootable, or an order the model cannot decide.
 */
int model_boot(const char *esp, struct model_entry *chosen, char *why, unsigned why_len);

#endif
