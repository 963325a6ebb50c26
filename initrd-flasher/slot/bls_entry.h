/* SPDX-License-Identifier: MIT */
/*
 * selfflash's Boot Loader Specification entries on the ESP, as text: entry file names with
 * their boot counters, entry contents, loader.conf. Pure functions on bytes (no files), so
 * every rule about what is on the ESP is tested on its own; slot_sdboot.c does the files.
 * The layout they follow is the ESP contract described at the top of slot_sdboot.c.
 */
#ifndef SELFFLASH_BLS_ENTRY_H
#define SELFFLASH_BLS_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "slot_backend.h"

/* An entry file is at most this many bytes; ours are a few hundred. */
#define BLS_ENTRY_MAX 4096
/* loader.conf is read whole up to this size. */
#define BLS_LOADER_CONF_MAX 4096
/* Every entry name of ours starts with this, then the slot letter. */
#define BLS_NAME_PREFIX "selfflash-slot-"
/* The sort-key of our entries: both slots share it, so systemd-boot orders them by version. */
#define BLS_SORT_KEY "selfflash"
/* Longest command line taken from a boot image (Android boot image v0 holds 512 + 1024). */
#define BLS_CMDLINE_MAX 1536
/* Longest GPT partition name (36 UTF-16 characters; ours are ASCII). */
#define BLS_PARTLABEL_MAX 36

/* An entry file name of ours, taken apart. */
struct bls_name {
	int slot;        /* 0 = slot a, 1 = slot b */
	int is_tmp;      /* NAME.conf.tmp: arm's file before its rename; systemd-boot skips it */
	int has_counter; /* NAME+L.conf or NAME+L-D.conf */
	int tries_left;  /* with has_counter */
	int tries_done;  /* with has_counter; 0 when the name has no "-D" */
};

/*
 * Takes an entry file name apart. Returns 1 with *n filled for a name of ours
 * (BLS_NAME_PREFIX, a or b, an optional boot counter, ".conf", an optional ".tmp"), 0 for a
 * name that is not ours, and -1 with err_msg() naming the file for a name that starts like
 * ours but is malformed (another slot letter, a counter that is not decimal or exceeds
 * INT_MAX, anything after the counter but ".conf").
 */
int bls_name_parse(const char *name, struct bls_name *n);

/*
 * Writes the entry file name for slot (0 or 1) into buf: "selfflash-slot-S.conf" without a
 * counter (tries_left < 0), "selfflash-slot-S+L.conf" with one. Returns 0, or -1 when cap
 * is too small.
 */
int bls_name_format(char *buf, size_t cap, int slot, int tries_left);

/* What read() needs from an entry's contents. */
struct bls_entry {
	uint64_t generation; /* "version G": larger for every install, so the newest sorts first */
	int has_system_version;
	uint64_t system_version; /* "# selfflash system-version V" */
	int has_initrd;
};

/*
 * Parses an entry of slot (0 or 1), written as bls_entry_format writes it: known keys once
 * each, sort-key BLS_SORT_KEY, a positive decimal version, the slot's own kernel (and initrd)
 * path, options starting with root=PARTLABEL=. file names the file in messages. Returns 0,
 * or -1 with err_msg() naming the file and the line.
 */
int bls_entry_parse(const char *text, size_t len, const char *file, int slot,
		    struct bls_entry *e);

/*
 * Checks what a boot image and the update hand over before any of it goes into an entry:
 * the command line printable ASCII without newlines (at most BLS_CMDLINE_MAX bytes), the
 * root partition name non-empty, printable, without spaces (at most BLS_PARTLABEL_MAX).
 * Returns 0, or -1 with err_msg() saying what is wrong.
 */
int bls_boot_check(const struct slot_boot *b);

/*
 * Writes slot's entry (0 or 1) for b at install generation into buf (at most cap bytes,
 * NUL-terminated); *len gets its length. Returns 0, or -1 with err_msg() when b fails
 * bls_boot_check or the entry would not fit.
 */
int bls_entry_format(char *buf, size_t cap, int slot, const struct slot_boot *b,
		     uint64_t generation, size_t *len);

/*
 * Refuses a loader.conf whose `default` line pins an entry: systemd-boot would then boot the
 * pinned entry even after its tries ran out, so the fallback would not happen. Also refuses
 * a NUL byte. file names the file. Returns 0, or -1 with err_msg() naming the file, the line
 * and the fix.
 */
int bls_loader_conf_check(const char *text, size_t len, const char *file);

#endif
