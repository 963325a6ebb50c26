/* SPDX-License-Identifier: MIT */
/*
 * The XML reader, NVIDIA layout offsets (every rule of DESIGN.md §6), flash.idx, and NVIDIA's
 * own R35.3.1 layouts when ../shared/fixtures is present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../../common/pkg.h"
#include "../../mkflashpkg/layout.h"
#include "../../mkflashpkg/xml.h"
#include "check.h"

static struct layout lay;

static int parse(const char *devices, const struct layout_set *sets, size_t nsets)
{
	static char doc[1 << 16];
	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<!-- test -->\n<partition_layout>\n%s"
				   "</partition_layout>\n", devices);
	layout_free(&lay);
	return layout_from_xml(doc, strlen(doc), sets, nsets, &lay);
}

/* The last partition of that name (layouts with two devices repeat secondary_gpt). */
static const struct layout_part *part(const char *name)
{
	for (size_t i = lay.nparts; i-- > 0;)
		if (strcmp(lay.parts[i].name, name) == 0)
			return &lay.parts[i];
	return NULL;
}

static int error_has(const char *needle)
{
	if (strstr(err_msg(), needle))
		return 1;
	fprintf(stderr, "  error \"%s\" does not mention \"%s\"\n", err_msg(), needle);
	return 0;
}

#define SPI(body) "<device type=\"spi\" instance=\"0\" sector_size=\"512\" num_sectors=\"131072\">" body "</device>\n"
#define P(name, inner) "<partition name=\"" name "\" type=\"data\">" inner "</partition>\n"
#define SIZE(v) "<size> " v " </size>"

static void test_sequential_offsets_and_sector_rounding(void)
{
	CHECK(parse(SPI(P("a", SIZE("1000")) P("b", SIZE("0x1000")) P("c", SIZE("512"))), NULL, 0) == 0);
	CHECK(part("a")->offset == 0 && part("a")->size == 1024); /* rounded up to a sector */
	CHECK(part("b")->offset == 1024 && part("b")->size == 4096);
	CHECK(part("c")->offset == 5120);
	CHECK(lay.dev[0].size == 64 << 20);
}

static void test_align_boundary_rounds_the_offset(void)
{
	CHECK(parse(SPI(P("a", SIZE("4096")) P("b", SIZE("4096") "<align_boundary>65536</align_boundary>")
			P("c", SIZE("4096") "<align_boundary>65536</align_boundary>")),
		    NULL, 0) == 0);
	CHECK(part("b")->offset == 65536 && part("c")->offset == 131072);
	CHECK(parse(SPI(P("a", SIZE("4096") "<align_boundary>3000</align_boundary>")), NULL, 0) == -1);
	CHECK(error_has("not a power of two"));
}

static void test_start_location_wins_and_must_not_go_back(void)
{
	CHECK(parse(SPI(P("a", SIZE("4096")) P("b", SIZE("4096") "<start_location>0x100000</start_location>"
							    "<align_boundary>0x200000</align_boundary>")
			P("c", SIZE("4096"))),
		    NULL, 0) == 0);
	/* start_location wins over align_boundary; the cursor follows it */
	CHECK(part("b")->offset == 0x100000 && part("c")->offset == 0x101000);
	CHECK(parse(SPI(P("a", SIZE("8192")) P("b", SIZE("4096") "<start_location>4096</start_location>")), NULL, 0) == -1);
	CHECK(error_has("before the end of the previous partition"));
}

static void test_secondary_gpt_sits_at_the_end_without_moving_the_cursor(void)
{
	CHECK(parse(SPI(P("a", SIZE("4096"))
			"<partition name=\"secondary_gpt\" type=\"secondary_gpt\">" SIZE("0xFFFFFFFFFFFFFFFF") "</partition>"),
		    NULL, 0) == 0);
	const struct layout_part *g = part("secondary_gpt");
	CHECK(g->at_end && g->kind == PKG_PART_SECONDARY_GPT);
	CHECK(g->size == 16896 && g->offset == (64 << 20) - 16896);
}

