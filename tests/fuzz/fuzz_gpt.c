/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the GPT writer (disk and NVIDIA's QSPI form): the input describes a
 * device and a partition list (sector size, device size, offsets, sizes, names). Whatever the
 * writer accepts is read back here by an independent reader and must be a valid GPT: headers
 * and entry arrays whose CRCs hold, every entry inside the usable range, none overlapping,
 * names as given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "write/gpt.h"
#include "le.h"

static uint64_t take(const uint8_t **p, size_t *n, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes && *n; i++, (*p)++, (*n)--)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

/* Reads one GPT header and its entries back; aborts on anything a reader would reject. */
static void read_back(const uint8_t *hdr, const uint8_t *entries, const struct gpt_disk *d,
		      uint64_t first_usable, uint64_t last_usable)
{
	uint8_t copy[92];
	memcpy(copy, hdr, 92);
	memset(copy + 16, 0, 4);
	if (memcmp(hdr, "EFI PART", 8) != 0 || le32_load(hdr + 12) != 92 ||
	    (uint32_t)crc32(0, copy, 92) != le32_load(hdr + 16) ||
	    (uint32_t)crc32(0, entries, GPT_ENTRIES_BYTES) != le32_load(hdr + 88) ||
	    le64_load(hdr + 40) != first_usable || le64_load(hdr + 48) != last_usable)
		abort();
	const uint32_t ss = d->sector_size;
	for (uint32_t i = 0; i < GPT_ENTRIES; i++) {
		const uint8_t *e = entries + (size_t)i * GPT_ENTRY_SIZE;
		uint64_t lo = le64_load(e + 32), hi = le64_load(e + 40);
		if (i >= d->count) {
			for (size_t k = 0; k < GPT_ENTRY_SIZE; k++)
				if (e[k])
					abort(); /* an unused entry that is not zero */
			continue;
		}
		if (lo > hi || lo < first_usable || hi > last_usable ||
		    lo != d->parts[i].offset / ss || hi != lo + d->parts[i].size / ss - 1)
			abort();
		for (uint32_t j = 0; j < i; j++) {
			const uint8_t *f = entries + (size_t)j * GPT_ENTRY_SIZE;
			if (lo <= le64_load(f + 40) && le64_load(f + 32) <= hi)
				abort(); /* overlapping entries */
		}
		for (size_t c = 0; c < 36; c++) {
			char want = c < strlen(d->parts[i].name) ? d->parts[i].name[c] : 0;
			if (le16_load(e + 56 + 2 * c) != (uint8_t)want)
				abort();
		}
	}
}

static uint8_t primary[GPT_ENTRIES_BYTES + 3 * 4096], backup[GPT_ENTRIES_BYTES + 2 * 4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gpt_part parts[GPT_ENTRIES + 1];
	const uint8_t *p = data;
	size_t n = size;
	struct gpt_disk d = { 0 };
	d.sector_size = (uint32_t)(512u << (take(&p, &n, 1) % 4)); /* 512 .. 4096 */
	d.size = take(&p, &n, 8);
	uint32_t count = (uint32_t)(take(&p, &n, 1) % (GPT_ENTRIES + 2));
	for (uint32_t i = 0; i < count && i <= GPT_ENTRIES; i++) {
		struct gpt_part *g = &parts[i];
		memset(g, 0, sizeof(*g));
		/* mostly aligned offsets and sizes, so that some lists are accepted */
		g->offset = take(&p, &n, 4) * (take(&p, &n, 1) & 1 ? 1 : d.sector_size);
		g->size = take(&p, &n, 4) * (take(&p, &n, 1) & 1 ? 1 : d.sector_size);
		size_t len = (size_t)(take(&p, &n, 1) % 48);
		for (size_t c = 0; c < len && c < sizeof(g->name) - 1; c++)
			g->name[c] = (char)(0x21 + take(&p, &n, 1) % 94);
		g->type_guid[0] = 1;
		g->unique_guid[0] = (uint8_t)i;
	}
	d.parts = parts;
	d.count = count;
	const uint32_t ss = d.sector_size;
	if (gpt_build(&d, primary, backup) == 0) {
		uint64_t es = GPT_ENTRIES_BYTES / ss + (GPT_ENTRIES_BYTES % ss != 0);
		uint64_t last = d.size / ss - 1;
		read_back(primary + ss, primary + 2 * (size_t)ss, &d, 2 + es, last - es - 1);
		read_back(backup + es * ss, backup, &d, 2 + es, last - es - 1);
	}
	if (gpt_build_qspi(&d, primary) == 0) {
		uint64_t entries_lba = (d.size - gpt_qspi_size(ss)) / ss;
		read_back(primary + GPT_ENTRIES_BYTES, primary, &d, 0, entries_lba);
	}
	return 0;
}
