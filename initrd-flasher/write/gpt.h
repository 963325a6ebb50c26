/* SPDX-License-Identifier: MIT */
/*
 * The GUID partition table the board writes to its disk (and the backup GPT NVIDIA keeps at
 * the end of the QSPI), built from the package's partitions and the device's real size:
 * protective MBR, primary header and entries, and the backup copy at the real end.
 */
#ifndef SELFFLASH_GPT_H
#define SELFFLASH_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"

#define GPT_ENTRIES 128
#define GPT_ENTRY_SIZE 128
#define GPT_ENTRIES_BYTES (GPT_ENTRIES * GPT_ENTRY_SIZE)
#define GPT_NAME_MAX 36 /* UTF-16 code units in an entry's name */

struct gpt_part {
	char name[PKG_PART_NAME_LEN];
	uint8_t type_guid[16];
	uint8_t unique_guid[16];
	uint64_t offset, size; /* bytes; multiples of the sector size */
};

struct gpt_disk {
	uint32_t sector_size;
	uint64_t size; /* the device's real size in bytes */
	uint8_t disk_guid[16];
	const struct gpt_part *parts;
	uint32_t count;
};

/* Bytes of the primary area (MBR, header, entries) and of the backup (entries, header). */
size_t gpt_primary_size(uint32_t sector_size);
size_t gpt_backup_size(uint32_t sector_size);

/*
 * Builds the protective MBR + primary GPT (gpt_primary_size bytes, for offset 0) and the
 * backup (gpt_backup_size bytes, for the last sectors). Checks that every partition is
 * sector-aligned, inside the usable area and not overlapping another, and that names fit.
 * Returns 0 or -1 with err_msg().
 */
int gpt_build(const struct gpt_disk *d, uint8_t *primary, uint8_t *backup);

/* Bytes of NVIDIA's QSPI GPT: the entry array, then one sector with the header. */
size_t gpt_qspi_size(uint32_t sector_size);

/*
 * Builds NVIDIA's QSPI GPT (DESIGN.md section 8) into out (gpt_qspi_size bytes, to be written
 * so that it ends at the device's end): no protective MBR and no primary GPT, the entries of
 * d's partitions in the order given, then the header with MyLBA = the last LBA, AlternateLBA
 * 1, FirstUsableLBA 0 and LastUsableLBA = the entry array's LBA. Same checks as gpt_build,
 * against [0, the entry array's LBA]. 0 or -1 with err_msg().
 */
int gpt_build_qspi(const struct gpt_disk *d, uint8_t *out);

/* A stable GUID derived from text (SHA-256, RFC 9562 version 8): the same package gives the
 * same disk on every board, so loader entries can name partitions by PARTUUID. */
void gpt_guid_from_text(const char *text, uint8_t guid[16]);

/* GPT type GUID of "Linux filesystem data", for partitions whose layout gives none. */
extern const uint8_t gpt_type_linux_data[16];

/* EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 ("basic data"): NVIDIA's type for QSPI partitions. */
extern const uint8_t gpt_type_basic_data[16];

#endif
