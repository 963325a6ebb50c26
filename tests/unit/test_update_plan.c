/* SPDX-License-Identifier: MIT */
/* What an update writes: slot names, twins, the selection, and the write guard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "target/target.h"
#include "run/update_layout.h"
#include "slot_name.h"
#include "run/update_plan.h"
#include "run/update_qspi.h"
#include "crc32.h"
#include "le.h"
#include "write/gpt.h"

static void test_slot_names_follow_nvidia_naming(void)
{
	CHECK(update_slot_of_name("APP", "APP") == PKG_SLOT_A);
	CHECK(update_slot_of_name("APP_b", "APP") == PKG_SLOT_B);
	CHECK(update_slot_of_name("A_kernel", "APP") == PKG_SLOT_A);
	CHECK(update_slot_of_name("B_kernel", "APP") == PKG_SLOT_B);
	CHECK(update_slot_of_name("esp", "APP") == 0);
	CHECK(update_slot_of_name("A_", "APP") == 0);
	CHECK(update_slot_of_name("_b", "APP") == 0);
	CHECK(update_slot_of_name("rootfs", "rootfs") == PKG_SLOT_A);
}

static struct pkg_partition part(const char *name, uint8_t slot, uint16_t target,
				 const char *type, uint64_t off)
{
	struct pkg_partition p;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.type, sizeof(p.type), "%s", type);
	p.slot = slot;
	p.target = target;
	p.offset = off;
	p.size = 1 << 20;
	return p;
}

static int listed_all(uint8_t kind)
{
	(void)kind;
	return 1;
}

static void test_twins_pair_on_the_same_target(void)
{
	struct pkg_partition p[6] = {
		part("A_kernel", PKG_SLOT_A, 0, "kernel", 0),
		part("B_kernel", PKG_SLOT_B, 0, "kernel", 1 << 20),
		part("APP", PKG_SLOT_A, 0, "data", 2 << 20),
		part("APP_b", PKG_SLOT_B, 0, "data", 3 << 20),
		part("A_fw", PKG_SLOT_A, 1, "mb1", 0),
		part("B_fw", PKG_SLOT_B, 0, "mb1", 4 << 20), /* another device: no twin */
	};
	CHECK(update_twin(p, 6, 0) == 1 && update_twin(p, 6, 1) == 0);
	CHECK(update_twin(p, 6, 2) == 3 && update_twin(p, 6, 3) == 2);
	CHECK(update_twin(p, 6, 4) == -1 && update_twin(p, 6, 5) == -1);
	/* R35.3.1 flash_l4t_nvme_rootfs_ab.xml's per-chain partitions, slotted by their names */
	struct pkg_partition r[2] = {
		part("reserved_for_chain_A_user", PKG_SLOT_A, 0, "data", 0),
		part("reserved_for_chain_B_user", PKG_SLOT_B, 0, "data", 1 << 20),
	};
	CHECK(update_twin(r, 2, 0) == 1 && update_twin(r, 2, 1) == 0);
}

static void test_guard_refuses_writes_outside_its_ranges(void)
{
	char path[] = "/tmp/test_update_plan.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, 4 << 20) == 0);
	close(fd);
	struct target t;
	CHECK(target_open_block(&t, path) == 0);
	struct target_range r[2] = { { 1 << 20, 1 << 20 }, { 3 << 20, 4096 } };
	CHECK(target_guard_writes(&t, r, 2) == 0);
	static uint8_t buf[8192];
	memset(buf, 0xA5, sizeof(buf));
	CHECK(t.ops->write(&t, 1 << 20, buf, 4096) == 0);
	CHECK(t.ops->write(&t, (2 << 20) - 4096, buf, 4096) == 0); /* the range's last block */
	CHECK(t.ops->write(&t, (2 << 20) - 4096, buf, 8192) == -1); /* runs past its end */
	CHECK(strstr(err_msg(), "outside the partitions this update may write") != NULL);
	CHECK(t.ops->write(&t, 0, buf, 512) == -1);
	CHECK(t.ops->write(&t, 3 << 20, buf, 4096) == 0);
	CHECK(t.ops->write(&t, (3 << 20) + 512, buf, 4096) == -1);
	CHECK(t.ops->write(&t, UINT64_MAX - 100, buf, 512) == -1); /* no wrap-around */
	CHECK(t.ops->read(&t, 0, buf, 512) == 0); /* reads pass: delta reads the running slot */
	CHECK(t.ops->flush(&t) == 0);
	target_close(&t);
	/* the refused writes left no byte behind */
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	uint8_t first[512];
	CHECK(fread(first, 1, sizeof(first), f) == sizeof(first));
	fclose(f);
	int zero = 1;
	for (size_t i = 0; i < sizeof(first); i++)
		zero &= first[i] == 0;
	CHECK(zero);
	unlink(path);
}

