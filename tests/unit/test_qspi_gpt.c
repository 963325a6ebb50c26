/* SPDX-License-Identifier: MIT */
/*
 * The QSPI GPT as NVIDIA writes it (DESIGN.md section 8), built for NVIDIA's own R35.3.1
 * flash_t234_qspi.xml on a 64 MiB device and read back field by field by a reader written
 * here (its own CRC-32, not the one the builder uses); the same rules on a small layout that
 * needs no fixture; and what must be refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "write/gpt.h"
#include "write/gpt_write.h"
#include "../../mkflashpkg/layout.h"
#include "check.h"
#include "error.h"
#include "le.h"

static char fixtures[1024];

/* CRC-32 (IEEE, reflected), bit by bit: independent of zlib and of the CPU backends. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static const uint8_t basic_data[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
					0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };

/* The partitions of a layout's first spi device, as the plan hands them to the GPT stage. */
static uint32_t spi_parts(const struct layout *l, struct pkg_partition *out, uint32_t max)
{
	for (size_t d = 0; d < l->ndev; d++) {
		if (strcmp(l->dev[d].type, "spi") != 0)
			continue;
		uint32_t n = 0;
		for (size_t i = l->dev[d].first; i < l->dev[d].first + l->dev[d].count && n < max; i++) {
			const struct layout_part *lp = &l->parts[i];
			struct pkg_partition *p = &out[n++];
			memset(p, 0, sizeof(*p));
			if (strlen(lp->name) >= sizeof(p->name))
				return 0;
			memcpy(p->name, lp->name, strlen(lp->name) + 1);
			p->kind = lp->kind;
			p->offset = lp->offset;
			p->size = lp->size;
		}
		return n;
	}
	return 0;
}

/*
 * Reads blob (gpt_qspi_size(512) bytes, ending at the end of a device of dev_size bytes) the
 * way edk2-nvidia's GptLib does and checks every field DESIGN.md section 8 names against the
 * partitions it should list (all of parts but secondary_gpt, in order). 0 or the line that
 * failed.
 */
static int read_back(const uint8_t *blob, uint64_t dev_size, const struct pkg_partition *parts,
		     uint32_t nparts)
{
	const uint8_t *h = blob + GPT_ENTRIES_BYTES;
	const uint64_t last = dev_size / 512 - 1, entries_lba = (dev_size - 16896) / 512;
	if (memcmp(h, "EFI PART", 8) != 0 || le32_load(h + 8) != 0x00010000 ||
	    le32_load(h + 12) != 92 || le32_load(h + 20) != 0)
		return __LINE__;
	uint8_t copy[92];
	memcpy(copy, h, 92);
	memset(copy + 16, 0, 4);
	if (crc32_ref(copy, 92) != le32_load(h + 16))
		return __LINE__;
	if (le64_load(h + 24) != last || le64_load(h + 32) != 1 || le64_load(h + 40) != 0 ||
	    le64_load(h + 48) != entries_lba || le64_load(h + 72) != entries_lba)
		return __LINE__;
	if (all_zero(h + 56, 16) || le32_load(h + 80) != 128 || le32_load(h + 84) != 128)
		return __LINE__;
	if (crc32_ref(blob, GPT_ENTRIES_BYTES) != le32_load(h + 88) || !all_zero(h + 92, 512 - 92))
		return __LINE__;
	uint32_t e = 0;
	for (uint32_t i = 0; i < nparts; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->kind == PKG_PART_SECONDARY_GPT)
			continue;
		const uint8_t *ent = blob + (size_t)e * 128;
		if (memcmp(ent, basic_data, 16) != 0 || all_zero(ent + 16, 16))
			return __LINE__;
		uint64_t lo = le64_load(ent + 32), hi = le64_load(ent + 40);
		if (lo != p->offset / 512 || hi != (p->offset + p->size) / 512 - 1 || lo > hi ||
		    hi > entries_lba || le64_load(ent + 48) != 0)
			return __LINE__;
		char name[37] = { 0 };
		for (int c = 0; c < 36; c++) {
			uint16_t u = le16_load(ent + 56 + 2 * c);
			if (u > 0x7f)
				return __LINE__;
			name[c] = (char)u;
		}
		if (strcmp(name, p->name) != 0)
			return __LINE__;
		/* unique GUIDs differ between partitions */
		for (uint32_t k = 0; k < e; k++)
			if (memcmp(blob + (size_t)k * 128 + 16, ent + 16, 16) == 0)
				return __LINE__;
		e++;
	}
	if (!all_zero(blob + (size_t)e * 128, GPT_ENTRIES_BYTES - (size_t)e * 128))
		return __LINE__;
	return 0;
}

