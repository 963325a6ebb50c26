/* SPDX-License-Identifier: MIT */
/* The board's partition tables read from its devices: a disk's GPT, NVIDIA's QSPI GPT. */
#include "update_qspi.h"

#include <blkid/blkid.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "error.h"
#include "le.h"
#include "write/gpt_write.h"

/* The GPT header's fields (UEFI 2.9 table 5-5) at their byte offsets. */
enum {
	HDR_SIZE = 12, HDR_CRC = 16, HDR_MY_LBA = 24, HDR_FIRST_USABLE = 40,
	HDR_LAST_USABLE = 48, HDR_ENTRIES_LBA = 72, HDR_ENTRY_COUNT = 80, HDR_ENTRY_SIZE = 84,
	HDR_ENTRIES_CRC = 88, HDR_MIN = 92,
};
/* An entry's fields; its name is 36 UTF-16LE code units. */
enum { ENTRY_FIRST = 32, ENTRY_LAST = 40, ENTRY_NAME = 56, ENTRY_NAME_UNITS = 36 };
/* Larger entries than NVIDIA's 128 bytes are allowed as UEFI allows them, to a bound. */
#define ENTRY_SIZE_MAX 1024u

int update_read_disk_table(struct target *dev, struct update_table *out)
{
	memset(out, 0, sizeof(*out));
	blkid_probe pr;
	blkid_partlist pl;
	int rc = gpt_probe_partitions(dev, &pr, &pl);
	if (rc > 0)
		rc = err_set("%s: no partition table; an update needs the board flashed first (in "
			     "recovery mode)", dev->name);
	int n = rc == 0 ? blkid_partlist_numof_partitions(pl) : 0;
	if (n > UPDATE_TABLE_MAX)
		rc = err_set("%s: %d partitions, at most %d", dev->name, n, UPDATE_TABLE_MAX);
	for (int k = 0; rc == 0 && k < n; k++) {
		blkid_partition bp = blkid_partlist_get_partition(pl, k);
		const char *name = bp ? blkid_partition_get_name(bp) : NULL;
		struct update_table_part *p = &out->part[out->count++];
		snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
		p->offset = bp ? (uint64_t)blkid_partition_get_start(bp) * 512 : 0;
		p->size = bp ? (uint64_t)blkid_partition_get_size(bp) * 512 : 0;
	}
	if (pr)
		blkid_free_probe(pr);
	update_table_slots(out);
	return rc;
}

/* An entry's name as ASCII (NVIDIA's names are); -1 for another character. */
static int entry_name(const uint8_t *e, char *name, size_t size)
{
	size_t n = 0;
	for (; n < ENTRY_NAME_UNITS && n + 1 < size; n++) {
		uint16_t u = le16_load(e + ENTRY_NAME + 2 * n);
		if (u == 0)
			break;
		if (u < 0x20 || u > 0x7e)
			return -1;
		name[n] = (char)u;
	}
	name[n] = '\0';
	return 0;
}

/* The entry array's partitions into out, each checked against the usable LBAs. */
static int parse_entries(const char *dev, const uint8_t *entries, uint32_t count, uint32_t esize,
			 uint32_t ss, uint64_t first_usable, uint64_t last_usable,
			 struct update_table *out)
{
	static const uint8_t unused[16];
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = entries + (size_t)i * esize;
		if (memcmp(e, unused, 16) == 0)
			continue;
		uint64_t lo = le64_load(e + ENTRY_FIRST), hi = le64_load(e + ENTRY_LAST);
		struct update_table_part *p = &out->part[out->count];
		if (entry_name(e, p->name, sizeof(p->name)) != 0)
			return err_set("%s: QSPI GPT entry %" PRIu32 " has a name that is not "
				       "printable ASCII", dev, i);
		if (lo > hi || lo < first_usable || hi > last_usable)
			return err_set("%s: QSPI GPT entry %s (LBAs %" PRIu64 "..%" PRIu64 ") lies "
				       "outside the usable LBAs %" PRIu64 "..%" PRIu64,
				       dev, p->name, lo, hi, first_usable, last_usable);
		p->offset = lo * ss; /* last_usable < the device's LBAs: no overflow */
		p->size = (hi - lo + 1) * ss;
		out->count++;
	}
	return 0;
}

/* The copy in secondary_gpt_backup is the same bytes (region: entries through header). */
static int check_backup_copy(struct target *dev, const struct update_table *t,
			     const uint8_t *region, size_t len)
{
	const struct update_table_part *b = NULL;
	for (uint32_t i = 0; i < t->count && !b; i++)
		if (strcmp(t->part[i].name, "secondary_gpt_backup") == 0)
			b = &t->part[i];
	if (!b)
		return 0;
	if (b->size < len)
		return err_set("%s: secondary_gpt_backup (%" PRIu64 " bytes) cannot hold the "
			       "%zu-byte copy of the QSPI GPT", dev->name, b->size, len);
	uint8_t *copy = malloc(len);
	if (!copy)
		return err_set("out of memory for the QSPI GPT's copy");
	int rc = dev->ops->read(dev, b->offset, copy, len);
	if (rc == 0 && memcmp(copy, region, len) != 0)
		rc = err_set("%s: the copy of the QSPI GPT in secondary_gpt_backup (at %" PRIu64
			     ") differs from the one at the end of the device: the board's layout "
			     "is not what its flash left; re-flash it in recovery mode",
			     dev->name, b->offset);
	free(copy);
	return rc;
}

