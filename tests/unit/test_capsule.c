/* SPDX-License-Identifier: MIT */
/* The capsule reader (common/capsule.c) against built capsules, and every ESRT status code in
 * words (initrd-flasher/slot/capsule_status.c). */
#include <stdio.h>
#include <string.h>

#include "capsule.h"
#include "capsule_fixture.h"
#include "check.h"
#include "error.h"
#include "le.h"
#include "slot/capsule_status.h"

static uint8_t cap[8192];
static const char *const names[] = { "mb1", "mb1", "bpmp-fw" };
static const char *const specs[] = { "3701-500-0004-J.0-1-1-jetson-agx-orin-devkit-",
				     "3767-000-0000--1-1-p3768-0000-p3767-0000-", "" };

static size_t good(void)
{
	return capsule_fixture(cap, sizeof(cap), names, specs, 3);
}

static void parses_nvidia_layout_and_bup(void)
{
	size_t n = good();
	struct capsule_info ci;
	CHECK(n > 0 && capsule_parse(cap, n, &ci) == 0);
	CHECK_STR_EQ(ci.image_type, CAPSULE_T234_IMAGE_GUID);
	CHECK(ci.has_bup && ci.bup_count == 3 && ci.flags == 0x50000);
	struct capsule_bup_entry e;
	capsule_bup_entry(&ci, 1, &e);
	CHECK_STR_EQ(e.name, "mb1");
	CHECK(e.bytes == 16 && e.update_mode == 0);
	CHECK_STR_EQ(e.tnspec, specs[1]);
}

static void refuses_what_is_no_capsule_or_inconsistent(void)
{
	struct capsule_info ci;
	size_t n = good();
	CHECK(capsule_parse(cap, 20, &ci) != 0 && strstr(err_msg(), "shorter"));
	cap[0] ^= 1; /* another GUID */
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "not the FMP capsule"));
	cap[0] ^= 1;
	CHECK(capsule_parse(cap, n - 1, &ci) != 0 && strstr(err_msg(), "the file has"));
	le32_store(cap + 16, 0xfffffff0u); /* header size past the end */
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "header size"));
	n = good();
	le32_store(cap + FIXTURE_ITEM + 24, 0x100000); /* payload past the end */
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "past the capsule"));
	n = good();
	le32_store(cap + FIXTURE_BUP + 20, le32_load(cap + FIXTURE_BUP + 20) - 1);
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "BUP"));
	n = good();
	le32_store(cap + FIXTURE_BUP + 48 + 44, 1u << 30); /* an entry's bytes past the package */
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "entry 0"));
	n = good();
	le32_store(cap + FIXTURE_BUP + 48 + 52, 3); /* unknown update mode */
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "update mode"));
	n = good();
	memset(cap + FIXTURE_BUP + 48 + 56, 'x', 128); /* TnSpec without its NUL */
	CHECK(capsule_parse(cap, n, &ci) != 0 && strstr(err_msg(), "terminated"));
	n = good();
	memcpy(cap + FIXTURE_BUP, "NOT_A_BLOB", 10); /* a capsule of another kind: valid, unchecked */
	CHECK(capsule_parse(cap, n, &ci) == 0 && !ci.has_bup && strstr(ci.no_bup, "NVIDIA"));
}

static void tnspec_matches_as_the_firmware_does(void)
{
	CHECK(capsule_tnspec_match("3701-500-0004-J.0-1-1-jetson-agx-orin-devkit-", specs[0]));
	CHECK(capsule_tnspec_match("3701--0004-----", "3701-500-0004-J.0-1-1-x-")); /* 8 each */
	CHECK(!capsule_tnspec_match("3701-500-0004-J.0-1-1-x-", "3701-500-0004-J.0-1-1-")); /* 9/8 */
	CHECK(!capsule_tnspec_match("3767-000-0000--1-1-p3768-0000-p3767-0000-", specs[0]));
	CHECK(capsule_tnspec_match("-------", "-------"));
	size_t n = good();
	struct capsule_info ci;
	char seen[130];
	CHECK(capsule_parse(cap, n, &ci) == 0);
	CHECK(capsule_bup_names_board(&ci, NULL, "3701", "0004", seen, sizeof(seen)));
	CHECK(capsule_bup_names_board(&ci, NULL, "3767", "", seen, sizeof(seen)));
	CHECK(!capsule_bup_names_board(&ci, NULL, "3701", "0005", seen, sizeof(seen)));
	CHECK_STR_EQ(seen, specs[0]);
	CHECK(!capsule_bup_names_board(&ci, NULL, "2888", "", seen, sizeof(seen)));
	CHECK(capsule_bup_names_board(&ci, specs[1], NULL, NULL, seen, sizeof(seen)));
	CHECK(!capsule_bup_names_board(&ci, "3701-300-0000--1-0-jetson-agx-orin-devkit-", NULL, NULL,
				       seen, sizeof(seen)));
	/* a BUP with no TnSpec at all is for any board */
	static const char *const any[] = { "", "" };
	n = capsule_fixture(cap, sizeof(cap), names, any, 2);
	CHECK(capsule_parse(cap, n, &ci) == 0 &&
	      capsule_bup_names_board(&ci, NULL, "2888", "0001", seen, sizeof(seen)));
}