static void test_fill_to_end_grows_to_the_next_fixed_partition(void)
{
	const char *disk = "<device type=\"nvme\" instance=\"0\" sector_size=\"512\" num_sectors=\"2097152\">"
			   P("a", SIZE("1048576"))
			   "<partition name=\"UDA\" type=\"data\"><size></size><allocation_attribute>0x808</allocation_attribute></partition>"
			   "<partition name=\"secondary_gpt\" type=\"secondary_gpt\">" SIZE("0xFFFFFFFFFFFFFFFF") "</partition>"
			   "</device>";
	CHECK(parse(disk, NULL, 0) == 0);
	const struct layout_part *u = part("UDA");
	CHECK(u->fill_to_end && u->offset == 1048576);
	CHECK(u->offset + u->size == (1ULL << 30) - 16896);
	/* with a start_location partition after it, it ends there */
	const char *disk2 = "<device type=\"nvme\" instance=\"0\" sector_size=\"512\" num_sectors=\"2097152\">"
			    "<partition name=\"UDA\" type=\"data\"><size>0</size><allocation_attribute>0x808</allocation_attribute></partition>"
			    P("tail", SIZE("4096") "<start_location>0x30000000</start_location>")
			    "</device>";
	CHECK(parse(disk2, NULL, 0) == 0);
	CHECK(part("UDA")->size == 0x30000000 && part("tail")->offset == 0x30000000);
	/* anything else after it would have no place */
	const char *bad = "<device type=\"nvme\" instance=\"0\" sector_size=\"512\" num_sectors=\"2097152\">"
			  "<partition name=\"UDA\" type=\"data\"><size>0</size><allocation_attribute>0x808</allocation_attribute></partition>"
			  P("after", SIZE("4096")) "</device>";
	CHECK(parse(bad, NULL, 0) == -1);
	CHECK(error_has("follows fill-to-end partition UDA"));
}

static void test_placeholders_stay_unresolved_until_set(void)
{
	const char *body = SPI(P("a", SIZE("4096")) P("APP", SIZE("APPSIZE") "<filename>APPFILE</filename>")
			       P("b", SIZE("4096")) P("c", SIZE("4096") "<start_location>0x2000000</start_location>"));
	CHECK(parse(body, NULL, 0) == 0);
	CHECK(!part("APP")->size_known && part("APP")->offset_known);
	CHECK_STR_EQ(part("APP")->size_text, "APPSIZE");
	CHECK(!part("b")->offset_known && part("b")->size_known); /* follows an unknown size */
	CHECK(part("c")->offset_known && part("c")->offset == 0x2000000);
	struct layout_set sets[] = { { "APPSIZE", "0x100000" }, { "APPFILE", "rootfs.img" } };
	CHECK(parse(body, sets, 2) == 0);
	CHECK(part("APP")->size == 0x100000 && part("b")->offset == 4096 + 0x100000);
	CHECK_STR_EQ(part("APP")->filename, "rootfs.img");
	CHECK(parse(SPI(P("a", SIZE("12abc"))), NULL, 0) == -1);
	CHECK(error_has("neither a number nor a placeholder"));
}

static void test_partitions_must_fit_and_not_overlap(void)
{
	CHECK(parse(SPI(P("a", SIZE("0x4000000")) P("b", SIZE("512"))), NULL, 0) == -1);
	CHECK(error_has("runs past the end of spi:0"));
	CHECK(parse(SPI(P("a", SIZE("4096") "<start_location>0x3fff000</start_location>")
			P("b", SIZE("8192"))),
		    NULL, 0) == -1);
	CHECK(error_has("runs past the end"));
	CHECK(parse(SPI(P("a", SIZE("4096")) P("a", SIZE("4096"))), NULL, 0) == -1);
	CHECK(error_has("used twice"));
	CHECK(parse(SPI(P("a", SIZE("0xFFFFFFFFFFFFF000")) P("b", SIZE("512"))), NULL, 0) == -1);
}

