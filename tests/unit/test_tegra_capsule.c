/* SPDX-License-Identifier: MIT */
/*
 * The tegra backend's capsule staging (initrd-flasher/slot/tegra_capsule.c) on a directory as
 * ESP and one as efivarfs: the file where edk2 reads it, stale capsules and switch variables
 * gone, OsIndications last; the power cut after every variable write or removal and the
 * capsule's rename, each time checked to leave either no capsule request or a complete one
 * with the rootfs armed; then edk2-nvidia's capsule on disk (t234_model_capsule.c) applies it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capsule_fixture.h"
#include "check.h"
#include "error.h"
#include "le.h"
#include "pkg.h"
#include "slot/bootslot.h"
#include "slot/esp_file.h"
#include "slot/slot_backend.h"
#include "slot/tegra_capsule.h"
#include "t234_model_capsule.h"

/* ---- the power: every variable change and the capsule's rename go through a counter ------ */
static int ops_left = -1; /* -1: no cut; n: n more operations happen, then the power is gone */
static int ops_done;

static int powered(void)
{
	if (ops_left == 0)
		return 0;
	if (ops_left > 0)
		ops_left--;
	ops_done++;
	return 1;
}

int __real_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len);
int __wrap_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len);
int __wrap_bootslot_var_write(const char *dir, const char *name, const char *guid,
			      uint32_t attributes, const uint8_t *value, size_t len)
{
	if (!powered())
		return err_set("power cut");
	return __real_bootslot_var_write(dir, name, guid, attributes, value, len);
}

int __real_bootslot_var_remove(const char *dir, const char *name, const char *guid);
int __wrap_bootslot_var_remove(const char *dir, const char *name, const char *guid);
int __wrap_bootslot_var_remove(const char *dir, const char *name, const char *guid)
{
	if (!powered())
		return err_set("power cut");
	return __real_bootslot_var_remove(dir, name, guid);
}

int __real_renameat(int a, const char *from, int b, const char *to);
int __wrap_renameat(int a, const char *from, int b, const char *to);
int __wrap_renameat(int a, const char *from, int b, const char *to)
{
	if (!powered()) {
		errno = EIO;
		return -1;
	}
	return __real_renameat(a, from, b, to);
}

/* the rootfs tries register (arm clears it): a variable here, never the host's /dev/mem */
static uint32_t sr_rf = 0x0030faceu;
int __wrap_tegra_scratch_write(const char *mem, uint32_t address, uint32_t value);
int __wrap_tegra_scratch_write(const char *mem, uint32_t address, uint32_t value)
{
	(void)mem;
	(void)address;
	if (!powered())
		return err_set("power cut");
	sr_rf = value;
	return 0;
}

/* the memory file the tries register is read from (check), the size /dev/mem would map */
static char mem[160];

/* ---- a board: efivars and ESP directories ---------------------------------------------- */
static char root[64], efivars[128], esp[128], esrt[128];
static FILE *devnull;
static uint8_t cap[8192];
static size_t cap_len;

static void put_var(const char *name, const char *guid, uint32_t attrs, uint32_t value)
{
	char p[600];
	uint8_t b[8];
	snprintf(p, sizeof(p), "%s/%s-%s", efivars, name, guid);
	le32_store(b, attrs);
	le32_store(b + 4, value);
	FILE *f = fopen(p, "wb");
	CHECK(f != NULL);
	size_t n = fwrite(b, 1, 8, f);
	fclose(f);
	CHECK(n == 8);
}

static int has_var(const char *name, const char *guid)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s-%s", efivars, name, guid);
	return access(p, F_OK) == 0;
}

/* the u32 value of a variable, or -1 when missing */
static long var_u32(const char *name)
{
	uint8_t v[8];
	size_t len;
	int present;
	if (bootslot_var_read(efivars, name, BOOTCHAIN_GUID, v, sizeof(v), &len, &present) ||
	    !present || len != 4)
		return -1;
	return (long)le32_load(v);
}

static uint64_t os_indications(void)
{
	uint8_t v[8];
	size_t len;
	int present;
	if (bootslot_var_read(efivars, "OsIndications", EFI_GLOBAL_GUID, v, sizeof(v), &len,
			      &present) || !present || len != 8)
		return 0;
	return le64_load(v);
}

static int file_exists(const char *rel)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", esp, rel);
	return access(p, F_OK) == 0;
}

static void write_file(const char *rel, const char *text)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", esp, rel);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* A running board on chain A with rootfs A/B, what earlier runs left: a stale capsule, a
 * stale BootChainFwStatus and BootChainFwNext, OsIndications with other bits. */
