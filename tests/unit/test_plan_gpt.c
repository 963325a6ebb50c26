/* SPDX-License-Identifier: MIT */
/* Placing partitions on real device sizes, building GPTs (checked by libblkid), config files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <zlib.h>

#include "../../common/error.h"
#include "../../common/le.h"
#include "cli/config.h"
#include "write/gpt.h"
#include "run/plan.h"
#include "check.h"

static uint8_t mbuf[1 << 14];
static struct pkg_manifest m;
static struct pkg_partition parts[8];

static int error_has(const char *s)
{
	if (strstr(err_msg(), s))
		return 1;
	fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err_msg(), s);
	return 0;
}

/* A 1 GiB disk layout: esp, APP, fill-to-end UDA, secondary GPT at the end. */
static void disk_manifest(void)
{
	static const struct pkg_variant v = { .name = "any" };
	static const struct pkg_target t = { .kind = PKG_TARGET_DISK, .sector_size = 512,
					     .size = 1ULL << 30, .type = "nvme" };
	static const struct pkg_partition p[4] = {
		{ .name = "esp", .offset = 1 << 20, .size = 64 << 20 },
		{ .name = "APP", .offset = 65 << 20, .size = 512 << 20 },
		{ .name = "UDA", .offset = 577 << 20, .size = (1ULL << 30) - (577 << 20) - 16896,
		  .flags = PKG_PART_FILL_TO_END },
		{ .name = "secondary_gpt", .kind = PKG_PART_SECONDARY_GPT, .flags = PKG_PART_AT_END,
		  .offset = (1ULL << 30) - 16896, .size = 16896 },
	};
	struct pkg_manifest_src src = { .variants = &v, .targets = &t, .partitions = p,
					.variant_count = 1, .target_count = 1, .partition_count = 4,
					.chunk_size = 4096 };
	uint64_t size = pkg_manifest_encoded_size(&src);
	if (pkg_manifest_encode(&src, mbuf, size) || pkg_manifest_decode(mbuf, size, 0, &m))
		abort();
}

static void reset_parts(void)
{
	for (uint32_t i = 0; i < m.partition_count; i++)
		pkg_manifest_partition(&m, i, &parts[i]);
}

static void test_plan_grows_and_moves_with_a_larger_disk(void)
{
	disk_manifest();
	reset_parts();
	CHECK(plan_place(&m, 0, 4ULL << 30, parts) == 0);
	CHECK(parts[3].offset == (4ULL << 30) - 16896);
	CHECK(parts[2].offset == 577 << 20 && parts[2].offset + parts[2].size == parts[3].offset);
	CHECK(parts[1].offset == 65 << 20 && parts[1].size == 512 << 20); /* fixed ones stay */
}

static void test_plan_refuses_a_disk_too_small(void)
{
	disk_manifest();
	reset_parts();
	CHECK(plan_place(&m, 0, 577ULL << 20, parts) == -1);
	CHECK(error_has("UDA: no room left"));
	reset_parts();
	CHECK(plan_place(&m, 0, 300ULL << 20, parts) == -1);
	reset_parts();
	CHECK(plan_place(&m, 0, (1ULL << 30) + 100, parts) == -1);
	CHECK(error_has("not a multiple of its sector size"));
}

static struct gpt_part gp[3];

static void gpt_parts(void)
{
	memset(gp, 0, sizeof(gp));
	strcpy(gp[0].name, "esp");
	strcpy(gp[1].name, "APP");
	strcpy(gp[2].name, "APP_b");
	for (int i = 0; i < 3; i++) {
		memcpy(gp[i].type_guid, gpt_type_linux_data, 16);
		char text[32];
		snprintf(text, sizeof(text), "part-%d", i);
		gpt_guid_from_text(text, gp[i].unique_guid);
	}
	gp[0].offset = 1 << 20, gp[0].size = 8 << 20;
	gp[1].offset = 9 << 20, gp[1].size = 16 << 20;
	gp[2].offset = 25 << 20, gp[2].size = 16 << 20;
}