int update_read_qspi_table(struct target *dev, uint32_t ss, struct update_table *out)
{
	memset(out, 0, sizeof(*out));
	static const char fix[] = "an update cannot tell where the board's QSPI partitions are: "
				  "re-flash it in recovery mode, or set update-qspi no";
	if (ss < 512 || ss > 4096 || (ss & (ss - 1)) || dev->size % ss || dev->size < 4 * (uint64_t)ss)
		return err_set("%s: %" PRIu64 " bytes in sectors of %" PRIu32 ": no QSPI GPT can be "
			       "read; %s", dev->name, dev->size, ss, fix);
	const uint64_t lbas = dev->size / ss;
	uint8_t hdr[4096];
	if (dev->ops->read(dev, dev->size - ss, hdr, ss) != 0)
		return err_prefix("%s: the QSPI GPT header", dev->name);
	uint32_t hsize = le32_load(hdr + HDR_SIZE), hcrc = le32_load(hdr + HDR_CRC);
	if (memcmp(hdr, "EFI PART", 8) != 0 || hsize < HDR_MIN || hsize > ss)
		return err_set("%s: no GPT header in the last sector (NVIDIA keeps the QSPI GPT "
			       "there); %s", dev->name, fix);
	le32_store(hdr + HDR_CRC, 0);
	if (crc32_update(0, hdr, hsize) != hcrc)
		return err_set("%s: the QSPI GPT header's CRC does not match; %s", dev->name, fix);
	uint64_t my_lba = le64_load(hdr + HDR_MY_LBA);
	uint64_t first = le64_load(hdr + HDR_FIRST_USABLE), last = le64_load(hdr + HDR_LAST_USABLE);
	uint64_t entries_lba = le64_load(hdr + HDR_ENTRIES_LBA);
	uint32_t count = le32_load(hdr + HDR_ENTRY_COUNT), esize = le32_load(hdr + HDR_ENTRY_SIZE);
	if (my_lba != lbas - 1 || esize < 128 || esize > ENTRY_SIZE_MAX || esize % 8 ||
	    count > UPDATE_TABLE_MAX)
		return err_set("%s: QSPI GPT header: MyLBA %" PRIu64 " (the last is %" PRIu64 "), %"
			       PRIu32 " entries of %" PRIu32 " bytes: not a GPT this flasher reads "
			       "(entries 128..%u bytes, at most %d); %s", dev->name, my_lba,
			       lbas - 1, count, esize, ENTRY_SIZE_MAX, UPDATE_TABLE_MAX, fix);
	/* as NVIDIA writes it (DESIGN.md section 8): the entries just before the header */
	const uint64_t array = ((uint64_t)count * esize + ss - 1) / ss * ss;
	if (entries_lba != lbas - 1 - array / ss || last >= lbas || first > last)
		return err_set("%s: QSPI GPT header: entries at LBA %" PRIu64 ", usable LBAs %"
			       PRIu64 "..%" PRIu64 ": not NVIDIA's layout (entries just before the "
			       "header); %s", dev->name, entries_lba, first, last, fix);
	const size_t region_len = (size_t)array + ss;
	uint8_t *region = malloc(region_len);
	if (!region)
		return err_set("out of memory for the QSPI GPT");
	int rc = dev->ops->read(dev, entries_lba * ss, region, region_len);
	if (rc != 0)
		rc = err_prefix("%s: the QSPI GPT entries", dev->name);
	else if (crc32_update(0, region, (size_t)count * esize) != le32_load(hdr + HDR_ENTRIES_CRC))
		rc = err_set("%s: the QSPI GPT entries' CRC does not match; %s", dev->name, fix);
	else
		rc = parse_entries(dev->name, region, count, esize, ss, first, last, out);
	if (rc == 0)
		rc = check_backup_copy(dev, out, region, region_len);
	free(region);
	update_table_slots(out);
	return rc;
}

/* What NVIDIA's QSPI GPT lists: every partition but secondary_gpt, the GPT's own place. */
static int qspi_listed(uint8_t kind)
{
	return kind != PKG_PART_SECONDARY_GPT && kind != PKG_PART_FILE;
}

int update_check_qspi(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		      struct target *dev, struct update_table *board)
{
	struct pkg_target tg;
	pkg_manifest_target(m, t, &tg);
	if (update_read_qspi_table(dev, tg.sector_size, board) != 0)
		return -1;
	return update_table_compare(board, m, t, parts, qspi_listed, dev->name);
}