static void board_fresh(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/efivars %s/esp %s/esrt", root, root, root);
	CHECK(system(cmd) == 0);
	CHECK(mkdir(efivars, 0755) == 0 && mkdir(esp, 0755) == 0);
	snprintf(mem, sizeof(mem), "%s/mem", root);
	FILE *m = fopen(mem, "w");
	CHECK(m != NULL && ftruncate(fileno(m), 0x0C391000) == 0);
	if (m)
		fclose(m);
	char p[300];
	snprintf(p, sizeof(p), "%s/EFI", esp);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/EFI/UpdateCapsule", esp);
	CHECK(mkdir(p, 0755) == 0);
	write_file("EFI/UpdateCapsule/old.cap", "stale");
	put_var("BootChainFwCurrent", BOOTCHAIN_GUID, 6, 0);
	put_var("RootfsRedundancyLevel", BOOTCHAIN_GUID, 7, 1);
	put_var("RootfsStatusSlotA", BOOTCHAIN_GUID, 7, 0);
	put_var("RootfsStatusSlotB", BOOTCHAIN_GUID, 7, 0);
	put_var("BootChainFwStatus", BOOTCHAIN_GUID, 7, 2);
	put_var("BootChainFwNext", BOOTCHAIN_GUID, 7, 0);
	uint8_t v[8];
	le64_store(v, 0x1); /* boot to firmware UI: another bit, kept */
	CHECK(__real_bootslot_var_write(efivars, "OsIndications", EFI_GLOBAL_GUID, 7, v, 8) == 0);
}

static struct slot_env env(void)
{
	return (struct slot_env){ .esp = esp, .efivars = efivars, .esrt = esrt, .tries = 3,
				  .mem_device = mem, .firmware_release = "36.4.3",
				  .log = devnull };
}

static const char *const names[] = { "mb1", "bpmp-fw" };
static const char *const specs[] = { "3701-500-0004-J.0-1-1-jetson-agx-orin-devkit-", "" };
#define BOARD_SPEC "3701-500-0004-J.0-1-1-jetson-agx-orin-devkit-"

/* The update's backend steps for slot B with the capsule; 0 or -1 (a cut). */
static int update_b(void)
{
	struct slot_env e = env();
	struct slot_boot b = { .cmdline = "", .root_partition = "APP_b", .version = 7,
			       .capsule = cap, .capsule_len = cap_len };
	const struct slot_backend_ops *t = &slot_backend_tegra;
	if (t->check(&e, PKG_SLOT_B) != 0 || t->disarm(&e, PKG_SLOT_B) != 0)
		return -1;
	return t->install(&e, PKG_SLOT_B, &b) != 0 || t->arm(&e, PKG_SLOT_B, &b) != 0 ? -1 : 0;
}

/* `status`'s tegra lines for the board into out (terminated); 0 or -1 */
static int describe(char *out, size_t size)
{
	memset(out, 0, size);
	FILE *f = fmemopen(out, size - 1, "w");
	struct slot_env e = env();
	int rc = f && slot_backend_tegra.describe(&e, f) == 0 ? 0 : -1;
	if (f)
		fclose(f);
	return rc;
}

static void stages_where_edk2_reads_it_and_requests_last(void)
{
	board_fresh();
	ops_left = -1;
	CHECK(update_b() == 0);
	CHECK(!file_exists("EFI/UpdateCapsule/old.cap"));
	CHECK(file_exists("EFI/UpdateCapsule/TEGRA_BL.Cap"));
	CHECK(!file_exists("EFI/.selfflash-capsule.tmp"));
	char p[600];
	snprintf(p, sizeof(p), "%s/EFI/UpdateCapsule/TEGRA_BL.Cap", esp);
	CHECK(esp_file_check_same(p, cap, cap_len) == 0);
	CHECK(os_indications() == 0x5);
	CHECK(!has_var("BootChainFwNext", BOOTCHAIN_GUID));
	CHECK(!has_var("BootChainFwStatus", BOOTCHAIN_GUID));
	CHECK(var_u32("RootfsStatusSlotB") == 0);
	/* edk2-nvidia at the next boot: applied, chain B, the bit and the file gone, LAS 0 */
	struct t234_model m;
	memset(&m, 0, sizeof(m));
	snprintf(m.dir, sizeof(m.dir), "%s", efivars);
	struct model_capsule c = { .esp = esp, .board_spec = BOARD_SPEC, .esrt = esrt };
	CHECK(model_capsule_on_disk(&m, 0, &c) == 1);
	CHECK(c.applied == 1 && c.las_present && c.las == 0 && m.br_bct_chain == 1);
	CHECK(c.files_loaded == 1 && !file_exists("EFI/UpdateCapsule/TEGRA_BL.Cap"));
	CHECK(os_indications() == 0x1);
	CHECK(model_capsule_on_disk(&m, 1, &c) == 0); /* nothing asked any more */
	/* status reads the result back from the ESRT */
	char out[4096];
	CHECK(describe(out, sizeof(out)) == 0);
	CHECK(strstr(out, "capsule: ESRT entry0") && strstr(out, "success"));
}