/* Every code: a text, and the right one for each range and each NVIDIA code. */
static void every_status_code_in_words(void)
{
	char t[256];
	CHECK(strstr(capsule_status_text(0, t, sizeof(t)), "success"));
	static const char *const generic[] = { "UNSUCCESSFUL", "INSUFFICIENT_RESOURCES",
					       "INCORRECT_VERSION", "INVALID_FORMAT", "AUTH_ERROR",
					       "PWR_EVT_AC", "PWR_EVT_BATT",
					       "UNSATISFIED_DEPENDENCIES" };
	for (uint32_t c = 1; c <= 8; c++)
		CHECK(strstr(capsule_status_text(c, t, sizeof(t)), generic[c - 1]));
	static const char *const nvidia[] = {
		"BAD_IMAGE_POINTER", "INVALID_PACKAGE_HEADER", "UNSUPPORTED_PACKAGE_TYPE",
		"INVALID_PACKAGE_IMAGE_INFO_ARRAY", "IMAGE_TOO_BIG", "PACKAGE_SIZE_ERROR",
		"NOT_UPDATABLE", "IMAGE_NOT_IN_PACKAGE", "MB1_INVALIDATE_ERROR",
		"SINGLE_IMAGE_NOT_SUPPORTED", "IMAGE_INDEX_MISSING", "NO_PROTOCOL_FOR_IMAGE",
		"IMAGE_ATTRIBUTES_ERROR", "BCT_UPDATE_FAILED", "WRITE_IMAGES_FAILED",
		"MB1_WRITE_ERROR", "VERIFY_IMAGES_FAILED", "SET_SINGLE_IMAGE_FAILED",
		"FMP_LIB_UNINITIALIZED", "BOOT_CHAIN_UPDATE_CANCELED",
		"GPT_METADATA_UPDATE_FAILED", "GPT_VERIFY_FAILED", "GPT_INVALIDATE_FAILED",
		"GPT_WRITE_FAILED" };
	for (uint32_t c = 6144; c <= 6167; c++) {
		capsule_status_text(c, t, sizeof(t));
		CHECK(strstr(t, nvidia[c - 6144]) != NULL);
		CHECK(strstr(t, c < 6164 ? "r35.4.1 and r36.4.3" : "not in r35.4.1") != NULL);
	}
	CHECK(CAPSULE_LAS_BOOT_CHAIN_CANCELED == 6163);
	CHECK(strstr(capsule_status_text(9, t, sizeof(t)), "unknown"));
	CHECK(strstr(capsule_status_text(0xfff, t, sizeof(t)), "unknown"));
	CHECK(strstr(capsule_status_text(0x1000, t, sizeof(t)), "FmpDxe"));
	CHECK(strstr(capsule_status_text(0x107f, t, sizeof(t)), "FmpDxe"));
	CHECK(strstr(capsule_status_text(0x1080, t, sizeof(t)), "dependency library"));
	CHECK(strstr(capsule_status_text(0x10a0, t, sizeof(t)), "dependency check"));
	CHECK(strstr(capsule_status_text(0x10c0, t, sizeof(t)), "reserved"));
	CHECK(strstr(capsule_status_text(0x17ff, t, sizeof(t)), "reserved"));
	CHECK(strstr(capsule_status_text(6143, t, sizeof(t)), "reserved"));
	CHECK(strstr(capsule_status_text(6168, t, sizeof(t)), "not one NVIDIA defines"));
	CHECK(strstr(capsule_status_text(0x1fff, t, sizeof(t)), "not one NVIDIA defines"));
	CHECK(strstr(capsule_status_text(0x2000, t, sizeof(t)), "vendor"));
	CHECK(strstr(capsule_status_text(0x4000, t, sizeof(t)), "unknown"));
	CHECK(strstr(capsule_status_text(UINT32_MAX, t, sizeof(t)), "unknown"));
	/* a short buffer is still terminated */
	char small[8];
	CHECK(strlen(capsule_status_text(6163, small, sizeof(small))) == 7);
}

int main(void)
{
	RUN(parses_nvidia_layout_and_bup);
	RUN(refuses_what_is_no_capsule_or_inconsistent);
	RUN(tnspec_matches_as_the_firmware_does);
	RUN(every_status_code_in_words);
	return CHECK_EXIT();
}