static void test_gpt_is_read_back_by_libblkid(void)
{
	gpt_parts();
	const uint64_t disk = 64 << 20;
	struct gpt_disk d = { .sector_size = 512, .size = disk, .parts = gp, .count = 3 };
	gpt_guid_from_text("disk", d.disk_guid);
	static uint8_t primary[34 * 512], backup[33 * 512];
	CHECK(gpt_primary_size(512) == sizeof(primary) && gpt_backup_size(512) == sizeof(backup));
	CHECK(gpt_build(&d, primary, backup) == 0);
	/* CRCs as the UEFI spec defines them */
	uint8_t h[92];
	memcpy(h, primary + 512, 92);
	uint32_t want = le32_load(h + 16);
	memset(h + 16, 0, 4);
	CHECK((uint32_t)crc32(0, h, 92) == want);
	CHECK(le32_load(primary + 512 + 88) == (uint32_t)crc32(0, primary + 1024, 16384));
	CHECK(le64_load(backup + 32 * 512 + 24) == disk / 512 - 1); /* backup's own LBA */

	char path[] = "/tmp/selfflash-gpt-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)disk) == 0);
	CHECK(pwrite(fd, primary, sizeof(primary), 0) == (ssize_t)sizeof(primary));
	CHECK(pwrite(fd, backup, sizeof(backup), (off_t)(disk - sizeof(backup))) == (ssize_t)sizeof(backup));
	blkid_probe pr = blkid_new_probe_from_filename(path);
	close(fd);
	unlink(path);
	CHECK(pr != NULL);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	int ok = blkid_do_fullprobe(pr) >= 0;
	blkid_partlist pl = ok ? blkid_probe_get_partitions(pr) : NULL;
	int n = pl ? blkid_partlist_numof_partitions(pl) : -1;
	const char *type = pl ? blkid_parttable_get_type(blkid_partlist_get_table(pl)) : NULL;
	char names[64] = "";
	long long starts[3] = { 0 };
	for (int i = 0; i < n && i < 3; i++) {
		blkid_partition bp = blkid_partlist_get_partition(pl, i);
		strcat(names, blkid_partition_get_name(bp));
		strcat(names, " ");
		starts[i] = (long long)blkid_partition_get_start(bp);
	}
	blkid_free_probe(pr);
	CHECK(n == 3);
	CHECK(type && strcmp(type, "gpt") == 0);
	CHECK_STR_EQ(names, "esp APP APP_b ");
	CHECK(starts[0] == 2048 && starts[1] == 9 * 2048 && starts[2] == 25 * 2048);
}

static void test_gpt_refuses_bad_partitions(void)
{
	static uint8_t primary[34 * 512], backup[33 * 512];
	struct gpt_disk d = { .sector_size = 512, .size = 64 << 20, .parts = gp, .count = 3 };
	gpt_parts();
	gp[2].offset = 20 << 20;
	CHECK(gpt_build(&d, primary, backup) == -1);
	CHECK(error_has("APP_b overlaps APP"));
	gpt_parts();
	gp[0].offset = 512; /* inside the primary GPT */
	CHECK(gpt_build(&d, primary, backup) == -1);
	CHECK(error_has("outside the usable sectors"));
	gpt_parts();
	gp[2].size = (64 << 20) - (25 << 20); /* over the backup GPT */
	CHECK(gpt_build(&d, primary, backup) == -1);
	gpt_parts();
	strcpy(gp[1].name, "abcdefghijklmnopqrstuvwxyz0123456789X"); /* 37 */
	CHECK(gpt_build(&d, primary, backup) == -1);
	CHECK(error_has("longer than 36"));
	gpt_parts();
	gp[1].size = 1000;
	CHECK(gpt_build(&d, primary, backup) == -1);
	CHECK(error_has("whole sectors"));
}

static void test_config_file(void)
{
	static struct flasher_config cfg;
	const char *good = "# selfflash\n"
			   "package /package.sfpkg\n"
			   "pubkey   /etc/selfflash/pubkey.pem  # trusted\n"
			   "target spi mtd:/dev/mtd0@67108864\n"
			   "target nvme block:/dev/nvme0n1\n"
			   "on-failure poweroff\n"
			   "link-timeout 45\n"
			   "run-timeout 7200\n"
			   "efivars /sys/firmware/efi/efivars\n";
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_parse(good, strlen(good), &cfg) == 0);
	CHECK_STR_EQ(cfg.flash.source, "/package.sfpkg");
	CHECK_STR_EQ(cfg.flash.pubkey, "/etc/selfflash/pubkey.pem");
	CHECK(cfg.flash.ntargets == 2);
	CHECK_STR_EQ(cfg.flash.targets[0].type, "spi");
	CHECK_STR_EQ(cfg.flash.targets[0].spec, "mtd:/dev/mtd0@67108864");
	CHECK(cfg.on_failure == ON_FAILURE_POWEROFF);
	CHECK(!cfg.flash.allow_unsigned);
	CHECK(cfg.flash.link_timeout_s == 45);
	CHECK(cfg.flash.run_timeout_s == 7200 && flash_run_timeout_s(&cfg.flash) == 7200);
	memset(&cfg, 0, sizeof(cfg)); /* not set: a day */
	CHECK(config_parse("link-timeout 5\n", 15, &cfg) == 0 &&
	      flash_run_timeout_s(&cfg.flash) == 86400);
	static const struct {
		const char *text, *error;
	} bad[] = {
		{ "colour blue\n", "line 1: unknown setting 'colour'" },
		{ "\npackage\n", "line 2: 'package' has no value" },
		{ "on-failure explode\n", "on-failure takes" },
		{ "allow-unsigned maybe\n", "allow-unsigned takes yes or no" },
		{ "target spi\n", "expected: target TYPE SPEC" },
		{ "link-timeout 0\n", "link-timeout takes seconds, 1 to 86400, not '0'" },
		{ "link-timeout -5\n", "not '-5'" },
		{ "link-timeout 10s\n", "not '10s'" },
		{ "link-timeout 99999999999999999999\n", "1 to 86400" },
		{ "run-timeout 0\n", "run-timeout takes seconds, 1 to 2592000, not '0'" },
		{ "run-timeout 2592001\n", "not '2592001'" },
		{ "run-timeout 1h\n", "not '1h'" },
		{ "run-timeout  \n", "'run-timeout' has no value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		if (config_parse(bad[i].text, strlen(bad[i].text), &cfg) != -1 ||
		    !strstr(err_msg(), bad[i].error)) {
			fprintf(stderr, "  '%s': \"%s\"\n", bad[i].text, err_msg());
			CHECK(0);
		}
	}
}

