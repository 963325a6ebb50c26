/* SPDX-License-Identifier: MIT */
/*
 * The partition GUIDs of NVIDIA's own disk GPT. The flasher writes the disk's GPT itself from
 * the package, but what it writes must carry NVIDIA's GUIDs: the ESP's type GUID is how UEFI
 * finds it, and flash.sh puts the APP partition's unique GUID into the rootfs as
 * root=PARTUUID=... (Linux_for_Tegra R35.3.1 flash.sh, "generate a new uuid every time you
 * flash"). tegraflash leaves that GPT as the primary_gpt partition's file (gpt_primary_9_0.bin:
 * the header at LBA 1, then the entries; bootloader/tegraflash_internal.py,
 * tegraflash_gpt_image_name_map). Read as hostile: UEFI specification 2.10, section 5.3.
 */
#include "l4t.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "error.h"
#include "io.h"
#include "le.h"
#include "pkg.h"

#define GPT_FILE_MAX (1u << 20)
#define GPT_NAME_UNITS 36

/* GPT byte order (first three groups little-endian) to "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" */
static void guid_text(const uint8_t *g, char out[LAYOUT_TEXT_MAX])
{
	snprintf(out, LAYOUT_TEXT_MAX,
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", g[3], g[2],
		 g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

static int entry_name(const uint8_t *e, char *out, size_t size)
{
	size_t n = 0;
	for (int i = 0; i < GPT_NAME_UNITS; i++) {
		uint16_t c = le16_load(e + 56 + 2 * i);
		if (c == 0)
			break;
		if (c < 0x20 || c > 0x7e || n + 1 >= size)
			return -1; /* NVIDIA's names are ASCII */
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

/*
 * The flasher numbers GPT entries in the package's order; NVIDIA numbers them by the layout's
 * id= (APP is 1, APP_b 2 in the A/B NVMe layouts, so the rootfs is nvme0n1p1 whatever its
 * place on the disk, and extlinux.conf says root=/dev/nvme0n1p1). So the disk's data
 * partitions go into NVIDIA's entry order; the GPT's own partitions first, as they were.
 */
static int order_like_nvidia(struct layout *l, const struct layout_device *d,
			     const uint32_t *number, const char *path)
{
	static struct layout_part sorted[LAYOUT_MAX_PARTS];
	size_t n = 0;
	for (size_t j = 0; j < d->count; j++) {
		const struct layout_part *p = &l->parts[d->first + j];
		if (p->kind != PKG_PART_DATA)
			sorted[n++] = *p;
		else if (number[j] == 0)
			return err_set("%s has no entry for %s: the flasher could not number the "
				       "partitions as NVIDIA does", path, p->name);
	}
	for (uint32_t want = 1; n < d->count; want++) {
		size_t k = d->count;
		for (size_t j = 0; j < d->count && k == d->count; j++)
			if (number[j] == want && l->parts[d->first + j].kind == PKG_PART_DATA)
				k = j;
		if (k == d->count)
			return err_set("%s has no entry %" PRIu32 " among the index's partitions: the "
				       "flasher numbers GPT entries 1..N without gaps", path, want);
		sorted[n++] = l->parts[d->first + k];
	}
	memcpy(&l->parts[d->first], sorted, d->count * sizeof(*sorted));
	return 0;
}

int l4t_apply_gpt_guids(struct layout *l, const struct layout_device *d, const char *path,
			unsigned *applied)
{
	size_t len;
	uint8_t *f = (uint8_t *)read_small_file(path, GPT_FILE_MAX, &len);
	*applied = 0;
	if (!f)
		return -1;
	int rc = l4t_apply_gpt_bytes(l, d, f, len, path, applied);
	free(f);
	return rc;
}

int l4t_apply_gpt_bytes(struct layout *l, const struct layout_device *d, uint8_t *f, size_t len,
			const char *path, unsigned *applied)
{
	static uint32_t number[LAYOUT_MAX_PARTS];
	memset(number, 0, sizeof(number));
	*applied = 0;
	const uint64_t sector = d->sector_size;
	int rc = 0;
	uint32_t hsize = len >= 92 ? le32_load(f + 12) : 0;
	if (len < 92 || memcmp(f, "EFI PART", 8) != 0)
		rc = err_set("%s: no GPT header (\"EFI PART\") at its start", path);
	else if (hsize < 92 || hsize > sector || hsize > len)
		rc = err_set("%s: GPT header size %" PRIu32 " is not 92..%" PRIu64, path, hsize, sector);
	if (rc == 0) {
		uint32_t want = le32_load(f + 16);
		le32_store(f + 16, 0);
		if (crc32_update(0, f, hsize) != want)
			rc = err_set("%s: the GPT header's CRC32 does not match", path);
	}
	uint64_t my_lba = rc == 0 ? le64_load(f + 24) : 0, entries_lba = rc == 0 ? le64_load(f + 72) : 0;
	uint32_t count = rc == 0 ? le32_load(f + 80) : 0, esize = rc == 0 ? le32_load(f + 84) : 0;
	/* the file holds the disk from my_lba on: the entries sit (entries_lba - my_lba) sectors in */
	uint64_t eoff = 0;
	if (rc == 0 && (my_lba != 1 || entries_lba < 2 || entries_lba > 64))
		rc = err_set("%s: GPT header at LBA %" PRIu64 " with entries at LBA %" PRIu64
			     ", expected the primary header at LBA 1", path, my_lba, entries_lba);
	if (rc == 0) {
		eoff = (entries_lba - my_lba) * sector;
		if (esize < 128 || esize % 8 || count == 0 || count > 1024 ||
		    eoff + (uint64_t)count * esize > len)
			rc = err_set("%s: %" PRIu32 " entries of %" PRIu32 " bytes do not fit its %zu "
				     "bytes", path, count, esize, len);
		else if (crc32_update(0, f + eoff, (size_t)count * esize) != le32_load(f + 88))
			rc = err_set("%s: the GPT entries' CRC32 does not match", path);
	}
	static const uint8_t zero[16];
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		const uint8_t *e = f + eoff + (uint64_t)i * esize;
		if (memcmp(e, zero, 16) == 0)
			continue;
		char name[GPT_NAME_UNITS + 1];
		if (entry_name(e, name, sizeof(name)) != 0) {
			rc = err_set("%s: entry %" PRIu32 " has no ASCII name", path, i + 1);
			break;
		}
		uint64_t first = le64_load(e + 32), last = le64_load(e + 40);
		struct layout_part *p = NULL;
		for (size_t j = 0; j < d->count && !p; j++)
			if (strcmp(l->parts[d->first + j].name, name) == 0) {
				p = &l->parts[d->first + j];
				number[j] = i + 1;
			}
		if (!p)
			continue; /* a partition NVIDIA's GPT has and the index does not: not ours */
		if (last < first || first > UINT64_MAX / sector ||
		    first * sector != p->offset || (last - first + 1) > UINT64_MAX / sector ||
		    (last - first + 1) * sector != p->size) {
			rc = err_set("%s puts %s at LBA %" PRIu64 "..%" PRIu64 ", flash.idx at byte %"
				     PRIu64 " (%" PRIu64 " bytes): the two disagree", path, name, first,
				     last, p->offset, p->size);
			break;
		}
		guid_text(e, p->type_guid);
		guid_text(e + 16, p->unique_guid);
		(*applied)++;
	}
	return rc == 0 ? order_like_nvidia(l, d, number, path) : rc;
}