static void firmware_cancels_when_a_switch_variable_is_left(void)
{
	board_fresh();
	ops_left = -1;
	CHECK(update_b() == 0);
	put_var("BootChainFwStatus", BOOTCHAIN_GUID, 7, 2); /* something wrote one after us */
	struct t234_model m;
	memset(&m, 0, sizeof(m));
	snprintf(m.dir, sizeof(m.dir), "%s", efivars);
	struct model_capsule c = { .esp = esp, .esrt = esrt };
	CHECK(model_capsule_on_disk(&m, 0, &c) == 1);
	CHECK(c.las == 6163 && c.applied == 0 && m.br_bct_chain == 0);
	CHECK(var_u32("BootChainFwStatus") == 3);
	char out[4096];
	CHECK(describe(out, sizeof(out)) == 0);
	CHECK(strstr(out, "6163") && strstr(out, "BOOT_CHAIN_UPDATE_CANCELED"));
}

static void refuses_a_capsule_for_another_board(void)
{
	board_fresh();
	ops_left = -1;
	char p[600];
	snprintf(p, sizeof(p), "%s/TegraPlatformCompatSpec-%s", efivars, BOOTCHAIN_GUID);
	FILE *f = fopen(p, "wb");
	CHECK(f != NULL);
	fwrite("\x07\0\0\0" "3767-000-0000--1-1-p3768-0000-p3767-0000-", 1, 4 + 42, f);
	fclose(f);
	CHECK(update_b() != 0 && strstr(err_msg(), "another board"));
	CHECK(os_indications() == 0x1 && !file_exists("EFI/UpdateCapsule/TEGRA_BL.Cap"));
	CHECK(!has_var("BootChainFwNext", BOOTCHAIN_GUID));
}

/* After a cut at any step: a capsule request only with the capsule and rootfs B armed; never a
 * boot-chain request; and the model's next boot is either no change or the capsule applied. */
static void power_cut_after_every_step(void)
{
	board_fresh();
	ops_left = -1;
	ops_done = 0;
	CHECK(update_b() == 0);
	int total = ops_done;
	CHECK(total >= 8);
	for (int cut = 0; cut <= total; cut++) {
		board_fresh();
		ops_left = cut;
		int rc = update_b();
		ops_left = -1;
		CHECK((rc == 0) == (cut == total));
		int asked = (os_indications() & 0x4) != 0;
		if (asked) {
			CHECK(file_exists("EFI/UpdateCapsule/TEGRA_BL.Cap"));
			CHECK(var_u32("RootfsStatusSlotB") == 0);
			CHECK(!has_var("BootChainFwStatus", BOOTCHAIN_GUID));
		}
		CHECK(!has_var("BootChainFwNext", BOOTCHAIN_GUID) || cut == 0);
		CHECK(!file_exists("EFI/UpdateCapsule/.selfflash-capsule.tmp"));
		struct t234_model m;
		memset(&m, 0, sizeof(m));
		snprintf(m.dir, sizeof(m.dir), "%s", efivars);
		struct model_capsule c = { .esp = esp };
		int reset = model_capsule_on_disk(&m, 0, &c);
		CHECK(reset == asked);
		CHECK(m.br_bct_chain == (uint32_t)asked); /* switched only with the capsule applied */
		if (!asked) /* the running chain boots; rootfs B is still disarmed or only armed */
			CHECK(var_u32("RootfsStatusSlotA") == 0);
		if (check_case_failed) {
			printf("  (power cut after %d of %d operations)\n", cut, total);
			break;
		}
	}
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/tegra-capsule-XXXXXX");
	if (!mkdtemp(root) || !(devnull = fopen("/dev/null", "w")))
		return 1;
	snprintf(efivars, sizeof(efivars), "%s/efivars", root);
	snprintf(esp, sizeof(esp), "%s/esp", root);
	snprintf(esrt, sizeof(esrt), "%s/esrt", root);
	cap_len = capsule_fixture(cap, sizeof(cap), names, specs, 2);
	RUN(stages_where_edk2_reads_it_and_requests_last);
	RUN(firmware_cancels_when_a_switch_variable_is_left);
	RUN(refuses_a_capsule_for_another_board);
	RUN(power_cut_after_every_step);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		return 1;
	return CHECK_EXIT();
}
