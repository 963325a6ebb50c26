/* SPDX-License-Identifier: MIT */
/* What an update writes: slot names, twins, the selection, and the write guard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "target/target.h"
#include "run/update_plan.h"

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

int main(void)
{
	RUN(test_slot_names_follow_nvidia_naming);
	RUN(test_twins_pair_on_the_same_target);
	RUN(test_guard_refuses_writes_outside_its_ranges);
	return CHECK_EXIT();
}