/* NVIDIA's names as its R35.3.1 layouts use them (flash_t234_qspi.xml,
 * flash_t234_qspi_sdmmc_enc_rootfs_ab.xml, flash_l4t_nvme_rootfs_ab.xml) */
static void test_slots_derived_from_nvidia_names(void)
{
	CHECK(pkg_slot_of_name("A_mb1", 0) == PKG_SLOT_A);
	CHECK(pkg_slot_of_name("B_MB1_BCT", 0) == PKG_SLOT_B);
	CHECK(pkg_slot_of_name("A_VER", 0) == PKG_SLOT_A);
	CHECK(pkg_slot_of_name("B_kernel-dtb", 0) == PKG_SLOT_B);
	CHECK(pkg_slot_of_name("APP", 1) == PKG_SLOT_A);
	CHECK(pkg_slot_of_name("APP", 0) == 0); /* no APP_b beside it: no slot */
	CHECK(pkg_slot_of_name("APP_b", 0) == PKG_SLOT_B);
	CHECK(pkg_slot_of_name("APP_ENC_b", 0) == PKG_SLOT_B);
	CHECK(pkg_slot_of_name("esp_alt", 1) == 0); /* recovery's copy, no slot's */
	CHECK(pkg_slot_of_name("kernel-dtb", 1) == PKG_SLOT_A);
	CHECK(pkg_slot_of_name("reserved_for_chain_A_user", 0) == PKG_SLOT_A);
	CHECK(pkg_slot_of_name("reserved_for_chain_B_user", 0) == PKG_SLOT_B);
	CHECK(pkg_slot_of_name("secondary_gpt_backup", 0) == 0);
	CHECK(pkg_slot_of_name("uefi_variables", 0) == 0);
	CHECK(pkg_slot_of_name("A_", 0) == 0 && pkg_slot_of_name("_b", 0) == 0);
	struct update_table t = { .count = 5 };
	const char *names[] = { "APP", "APP_b", "APP_ENC", "APP_ENC_b", "esp" };
	for (int i = 0; i < 5; i++)
		snprintf(t.part[i].name, sizeof(t.part[i].name), "%s", names[i]);
	update_table_slots(&t);
	CHECK(t.part[0].slot == PKG_SLOT_A && t.part[1].slot == PKG_SLOT_B);
	CHECK(t.part[2].slot == PKG_SLOT_A && t.part[3].slot == PKG_SLOT_B && t.part[4].slot == 0);
}

static void test_manifest_slot_byte_checked_against_the_name(void)
{
	struct pkg_partition p[4] = {
		part("A_fw", PKG_SLOT_A, 0, "mb1", 0),
		part("B_fw", PKG_SLOT_B, 0, "mb1", 1 << 20),
		part("APP", PKG_SLOT_A, 1, "data", 0),
		part("APP_b", PKG_SLOT_B, 1, "data", 1 << 20),
	};
	struct pkg_manifest m = { .partition_count = 4 };
	CHECK(update_check_slots(&m, p) == 0);
	p[1].slot = PKG_SLOT_A; /* B_fw claimed for slot A */
	CHECK(update_check_slots(&m, p) == -1);
	CHECK(strstr(err_msg(), "partition B_fw: the manifest puts it in slot A, its name in "
				"slot B") != NULL);
	p[1].slot = PKG_SLOT_B;
	p[3].target = 0; /* APP_b on another device than APP: APP is no slot's there */
	CHECK(update_check_slots(&m, p) == -1 && strstr(err_msg(), "partition APP:") != NULL);
	/* NVIDIA's reserved_for_chain_B_user, given no slot by an older mkflashpkg: the fix named */
	p[2].slot = 0; /* APP, no APP_b beside it now */
	p[3] = part("reserved_for_chain_B_user", 0, 1, "data", 1 << 20);
	CHECK(update_check_slots(&m, p) == -1);
	CHECK(strstr(err_msg(), "in slot none, its name in slot B") != NULL &&
	      strstr(err_msg(), "older mkflashpkg: make it again") != NULL);
}

/* The board's QSPI and disk: A_fw B_fw uefi_variables; APP APP_b. */
static void board_table(struct update_table *t, int qspi)
{
	memset(t, 0, sizeof(*t));
	const char *names[2][3] = { { "APP", "APP_b", "esp" }, { "A_fw", "B_fw", "uefi_variables" } };
	for (int i = 0; i < 3; i++) {
		snprintf(t->part[i].name, sizeof(t->part[i].name), "%s", names[qspi][i]);
		t->part[i].offset = (uint64_t)i << 20;
		t->part[i].size = 1 << 20;
	}
	t->count = 3;
	update_table_slots(t);
}

