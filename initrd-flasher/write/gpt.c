/* SPDX-License-Identifier: MIT */
/* GPT building (UEFI spec, chapter 5): protective MBR, headers, entries, CRC32s. */
#include "gpt.h"

#include <inttypes.h>
#include <string.h>

#include <zlib.h>

#include "error.h"
#include "le.h"
#include "sha256.h"

/* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 in on-disk byte order */
const uint8_t gpt_type_linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					  0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

/* EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 in on-disk byte order (first three groups little-endian) */
const uint8_t gpt_type_basic_data[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
					  0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };

static uint64_t entry_sectors(uint32_t ss)
{
	return (GPT_ENTRIES_BYTES + ss - 1) / ss;
}

size_t gpt_primary_size(uint32_t ss)
{
	return (size_t)(2 + entry_sectors(ss)) * ss;
}

size_t gpt_backup_size(uint32_t ss)
{
	return (size_t)(1 + entry_sectors(ss)) * ss;
}

void gpt_guid_from_text(const char *text, uint8_t guid[16])
{
	uint8_t d[SHA256_LEN];
	sha256_buffer(text, strlen(text), d);
	memcpy(guid, d, 16);
	/* on disk the third group is little-endian: its high nibble is in byte 7 */
	guid[7] = (uint8_t)((guid[7] & 0x0f) | 0x80);
	guid[8] = (uint8_t)((guid[8] & 0x3f) | 0x80);
}

static void put_header(uint8_t *h, uint64_t my_lba, uint64_t alt_lba, uint64_t first_usable,
		       uint64_t last_usable, const uint8_t guid[16], uint64_t entries_lba,
		       uint32_t entries_crc)
{
	memcpy(h, "EFI PART", 8);
	le32_store(h + 8, 0x00010000);
	le32_store(h + 12, 92);
	le64_store(h + 24, my_lba);
	le64_store(h + 32, alt_lba);
	le64_store(h + 40, first_usable);
	le64_store(h + 48, last_usable);
	memcpy(h + 56, guid, 16);
	le64_store(h + 72, entries_lba);
	le32_store(h + 80, GPT_ENTRIES);
	le32_store(h + 84, GPT_ENTRY_SIZE);
	le32_store(h + 88, entries_crc);
	le32_store(h + 16, (uint32_t)crc32(0, h, 92));
}

/*
 * Fills the entry array (GPT_ENTRIES_BYTES, zeroed by the caller) from d's partitions, after
 * checking that each is in whole sectors, inside [first_usable, last_usable], overlaps no
 * other and has a name that fits. 0 or -1.
 */
static int put_entries(const struct gpt_disk *d, uint8_t *entries, uint64_t first_usable,
		       uint64_t last_usable)
{
	const uint32_t ss = d->sector_size;
	for (uint32_t i = 0; i < d->count; i++) {
		const struct gpt_part *p = &d->parts[i];
		if (p->offset % ss || p->size % ss || p->size == 0)
			return err_set("GPT: partition %s (%" PRIu64 "+%" PRIu64
				       ") is not in whole sectors of %" PRIu32,
				       p->name, p->offset, p->size, ss);
		uint64_t lo = p->offset / ss, hi = lo + p->size / ss - 1;
		if (lo < first_usable || hi > last_usable || hi < lo)
			return err_set("GPT: partition %s (sectors %" PRIu64 "..%" PRIu64
				       ") lies outside the usable sectors %" PRIu64 "..%" PRIu64,
				       p->name, lo, hi, first_usable, last_usable);
		for (uint32_t j = 0; j < i; j++) {
			const struct gpt_part *q = &d->parts[j];
			if (p->offset < q->offset + q->size && q->offset < p->offset + p->size)
				return err_set("GPT: partition %s overlaps %s", p->name, q->name);
		}
		size_t len = strlen(p->name);
		if (len > GPT_NAME_MAX)
			return err_set("GPT: partition name %s is longer than %d characters", p->name,
				       GPT_NAME_MAX);
		uint8_t *e = entries + (size_t)i * GPT_ENTRY_SIZE;
		memcpy(e, p->type_guid, 16);
		memcpy(e + 16, p->unique_guid, 16);
		le64_store(e + 32, lo);
		le64_store(e + 40, hi);
		for (size_t c = 0; c < len; c++)
			le16_store(e + 56 + 2 * c, (uint8_t)p->name[c]);
	}
	return 0;
}