static const struct pkg_target spi0 = { .kind = PKG_TARGET_MTD, .instance = 0,
					.sector_size = 512, .type = "spi" };

static int build(const struct pkg_partition *parts, uint32_t n, uint64_t dev_size, uint8_t *blob)
{
	static struct gpt_part gp[GPT_ENTRIES];
	uint32_t count;
	if (gpt_qspi_parts(&spi0, 0, parts, n, gp, &count) != 1)
		return -1;
	struct gpt_disk d = { .sector_size = 512, .size = dev_size, .parts = gp, .count = count };
	gpt_guid_from_text("selfflash-disk:spi:0", d.disk_guid);
	return gpt_build_qspi(&d, blob);
}

static void test_nvidia_r35_3_1_qspi_layout(void)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s/flash_t234_qspi.xml", fixtures);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	static char text[1 << 20];
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	struct layout l;
	CHECK(layout_from_xml(text, len, NULL, 0, &l) == 0);
	static struct pkg_partition parts[PKG_MAX_PARTITIONS];
	uint32_t n = spi_parts(&l, parts, PKG_MAX_PARTITIONS);
	layout_free(&l);
	CHECK(n > 10 && strcmp(parts[n - 1].name, "secondary_gpt") == 0);
	int has_backup = 0;
	for (uint32_t i = 0; i < n; i++)
		has_backup |= strcmp(parts[i].name, "secondary_gpt_backup") == 0;
	CHECK(has_backup);
	CHECK(gpt_qspi_size(512) == 16896);
	static uint8_t blob[16896], again[16896];
	const uint64_t size = 64u << 20;
	CHECK(build(parts, n, size, blob) == 0);
	int line = read_back(blob, size, parts, n);
	if (line)
		fprintf(stderr, "  read_back failed at line %d\n", line);
	CHECK(line == 0);
	/* where it goes and what NVIDIA's tegraparser_v2 puts there for this layout */
	CHECK(size - gpt_qspi_size(512) == 0x3FFBE00);
	CHECK(le64_load(blob + GPT_ENTRIES_BYTES + 24) == 131071);
	CHECK(le64_load(blob + GPT_ENTRIES_BYTES + 72) == 131039);
	/* stable: the same layout gives the same bytes (an identical re-flash erases nothing) */
	CHECK(build(parts, n, size, again) == 0 && memcmp(blob, again, sizeof(blob)) == 0);
	/* built from the real size: a 128 MiB part of the same layout ends its GPT there */
	CHECK(build(parts, n, 128u << 20, again) == 0 && read_back(again, 128u << 20, parts, n) == 0);
	CHECK(le64_load(again + GPT_ENTRIES_BYTES + 24) == 262143);
}

static const char *small_xml =
	"<partition_layout>\n"
	" <device type=\"spi\" instance=\"0\" sector_size=\"512\" num_sectors=\"16384\">\n"
	"  <partition name=\"BCT\" type=\"boot_config_table\"><size>262144</size></partition>\n"
	"  <partition name=\"A_fw\" type=\"data\"><size>1048576</size></partition>\n"
	"  <partition name=\"uefi_variables\" type=\"data\"><size>262144</size></partition>\n"
	"  <partition name=\"secondary_gpt_backup\" type=\"data\"><size>65536</size></partition>\n"
	"  <partition name=\"secondary_gpt\" type=\"secondary_gpt\"><size>0xFFFFFFFFFFFFFFFF</size></partition>\n"
	" </device>\n"
	"</partition_layout>\n";