static void test_layout_compared_both_ways(void)
{
	struct update_table b;
	board_table(&b, 1);
	struct pkg_partition p[3] = {
		part("B_fw", PKG_SLOT_B, 0, "mb1", 0), /* swapped: B_fw where the board's A_fw is */
		part("A_fw", PKG_SLOT_A, 0, "mb1", 1 << 20),
		part("uefi_variables", 0, 0, "data", 2 << 20),
	};
	struct pkg_manifest m = { .partition_count = 3 };
	CHECK(update_table_compare(&b, &m, 0, p, listed_all, "qspi") == -1);
	CHECK(strstr(err_msg(), "qspi: partition B_fw is at 1048576 (1048576 bytes) on the board, "
				"at 0 (1048576 bytes) in the package") != NULL);
	p[0].offset = 1 << 20;
	p[1].offset = 0;
	CHECK(update_table_compare(&b, &m, 0, p, listed_all, "qspi") == 0);
	m.partition_count = 2; /* the board has uefi_variables, the package not */
	CHECK(update_table_compare(&b, &m, 0, p, listed_all, "qspi") == -1);
	CHECK(strstr(err_msg(), "board's GPT has partition uefi_variables") != NULL);
}

/*
 * The guard comes from the board's table whatever the package claims: its offsets are not
 * used, and neither the running chain nor the running root can get in, even where the
 * package marks them as the target slot's.
 */
static void test_guard_from_the_board_running_chain_and_root_denied(void)
{
	struct update_table q, d;
	board_table(&q, 1);
	board_table(&d, 0);
	struct pkg_partition p[2] = {
		part("B_fw", PKG_SLOT_B, 0, "mb1", 0), /* the package's offset: A_fw's on the board */
		part("A_fw", PKG_SLOT_B, 0, "mb1", 1 << 20),
	};
	uint8_t write[2] = { 1, 0 };
	struct target_range r[TARGET_GUARD_MAX];
	size_t n;
	CHECK(update_guard_ranges(&q, p, 2, write, 0, PKG_SLOT_B, "APP", "qspi", r, &n) == 0);
	CHECK(n == 1 && r[0].offset == 1 << 20 && r[0].size == 1 << 20);
	write[1] = 1; /* the package says A_fw is slot B's: the board's name says A, running */
	CHECK(update_guard_ranges(&q, p, 2, write, 0, PKG_SLOT_B, "APP", "qspi", r, &n) == -1);
	CHECK(strstr(err_msg(), "would write A_fw, which is slot A's by its name") != NULL);
	/* the running root, even under a name of the target slot (a root-partition set wrong) */
	struct pkg_partition app_b = part("APP_b", PKG_SLOT_B, 0, "data", 1 << 20);
	write[0] = 1;
	CHECK(update_guard_ranges(&d, &app_b, 1, write, 0, PKG_SLOT_B, "APP_b", "disk", r, &n) == -1);
	CHECK(strstr(err_msg(), "APP_b, the running root partition") != NULL);
	/* a board table whose B_fw overlaps the running A_fw: the deny list catches it */
	q.part[0].size = 2 << 20;
	CHECK(update_guard_ranges(&q, p, 1, write, 0, PKG_SLOT_B, "APP", "qspi", r, &n) == -1);
	CHECK(strstr(err_msg(), "overlaps A_fw, of the running slot") != NULL);
	/* the running root under no slot's name (root-partition rootfs) sharing the range */
	board_table(&d, 0);
	snprintf(d.part[2].name, sizeof(d.part[2].name), "rootfs");
	d.part[2].offset = 1 << 20;
	CHECK(update_guard_ranges(&d, &app_b, 1, write, 0, PKG_SLOT_B, "rootfs", "disk", r, &n) == -1);
	CHECK(strstr(err_msg(), "overlaps rootfs, the running root") != NULL);
	/* a partition the board does not have is never written */
	struct pkg_partition ghost = part("B_new", PKG_SLOT_B, 0, "mb1", 0);
	CHECK(update_guard_ranges(&q, &ghost, 1, write, 0, PKG_SLOT_B, "APP", "qspi", r, &n) == -1);
	CHECK(strstr(err_msg(), "B_new, which the board's GPT does not have") != NULL);
}

/* An 8 MiB QSPI as the flasher leaves it: A_fw, B_fw, uefi_variables, secondary_gpt_backup,
 * NVIDIA's GPT at the end and its copy at the start of secondary_gpt_backup. */
#define QSPI_SIZE (8u << 20)
#define QSPI_BACKUP (3u << 20)
static uint8_t qspi[QSPI_SIZE];