static void test_unknown_elements_and_attributes_are_refused(void)
{
	CHECK(parse(SPI(P("a", SIZE("4096") "<magic>1</magic>")), NULL, 0) == -1);
	CHECK(error_has("unknown element <magic> in partition a"));
	CHECK(error_has("line 4"));
	CHECK(parse(SPI("<blob/>"), NULL, 0) == -1);
	CHECK(error_has("unknown element <blob> in <device>"));
	CHECK(parse("<device type=\"spi\" instance=\"0\" sector_size=\"512\" num_sectors=\"8\" speed=\"1\"/>", NULL, 0) == -1);
	CHECK(error_has("unknown attribute 'speed'"));
	CHECK(parse("<device type=\"floppy\" instance=\"0\" sector_size=\"512\" num_sectors=\"8\"/>", NULL, 0) == -1);
	CHECK(error_has("unknown device type 'floppy'"));
	CHECK(parse("<device type=\"spi\" instance=\"0\" sector_size=\"512\"/>", NULL, 0) == -1);
	CHECK(error_has("needs type, instance, sector_size and num_sectors"));
	CHECK(parse("", NULL, 0) == -1);
	CHECK(error_has("no <device>"));
}

static void test_slots_from_names(void)
{
	CHECK(parse(SPI(P("A_mb1", SIZE("512")) P("B_mb1", SIZE("512")) P("kernel", SIZE("512"))
			P("kernel_b", SIZE("512")) P("esp", SIZE("512")) P("esp_alt", SIZE("512"))),
		    NULL, 0) == 0);
	CHECK(part("A_mb1")->slot == PKG_SLOT_A && part("B_mb1")->slot == PKG_SLOT_B);
	CHECK(part("kernel")->slot == PKG_SLOT_A && part("kernel_b")->slot == PKG_SLOT_B);
	CHECK(part("esp")->slot == PKG_SLOT_NONE && part("esp_alt")->slot == PKG_SLOT_NONE);
}

/* ---- the XML reader -------------------------------------------------------------------- */

static void test_xml_text_entities_cdata_and_comments(void)
{
	const char *doc = "\xef\xbb\xbf<?xml version='1.0'?><!-- a -- b --><r a='1 &amp; 2' b=\"&#x41;&#66;\">"
			  "x &lt; y<![CDATA[<raw>]]><!-- inside --><c/>z</r><!-- after -->";
	struct xml_node *r = xml_parse(doc, strlen(doc));
	CHECK(r != NULL);
	CHECK_STR_EQ(xml_attr_get(r, "a"), "1 & 2");
	CHECK_STR_EQ(xml_attr_get(r, "b"), "AB");
	CHECK_STR_EQ(r->text, "x < y<raw>z");
	CHECK(r->children && strcmp(r->children->name, "c") == 0 && !r->children->next);
	xml_free(r);
}

