/* SPDX-License-Identifier: MIT */
/*
 * The system version in an ESP image's loader entries. A systemd-boot board takes its
 * installed version from the `# selfflash system-version N` line of each slot's entry
 * (initrd-flasher/slot/bls_entry.c), written to the ESP by a first flash as the package's ESP
 * image holds it. An entry that says less than the manifest would let that board accept an
 * older package later (anti-rollback compares with the entry), and one that says nothing
 * leaves the version unknown (its first update refused without --allow-downgrade): both are
 * caught when the package is built.
 */
#ifndef SELFFLASH_ESP_VERSION_H
#define SELFFLASH_ESP_VERSION_H

#include <stdint.h>
#include <stdio.h>

/*
 * When `image` (partition `part`) is a FAT file system with selfflash's loader entries
 * (loader/entries/selfflash-slot-*.conf), each one's system-version line must say `version`:
 * another number is refused, a missing line is a warning on stderr. An image that is not
 * FAT, or has no such entries, is not an ESP of a systemd-boot board: nothing to check. The
 * entries are read with mtools (mdir, mtype), read-only; without mtools a note says they were
 * not checked. `out` (NULL: quiet) gets a line per entry that agrees. 0, or -1 with err_set().
 */
int esp_version_check_image(const char *part, const char *image, uint64_t version, FILE *out);

#endif