static void qspi_build(void)
{
	static struct gpt_part gp[4];
	const char *names[4] = { "A_fw", "B_fw", "uefi_variables", "secondary_gpt_backup" };
	for (int i = 0; i < 4; i++) {
		memset(&gp[i], 0, sizeof(gp[i]));
		snprintf(gp[i].name, sizeof(gp[i].name), "%s", names[i]);
		memcpy(gp[i].type_guid, gpt_type_basic_data, 16);
		gp[i].unique_guid[0] = (uint8_t)(i + 1);
		gp[i].offset = (uint64_t)i << 20;
		gp[i].size = i == 3 ? 65536 : 1 << 20;
	}
	struct gpt_disk d = { .sector_size = 512, .size = QSPI_SIZE, .parts = gp, .count = 4 };
	d.disk_guid[0] = 1;
	memset(qspi, 0xff, sizeof(qspi));
	size_t len = gpt_qspi_size(512);
	CHECK(gpt_build_qspi(&d, qspi + QSPI_SIZE - len) == 0);
	memcpy(qspi + QSPI_BACKUP, qspi + QSPI_SIZE - len, len);
}

static int qspi_read(struct update_table *t)
{
	char path[] = "/tmp/test_update_qspi.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, qspi, sizeof(qspi)) != (ssize_t)sizeof(qspi))
		abort();
	close(fd);
	struct target dev;
	if (target_open_nor_file(&dev, path, 65536, UINT64_MAX) != 0)
		abort();
	int rc = update_read_qspi_table(&dev, 512, t);
	target_close(&dev);
	unlink(path);
	return rc;
}

/* The entry array's and the header's CRCs made right again after an entry was changed. */
static void qspi_fix_crcs(void)
{
	uint8_t *h = qspi + QSPI_SIZE - 512, *e = qspi + QSPI_SIZE - 512 - GPT_ENTRIES_BYTES;
	le32_store(h + 88, crc32_update(0, e, GPT_ENTRIES_BYTES));
	le32_store(h + 16, 0);
	le32_store(h + 16, crc32_update(0, h, 92));
	memcpy(qspi + QSPI_BACKUP, e, GPT_ENTRIES_BYTES + 512);
}

static void test_qspi_gpt_read_as_hostile_input(void)
{
	static struct update_table t;
	qspi_build();
	CHECK(qspi_read(&t) == 0 && t.count == 4);
	CHECK(strcmp(t.part[1].name, "B_fw") == 0 && t.part[1].offset == 1 << 20 &&
	      t.part[1].size == 1 << 20 && t.part[1].slot == PKG_SLOT_B);
	CHECK(t.part[0].slot == PKG_SLOT_A && t.part[2].slot == 0);
	uint8_t *h = qspi + QSPI_SIZE - 512, *e = h - GPT_ENTRIES_BYTES;
	h[20] ^= 1; /* a header byte, CRC left as it was */
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "header's CRC does not match") != NULL);
	qspi_build();
	e[56] = 'X'; /* a name, CRC left */
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "entries' CRC does not match") != NULL);
	qspi_build();
	le64_store(e + 128 + 40, (QSPI_SIZE / 512) - 1); /* B_fw to the device's last LBA */
	qspi_fix_crcs();
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "entry B_fw (LBAs 2048..16383) lies "
						      "outside the usable LBAs") != NULL);
	qspi_build();
	le16_store(e + 56, 0xe9); /* a name that is not ASCII */
	qspi_fix_crcs();
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "not printable ASCII") != NULL);
	qspi_build();
	le32_store(h + 80, 100000); /* more entries than a GPT this reader takes */
	qspi_fix_crcs();
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "100000 entries") != NULL);
	qspi_build();
	qspi[QSPI_BACKUP + 600] ^= 1; /* the copy in secondary_gpt_backup */
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "differs from the one at the end") != NULL);
	qspi_build();
	memset(h, 0xff, 512); /* erased: no GPT */
	CHECK(qspi_read(&t) == -1 && strstr(err_msg(), "no GPT header in the last sector") != NULL);
}

int main(void)
{
	RUN(test_slot_names_follow_nvidia_naming);
	RUN(test_slots_derived_from_nvidia_names);
	RUN(test_manifest_slot_byte_checked_against_the_name);
	RUN(test_layout_compared_both_ways);
	RUN(test_guard_from_the_board_running_chain_and_root_denied);
	RUN(test_qspi_gpt_read_as_hostile_input);
	RUN(test_twins_pair_on_the_same_target);
	RUN(test_guard_refuses_writes_outside_its_ranges);
	return CHECK_EXIT();
}
