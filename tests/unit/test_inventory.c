/* SPDX-License-Identifier: MIT */
/* Unit tests for the board inventory, against fake sysfs trees built in a temporary dir. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board/discover.h"
#include "board/inventory.h"
#include "check.h"

static char root[PATH_MAX];

/* Creates root/PATH with CONTENT, making the directories on the way. */
static int put(const char *path, const char *content)
{
	char full[PATH_MAX * 2];
	snprintf(full, sizeof(full), "%s%s", root, path);
	for (char *p = full + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(full, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	FILE *f = fopen(full, "w");
	if (!f)
		return -1;
	fputs(content, f);
	return fclose(f);
}

static void new_root(void)
{
	if (root[0]) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	snprintf(root, sizeof(root), "/tmp/selfflash-inv-XXXXXX");
	if (!mkdtemp(root))
		abort();
}

/* Runs inventory_print on the fake root; returns the text (static) and the count. */
static const char *inventory(int *count)
{
	static char text[8192];
	FILE *f = fmemopen(text, sizeof(text), "w");
	if (!f)
		abort();
	*count = inventory_print(f, root);
	fclose(f);
	return text;
}

static void test_empty_board_reports_no_eeprom(void)
{
	int count;
	new_root();
	CHECK_STR_EQ(inventory(&count), "inventory: eeprom absent\n");
	CHECK(count == 0);
}

static void test_mtd_devices_in_numeric_order_without_ro_twins(void)
{
	int count;
	new_root();
	CHECK(put("/sys/class/mtd/mtd0/name", "0.flash\n") == 0);
	CHECK(put("/sys/class/mtd/mtd0/type", "nor\n") == 0);
	CHECK(put("/sys/class/mtd/mtd0/size", "134217728\n") == 0);
	CHECK(put("/sys/class/mtd/mtd0/erasesize", "262144\n") == 0);
	CHECK(put("/sys/class/mtd/mtd0ro/size", "134217728\n") == 0);
	CHECK(put("/sys/class/mtd/mtd10/name", "ten\n") == 0);
	CHECK(put("/sys/class/mtd/mtd10/type", "nor\n") == 0);
	CHECK(put("/sys/class/mtd/mtd10/size", "65536\n") == 0);
	CHECK(put("/sys/class/mtd/mtd10/erasesize", "4096\n") == 0);
	CHECK(put("/sys/class/mtd/mtd2/name", "two\n") == 0);
	CHECK(put("/sys/class/mtd/mtd2/type", "nor\n") == 0);
	CHECK(put("/sys/class/mtd/mtd2/size", "1048576\n") == 0);
	CHECK(put("/sys/class/mtd/mtd2/erasesize", "65536\n") == 0);
	CHECK_STR_EQ(inventory(&count),
		     "inventory: mtd mtd0 name=\"0.flash\" type=nor size=134217728 erasesize=262144\n"
		     "inventory: mtd mtd2 name=\"two\" type=nor size=1048576 erasesize=65536\n"
		     "inventory: mtd mtd10 name=\"ten\" type=nor size=65536 erasesize=4096\n"
		     "inventory: eeprom absent\n");
	CHECK(count == 3);
}

static void test_unreadable_or_garbage_numbers_print_question_marks(void)
{
	int count;
	new_root();
	CHECK(put("/sys/class/mtd/mtd0/name", "x\n") == 0);
	CHECK(put("/sys/class/mtd/mtd0/size", "12abc\n") == 0);
	CHECK(put("/sys/class/block/vda/size", "-5\n") == 0);
	CHECK(put("/sys/class/block/vdb/size", "99999999999999999999999\n") == 0);
	CHECK_STR_EQ(inventory(&count),
		     "inventory: mtd mtd0 name=\"x\" type=? size=? erasesize=?\n"
		     "inventory: block vda size=?\n"
		     "inventory: block vdb size=?\n"
		     "inventory: eeprom absent\n");
	CHECK(count == 3);
}

static void test_block_sizes_in_bytes_and_partitions_skipped(void)
{
	int count;
	new_root();
	CHECK(put("/sys/class/block/nvme0n1/size", "2097152\n") == 0);
	CHECK(put("/sys/class/block/nvme0n1p1/size", "2048\n") == 0);
	CHECK(put("/sys/class/block/nvme0n1p1/partition", "1\n") == 0);
	CHECK(put("/sys/class/block/mtdblock0/size", "262144\n") == 0);
	CHECK_STR_EQ(inventory(&count), "inventory: block mtdblock0 size=134217728\n"
					"inventory: block nvme0n1 size=1073741824\n"
					"inventory: eeprom absent\n");
	CHECK(count == 2);
}

static void test_block_size_that_would_overflow_is_not_printed(void)
{
	int count;
	new_root();
	/* 2^64 / 512 sectors: the byte count does not fit 64 bits */
	CHECK(put("/sys/class/block/huge/size", "36028797018963968\n") == 0);
	CHECK_STR_EQ(inventory(&count), "inventory: block huge size=?\n"
					"inventory: eeprom absent\n");
}

static void test_virtio_ports_with_and_without_names(void)
{
	int count;
	new_root();
	CHECK(put("/sys/class/virtio-ports/vport1p1/name", "selfflash.link\n") == 0);
	CHECK(put("/sys/class/virtio-ports/vport1p0/dev", "250:0\n") == 0);
	CHECK_STR_EQ(inventory(&count), "inventory: port vport1p0 name=(none)\n"
					"inventory: port vport1p1 name=selfflash.link\n"
					"inventory: eeprom absent\n");
	CHECK(count == 2);
}

static void test_eeprom_found_on_jetson_path_before_qemu_path(void)
{
	int count;
	new_root();
	CHECK(put("/sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw", "x") == 0);
	CHECK_STR_EQ(inventory(&count),
		     "inventory: eeprom present at "
		     "/sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw\n");
	CHECK(count == 1);
	CHECK(put("/sys/bus/i2c/devices/0-0050/eeprom", "x") == 0);
	CHECK_STR_EQ(inventory(&count),
		     "inventory: eeprom present at /sys/bus/i2c/devices/0-0050/eeprom\n");
}

/* what the flasher's message lists when no EEPROM is found: every place, Jetson's first */
static void test_eeprom_places_listed_for_the_message(void)
{
	char text[512];
	discover_eeprom_places(text, sizeof(text));
	CHECK_STR_EQ(text, "/sys/bus/i2c/devices/0-0050/eeprom or "
			   "/sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw");
	discover_eeprom_places(text, 20); /* cut short, still terminated */
	CHECK(strlen(text) == 19);
}

int main(void)
{
	RUN(test_empty_board_reports_no_eeprom);
	RUN(test_mtd_devices_in_numeric_order_without_ro_twins);
	RUN(test_unreadable_or_garbage_numbers_print_question_marks);
	RUN(test_block_sizes_in_bytes_and_partitions_skipped);
	RUN(test_block_size_that_would_overflow_is_not_printed);
	RUN(test_virtio_ports_with_and_without_names);
	RUN(test_eeprom_found_on_jetson_path_before_qemu_path);
	RUN(test_eeprom_places_listed_for_the_message);
	new_root(); /* removes the last tree; leaves one empty dir */
	rmdir(root);
	return CHECK_EXIT();
}