/* The checks every GPT shares: sector size, disk size, entry count. 0 or -1. */
static int check_disk(const struct gpt_disk *d)
{
	const uint32_t ss = d->sector_size;
	if (ss < 512 || (ss & (ss - 1)) || d->size % ss)
		return err_set("GPT: sector size %" PRIu32 " or disk size %" PRIu64 " unusable", ss,
			       d->size);
	if (d->count > GPT_ENTRIES)
		return err_set("GPT: %" PRIu32 " partitions, a GPT holds %d", d->count, GPT_ENTRIES);
	return 0;
}

int gpt_build(const struct gpt_disk *d, uint8_t *primary, uint8_t *backup)
{
	const uint32_t ss = d->sector_size;
	if (check_disk(d) != 0)
		return -1;
	const uint64_t lbas = d->size / ss, es = entry_sectors(ss);
	if (lbas < 2 * es + 4)
		return err_set("GPT: disk of %" PRIu64 " bytes is too small for a GPT", d->size);
	const uint64_t last = lbas - 1, first_usable = 2 + es, last_usable = last - es - 1;

	memset(primary, 0, gpt_primary_size(ss));
	memset(backup, 0, gpt_backup_size(ss));
	uint8_t *entries = primary + 2 * (size_t)ss;
	if (put_entries(d, entries, first_usable, last_usable) != 0)
		return -1;
	uint32_t entries_crc = (uint32_t)crc32(0, entries, GPT_ENTRIES_BYTES);

	/* protective MBR: one partition of type 0xEE over the whole disk (capped at 2^32-1) */
	uint8_t *mbr = primary + 446;
	mbr[4] = 0xee;
	mbr[1] = 0x00;
	mbr[2] = 0x02;
	mbr[5] = mbr[6] = mbr[7] = 0xff;
	le32_store(mbr + 8, 1);
	le32_store(mbr + 12, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	primary[510] = 0x55;
	primary[511] = 0xaa;

	put_header(primary + ss, 1, last, first_usable, last_usable, d->disk_guid, 2, entries_crc);
	memcpy(backup, entries, GPT_ENTRIES_BYTES);
	put_header(backup + es * ss, last, 1, first_usable, last_usable, d->disk_guid, last - es,
		   entries_crc);
	return 0;
}

size_t gpt_qspi_size(uint32_t ss)
{
	return GPT_ENTRIES_BYTES + (size_t)ss;
}

/*
 * NVIDIA's QSPI GPT, as tegraparser_v2 --generategpt makes it for R35.3.1 and edk2-nvidia's
 * GptLib reads it (DESIGN.md section 8): only a backup-style GPT, the entry array then one
 * sector holding the header, ending at the device's end. MyLBA is the last LBA, AlternateLBA
 * 1 (there is no primary), FirstUsableLBA 0, and LastUsableLBA equal to the entry array's LBA
 * (NVIDIA's quirk, kept: UEFI checks every entry against [FirstUsable, LastUsable]).
 */
int gpt_build_qspi(const struct gpt_disk *d, uint8_t *out)
{
	const uint32_t ss = d->sector_size;
	if (check_disk(d) != 0)
		return -1;
	const size_t size = gpt_qspi_size(ss);
	if (d->size < size + ss)
		return err_set("GPT: a %" PRIu64 "-byte device cannot hold a %zu-byte QSPI GPT", d->size,
			       size);
	const uint64_t last = d->size / ss - 1, entries_lba = (d->size - size) / ss;
	memset(out, 0, size);
	if (put_entries(d, out, 0, entries_lba) != 0)
		return -1;
	uint32_t entries_crc = (uint32_t)crc32(0, out, GPT_ENTRIES_BYTES);
	put_header(out + GPT_ENTRIES_BYTES, last, 1, 0, entries_lba, d->disk_guid, entries_lba,
		   entries_crc);
	return 0;
}