/* Two nvme targets (instances 0 and 1): each its own device, named by instance. */
static void test_targets_matched_by_instance(void)
{
	static const struct pkg_variant v = { .name = "any" };
	static const struct pkg_target t[2] = {
		{ .kind = PKG_TARGET_DISK, .sector_size = 512, .size = 1 << 20, .type = "nvme" },
		{ .kind = PKG_TARGET_DISK, .sector_size = 512, .size = 1 << 20, .type = "nvme",
		  .instance = 1 },
	};
	static const struct pkg_partition p[2] = {
		{ .name = "APP", .offset = 0, .size = 4096 },
		{ .name = "UDA", .target = 1, .offset = 0, .size = 4096 },
	};
	struct pkg_manifest_src src = { .variants = &v, .targets = t, .partitions = p,
					.variant_count = 1, .target_count = 2, .partition_count = 2,
					.chunk_size = 4096 };
	uint64_t size = pkg_manifest_encoded_size(&src);
	CHECK(pkg_manifest_encode(&src, mbuf, size) == 0 &&
	      pkg_manifest_decode(mbuf, size, 0, &m) == 0);
	const char *spec;
	struct flash_target_spec by_type[1] = { { "nvme", "block:a" } };
	CHECK(plan_target_spec(&m, 1, by_type, 1, &spec) == -1);
	CHECK(error_has("two nvme targets (nvme:1 and nvme:0)"));
	struct flash_target_spec by_instance[2] = { { "nvme:1", "block:b" }, { "nvme:0", "block:a" } };
	CHECK(plan_target_spec(&m, 0, by_instance, 2, &spec) == 0 && strcmp(spec, "block:a") == 0);
	CHECK(plan_target_spec(&m, 1, by_instance, 2, &spec) == 0 && strcmp(spec, "block:b") == 0);
	struct flash_target_spec twice[2] = { { "nvme:1", "block:b" }, { "nvme:1", "block:c" } };
	CHECK(plan_target_spec(&m, 1, twice, 2, &spec) == -1 && error_has("configured twice"));
	CHECK(plan_target_spec(&m, 0, twice, 2, &spec) == 0 && spec == NULL);

	/* one file twice, and two windows of one device: at one base refused, apart allowed */
	char path[] = "/tmp/test_plan_targets.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, 4 << 20) == 0);
	close(fd);
	struct target dev[2];
	int opened[2] = { 1, 1 };
	CHECK(target_open_block(&dev[0], path) == 0 && target_open_block(&dev[1], path) == 0);
	CHECK(plan_check_distinct(&m, dev, opened) == -1);
	CHECK(error_has("nvme:0 and nvme:1 are both"));
	CHECK(target_window(&dev[0], 0, 1 << 20) == 0 && target_window(&dev[1], 0, 1 << 20) == 0);
	CHECK(plan_check_distinct(&m, dev, opened) == -1);
	target_close(&dev[1]);
	CHECK(target_open_block(&dev[1], path) == 0 && target_window(&dev[1], 1 << 20, 1 << 20) == 0);
	CHECK(plan_check_distinct(&m, dev, opened) == 0);
	target_close(&dev[0]);
	target_close(&dev[1]);
	unlink(path);
}

int main(void)
{
	RUN(test_plan_grows_and_moves_with_a_larger_disk);
	RUN(test_plan_refuses_a_disk_too_small);
	RUN(test_gpt_is_read_back_by_libblkid);
	RUN(test_gpt_refuses_bad_partitions);
	RUN(test_config_file);
	RUN(test_targets_matched_by_instance);
	return CHECK_EXIT();
}