static void test_xml_hostile_documents_are_refused(void)
{
	static const struct {
		const char *doc, *error;
	} cases[] = {
		{ "<!DOCTYPE r [<!ENTITY x \"y\">]><r/>", "DOCTYPE" },
		{ "<r><a></b></r>", "</b> closes <a>" },
		{ "<r>", "not closed" },
		{ "<r a='1' a='2'/>", "attribute given twice" },
		{ "<r a=1/>", "not quoted" },
		{ "<r a='<'/>", "'<' in attribute value" },
		{ "<r>&bogus;</r>", "unknown entity" },
		{ "<r>&#0;</r>", "outside Unicode" },
		{ "<r>&#x110000;</r>", "outside Unicode" },
		{ "<r>&#xD800;</r>", "outside Unicode" },
		{ "<r/><s/>", "content after the root" },
		{ "text<r/>", "text before the root" },
		{ "", "no root element" },
		{ "<r><!-- open </r>", "comment not closed" },
		{ "<1r/>", "expected a name" },
		{ "<r/ >", "expected '>' or '/>'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xml_node *r = xml_parse(cases[i].doc, strlen(cases[i].doc));
		if (r || !strstr(err_msg(), cases[i].error)) {
			fprintf(stderr, "  '%s': got \"%s\"\n", cases[i].doc, r ? "(parsed)" : err_msg());
			xml_free(r);
			CHECK(0);
		}
	}
	CHECK(xml_parse("<r>\0</r>", 8) == NULL);
	CHECK(error_has("NUL"));
}

static void test_xml_depth_is_bounded(void)
{
	static char doc[4096];
	size_t n = 0;
	for (int i = 0; i < XML_MAX_DEPTH + 1; i++)
		n += (size_t)sprintf(doc + n, "<a>");
	for (int i = 0; i < XML_MAX_DEPTH + 1; i++)
		n += (size_t)sprintf(doc + n, "</a>");
	CHECK(xml_parse(doc, n) == NULL);
	CHECK(error_has("nested too deeply"));
	n = 0;
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		n += (size_t)sprintf(doc + n, "<a>");
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		n += (size_t)sprintf(doc + n, "</a>");
	struct xml_node *r = xml_parse(doc, n);
	CHECK(r != NULL);
	xml_free(r);
}

/* ---- flash.idx ------------------------------------------------------------------------- */

static void test_flash_idx_partitions_and_checks(void)
{
	const char *idx =
		"0, 3:0:BCT, 0, 1048576, br_bct_BR.bct, 8192, fixed-<reserved>-0, "
		"0123456789abcdef0123456789abcdef01234567\n"
		"1, 3:0:A_mb1, 1048576, 524288, mb1.bin, 398848, fixed-<reserved>-1, \n"
		"2, 3:0:B_mb1, 1572864, 524288, mb1.bin, 398848, fixed-<reserved>-2, \n"
		"3, 3:0:secondary_gpt, 67091968, 16896, , 0, fixed-<reserved>-3, \n"
		"0, 9:0:APP, 40960, 1073741824, system.img, 1000, fixed-<reserved>-0, \n";
	layout_free(&lay);
	CHECK(layout_from_flash_idx(idx, strlen(idx), &lay) == 0);
	CHECK(lay.ndev == 2 && lay.nparts == 5);
	CHECK_STR_EQ(lay.dev[0].type, "spi");
	CHECK(lay.dev[0].size == 64 << 20);
	CHECK_STR_EQ(lay.dev[1].type, "external");
	CHECK(part("A_mb1")->offset == 1048576 && part("A_mb1")->slot == PKG_SLOT_A);
	CHECK(part("BCT")->file_size == 8192);
	CHECK_STR_EQ(part("BCT")->sha1, "0123456789abcdef0123456789abcdef01234567");
	CHECK(part("secondary_gpt")->kind == PKG_PART_SECONDARY_GPT);

	static const struct {
		const char *idx, *error;
	} bad[] = {
		{ "0, 3:0:A, 0, 512, a.bin, 5, x\n", "7 fields, expected 8" },
		{ "0, 7:0:A, 0, 512, a.bin, 5, x, \n", "unknown device code 7" },
		{ "0, 3:0:A, zero, 512, a.bin, 5, x, \n", "is not a number" },
		{ "0, 3:0:A, 0, 512, a.bin, 5, x, 123\n", "is not a SHA-1" },
		{ "0, 3:0:A, 0, 512, ../a.bin, 5, x, \n", "has a '/'" },
		{ "0, 3:0:A, 0, 1024, a.bin, 5, x, \n1, 3:0:B, 512, 512, b.bin, 5, x, \n", "overlaps" },
		{ "0, 3:0:A, 18446744073709551615, 2, a, 1, x, \n", "overflows" },
		{ "# nothing\n", "no partitions" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		layout_free(&lay);
		if (layout_from_flash_idx(bad[i].idx, strlen(bad[i].idx), &lay) != -1 ||
		    !strstr(err_msg(), bad[i].error)) {
			fprintf(stderr, "  idx case %zu: \"%s\"\n", i, err_msg());
			CHECK(0);
		}
	}
}

/* ---- NVIDIA's own layouts -------------------------------------------------------------- */

static char fixtures[1024];

static int load_fixture(const char *name, const struct layout_set *sets, size_t nsets)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -2;
	static char text[1 << 20];
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	layout_free(&lay);
	return layout_from_xml(text, len, sets, nsets, &lay);
}

static void test_nvidia_r35_layouts(void)
{
	static const char *const files[] = {
		"flash_t234_qspi.xml", "flash_t234_qspi_nvme.xml", "flash_t234_qspi_sdmmc.xml",
		"flash_t234_qspi_sdmmc_rootfs_ab.xml", "flash_l4t_t234_nvme.xml",
		"flash_t194_sdmmc.xml", "flash_l4t_t194_qspi_p3668.xml",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (load_fixture(files[i], NULL, 0) != 0) {
			fprintf(stderr, "  %s: %s\n", files[i], err_msg());
			CHECK(0);
		}
	}
	/* T234 QSPI: values as NVIDIA's flash.idx for R35.3.1 lists them */
	CHECK(load_fixture("flash_t234_qspi.xml", NULL, 0) == 0);
	CHECK(lay.ndev == 1 && lay.dev[0].size == 64 << 20);
	CHECK(part("BCT")->offset == 0 && part("BCT")->size == 0x100000);
	CHECK(part("A_mb1")->offset == 0x100000 && part("A_mb1")->size == 0x80000);
	CHECK_STR_EQ(part("A_mb1")->filename, "MB1FILE");
	CHECK(part("A_mb1")->slot == PKG_SLOT_A && part("B_mb1")->slot == PKG_SLOT_B);
	CHECK(part("secondary_gpt")->offset == 0x3ffbe00 && part("secondary_gpt")->size == 0x4200);
	CHECK(part("B_VER")->offset == 0x3fd0000);
	/* T194 eMMC: APP and the kernels need their placeholder sizes; then UDA fills */
	CHECK(load_fixture("flash_t194_sdmmc.xml", NULL, 0) == 0);
	CHECK(!part("APP")->size_known && !part("UDA")->offset_known);
	struct layout_set sets[] = { { "APPSIZE", "30064771072" }, { "RECSIZE", "83886080" },
				     { "LNXSIZE", "83886080" }, { "RECROOTFSSIZE", "314572800" } };
	CHECK(load_fixture("flash_t194_sdmmc.xml", sets, 4) == 0);
	const struct layout_part *uda = part("UDA");
	CHECK(uda->fill_to_end && uda->size_known);
	CHECK(uda->offset + uda->size == part("secondary_gpt")->offset);
	CHECK(part("RECNAME")->offset == 0x710800000ULL);
	CHECK(part("kernel")->slot == PKG_SLOT_A && part("kernel_b")->slot == PKG_SLOT_B);
}

int main(void)
{
	const char *env = getenv("SELFFLASH_FIXTURES");
	snprintf(fixtures, sizeof(fixtures), "%s",
		 env ? env : "../shared/fixtures/nvidia-l4t-r35.3.1");
	RUN(test_sequential_offsets_and_sector_rounding);
	RUN(test_align_boundary_rounds_the_offset);
	RUN(test_start_location_wins_and_must_not_go_back);
	RUN(test_secondary_gpt_sits_at_the_end_without_moving_the_cursor);
	RUN(test_fill_to_end_grows_to_the_next_fixed_partition);
	RUN(test_placeholders_stay_unresolved_until_set);
	RUN(test_partitions_must_fit_and_not_overlap);
	RUN(test_unknown_elements_and_attributes_are_refused);
	RUN(test_slots_from_names);
	RUN(test_xml_text_entities_cdata_and_comments);
	RUN(test_xml_hostile_documents_are_refused);
	RUN(test_xml_depth_is_bounded);
	RUN(test_flash_idx_partitions_and_checks);
	char probe[1100];
	snprintf(probe, sizeof(probe), "%s/flash_t234_qspi.xml", fixtures);
	FILE *f = fopen(probe, "rb");
	if (f) {
		fclose(f);
		RUN(test_nvidia_r35_layouts);
	} else {
		SKIP(test_nvidia_r35_layouts, "no ../shared/fixtures/nvidia-l4t-r35.3.1");
	}
	layout_free(&lay);
	return CHECK_EXIT();
}