static uint32_t small_parts(struct pkg_partition *parts)
{
	struct layout l;
	if (layout_from_xml(small_xml, strlen(small_xml), NULL, 0, &l) != 0)
		return 0;
	uint32_t n = spi_parts(&l, parts, 16);
	layout_free(&l);
	return n;
}

static void test_small_layout_read_back(void)
{
	struct pkg_partition parts[16];
	uint32_t n = small_parts(parts);
	CHECK(n == 5);
	static uint8_t blob[16896];
	CHECK(build(parts, n, 8u << 20, blob) == 0);
	CHECK(read_back(blob, 8u << 20, parts, n) == 0);
	/* a partition's own type GUID, when the layout gives one, wins */
	parts[1].type_guid[0] = 0x42;
	CHECK(build(parts, n, 8u << 20, blob) == 0);
	CHECK(blob[128] == 0x42);
}

static void test_no_secondary_gpt_means_no_gpt(void)
{
	struct pkg_partition parts[16];
	uint32_t n = small_parts(parts);
	CHECK(n == 5);
	static struct gpt_part gp[GPT_ENTRIES];
	uint32_t count;
	CHECK(gpt_qspi_parts(&spi0, 0, parts, n - 1, gp, &count) == 0);
	/* partitions of another target are not listed */
	parts[2].target = 1;
	CHECK(gpt_qspi_parts(&spi0, 0, parts, n, gp, &count) == 1 && count == 3);
}

static void test_what_cannot_be_a_qspi_gpt_is_refused(void)
{
	struct pkg_partition parts[16];
	uint32_t n = small_parts(parts);
	CHECK(n == 5);
	static uint8_t blob[16896];
	/* a partition reaching into the GPT's own sectors */
	parts[3].offset = (8u << 20) - 65536;
	CHECK(build(parts, n, 8u << 20, blob) == -1);
	CHECK(strstr(err_msg(), "secondary_gpt_backup") && strstr(err_msg(), "outside the usable"));
	n = small_parts(parts);
	/* a name longer than the 36 UTF-16 characters an entry holds */
	strcpy(parts[1].name, "a_name_much_longer_than_36_characters");
	CHECK(build(parts, n, 8u << 20, blob) == -1 && strstr(err_msg(), "longer than 36"));
	n = small_parts(parts);
	/* overlapping partitions */
	parts[2].offset = parts[1].offset;
	CHECK(build(parts, n, 8u << 20, blob) == -1 && strstr(err_msg(), "overlaps"));
	n = small_parts(parts);
	/* a device too small to hold it */
	CHECK(build(parts, n, 16384, blob) == -1 && strstr(err_msg(), "cannot hold"));
}

int main(void)
{
	const char *env = getenv("SELFFLASH_FIXTURES");
	snprintf(fixtures, sizeof(fixtures), "%s",
		 env ? env : "../shared/fixtures/nvidia-l4t-r35.3.1");
	RUN(test_small_layout_read_back);
	RUN(test_no_secondary_gpt_means_no_gpt);
	RUN(test_what_cannot_be_a_qspi_gpt_is_refused);
	char probe[1100];
	snprintf(probe, sizeof(probe), "%s/flash_t234_qspi.xml", fixtures);
	FILE *f = fopen(probe, "rb");
	if (f) {
		fclose(f);
		RUN(test_nvidia_r35_3_1_qspi_layout);
	} else {
		SKIP(test_nvidia_r35_3_1_qspi_layout, "no ../shared/fixtures/nvidia-l4t-r35.3.1");
	}
	return CHECK_EXIT();
}
