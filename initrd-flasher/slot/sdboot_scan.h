/* SPDX-License-Identifier: MIT */
/*
 * The systemd-boot backend's view of the ESP (slot_sdboot.c): selfflash's loader entries read
 * and checked, per slot. The ESP contract is at the top of slot_sdboot.c.
 */
#ifndef SELFFLASH_SDBOOT_SCAN_H
#define SELFFLASH_SDBOOT_SCAN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "bls_entry.h"
#include "slot_backend.h"

#define ENTRIES_DIR "loader/entries"

/* What loader/entries holds for selfflash. */
struct sdboot_scan {
	int has_entry[2];
	char entry_name[2][NAME_MAX + 1];
	/* a counted entry beside the confirmed one with the same text: a confirm cut short
	 * between writing the confirmed entry and removing the counted one ("" when none) */
	char stale_name[2][NAME_MAX + 1];
	char text[2][BLS_ENTRY_MAX];
	size_t text_len[2];
	struct bls_name name[2];
	struct bls_entry entry[2];
	uint64_t max_generation; /* over both slots' entries; 0 when there are none */
};

/* The ESP's directory rel (".", "loader/entries") opened in *fd; 0 or -1 naming it. */
int sdboot_esp_open(const struct slot_env *e, const char *rel, int *fd);

/*
 * Reads every entry of ours in loader/entries (dir) into s: one per slot (a confirm cut short
 * leaves its counted twin in stale_name; an empty file, a rename cut short, is no entry).
 * foreign_name, when not NULL, gets the first entry systemd-boot would load that is not ours
 * ("" when none). 0 or -1 naming the entry that is wrong.
 */
int sdboot_scan(int dir, struct sdboot_scan *s, char foreign_name[NAME_MAX + 1]);

/* Slot i's state as the scan found it. */
void sdboot_view_fill(const struct sdboot_scan *s, int i, struct slot_view *v);

#endif
