/* SPDX-License-Identifier: MIT */
/*
 * Module trees as depmod leaves them: modules.dep and modules.builtin read as hostile input,
 * the load order without modprobe, and the flasher's needs per platform (which module, or
 * that it is built in, or which one is missing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/error.h"
#include "../../mkflashpkg/kmods.h"
#include "../../mkflashpkg/l4t_modules.h"
#include "check.h"

static char dir[256];

static void write_tree(const char *dep, const char *builtin)
{
	char path[512];
	snprintf(dir, sizeof(dir), "/tmp/test_kmods.%d", (int)getpid());
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	FILE *f = fopen(path, "w");
	fputs(dep, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	unlink(path);
	if (builtin) {
		f = fopen(path, "w");
		fputs(builtin, f);
		fclose(f);
	}
}

static int error_has(const char *needle)
{
	if (strstr(err_msg(), needle))
		return 1;
	fprintf(stderr, "  error \"%s\" does not mention \"%s\"\n", err_msg(), needle);
	return 0;
}

/* R35-shaped: qspi_mtd needs mtd; depmod lists every dependency, nearest first */
static const char r35_dep[] =
	"kernel/drivers/mtd/mtd.ko:\n"
	"kernel/drivers/mtd/devices/qspi_mtd.ko: kernel/drivers/mtd/mtd.ko\n"
	"kernel/drivers/misc/eeprom/at24.ko: kernel/drivers/base/regmap/regmap-i2c.ko "
	"kernel/drivers/nvmem/nvmem_core.ko\n"
	"kernel/drivers/base/regmap/regmap-i2c.ko:\n"
	"kernel/drivers/nvmem/nvmem_core.ko:\n";
static const char r35_builtin[] =
	"kernel/drivers/spi/spi-tegra23x-qspi.ko\n"
	"kernel/drivers/nvme/host/nvme.ko\n"
	"kernel/drivers/phy/tegra/phy-tegra194-p2u.ko\n"
	"kernel/drivers/pci/controller/dwc/pcie-tegra194.ko\n"
	"kernel/drivers/usb/gadget/udc/tegra-xudc.ko\n"
	"kernel/drivers/usb/gadget/function/usb_f_fs.ko\n";

static size_t position(const struct kmods *k, const unsigned *order, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k->mods[order[i]].name, name) == 0)
			return i;
	return (size_t)-1;
}

static void test_dependencies_load_first_each_once(void)
{
	write_tree(r35_dep, r35_builtin);
	struct kmods k;
	CHECK(kmods_read(&k, dir) == 0);
	unsigned order[KMODS_MAX_ORDER];
	size_t n = 0;
	CHECK(kmods_add(&k, "qspi_mtd", order, &n) == 0);
	CHECK(kmods_add(&k, "at24", order, &n) == 0);
	CHECK(kmods_add(&k, "mtd", order, &n) == 0); /* already there: not twice */
	CHECK(n == 5);
	CHECK(position(&k, order, n, "mtd") < position(&k, order, n, "qspi_mtd"));
	CHECK(position(&k, order, n, "regmap_i2c") < position(&k, order, n, "at24"));
	CHECK(position(&k, order, n, "nvmem_core") < position(&k, order, n, "at24"));
	/* "-" and "_" are one name, as for modprobe */
	CHECK(kmods_find(&k, "regmap-i2c") != NULL);
	CHECK(kmods_find(&k, "spi-tegra23x-qspi")->builtin);
	kmods_free(&k);
}

static void test_builtin_adds_nothing(void)
{
	write_tree(r35_dep, r35_builtin);
	struct kmods k;
	CHECK(kmods_read(&k, dir) == 0);
	unsigned order[KMODS_MAX_ORDER];
	size_t n = 0;
	CHECK(kmods_add(&k, "nvme", order, &n) == 0);
	CHECK(n == 0);
	kmods_free(&k);
}

static void test_missing_module_is_named(void)
{
	write_tree(r35_dep, r35_builtin);
	struct kmods k;
	CHECK(kmods_read(&k, dir) == 0);
	unsigned order[KMODS_MAX_ORDER];
	size_t n = 0;
	CHECK(kmods_add(&k, "spi_nor", order, &n) != 0);
	CHECK(error_has("module spi_nor"));
	kmods_free(&k);
}

static void test_hostile_module_trees_are_refused(void)
{
	static const struct {
		const char *dep, *needle;
	} cases[] = {
		{ "kernel/a.ko kernel/b.ko\n", "no ':'" },
		{ "/lib/modules/x/a.ko:\n", "not a relative path" },
		{ "kernel/../../../etc/a.ko:\n", "leaves the module tree" },
		{ "kernel/a.ko.xz:\n", "compressed module" },
		{ "kernel/a.ko: kernel/b.ko\nkernel/a.ko: kernel/c.ko\n", "listed twice" },
		{ "kernel/x/a.ko:\nkernel/y/a.ko:\n", "module a at" },
		{ "kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_tree(cases[i].dep, NULL);
		struct kmods k;
		int rc = kmods_read(&k, dir);
		if (!cases[i].needle) {
			/* a loop reads fine and is refused when ordering */
			CHECK(rc == 0);
			unsigned order[KMODS_MAX_ORDER];
			size_t n = 0;
			CHECK(kmods_add(&k, "a", order, &n) != 0);
			CHECK(error_has("depends on itself"));
			kmods_free(&k);
			continue;
		}
		CHECK(rc != 0);
		CHECK(error_has(cases[i].needle));
	}
}

static void test_profile_names_the_missing_need(void)
{
	/* the tree without qspi_mtd, and no spi-nor either */
	write_tree("kernel/drivers/mtd/mtd.ko:\n"
		   "kernel/drivers/misc/eeprom/at24.ko:\n",
		   r35_builtin);
	struct kmods k;
	CHECK(kmods_read(&k, dir) == 0);
	unsigned order[KMODS_MAX_ORDER];
	size_t n = 0;
	FILE *report = fopen("/dev/null", "w");
	int rc = l4t_modules_resolve(l4t_profile_find("t234-r35"),
				     L4T_USE_QSPI | L4T_USE_EEPROM | L4T_USE_NVME, &k, NULL, 0,
				     order, &n, report);
	fclose(report);
	CHECK(rc != 0);
	CHECK(error_has("qspi_mtd or spi_nor"));
	CHECK(error_has("QSPI flash"));
	kmods_free(&k);
}

static void test_profile_resolves_only_the_devices_used(void)
{
	write_tree(r35_dep, r35_builtin);
	struct kmods k;
	CHECK(kmods_read(&k, dir) == 0);
	unsigned order[KMODS_MAX_ORDER];
	size_t n = 0;
	char buf[4096] = "";
	FILE *report = fmemopen(buf, sizeof(buf) - 1, "w");
	/* no USB storage or SD need: those modules are absent and must not be asked for */
	CHECK(l4t_modules_resolve(l4t_profile_find("t234-r35"),
				  L4T_USE_QSPI | L4T_USE_EEPROM | L4T_USE_NVME | L4T_USE_USB_LINK,
				  &k, NULL, 0, order, &n, report) == 0);
	fclose(report);
	CHECK(n == 5); /* mtd, qspi_mtd, regmap_i2c, nvmem_core, at24 */
	CHECK(strstr(buf, "nvme: built into the kernel"));
	CHECK(strstr(buf, "tegra_xudc: built into the kernel"));
	/* the fan driver is optional: absent here, and not an error */
	CHECK(strstr(buf, "pwm_fan: not in this kernel, not needed"));
	kmods_free(&k);
}

int main(void)
{
	RUN(test_dependencies_load_first_each_once);
	RUN(test_builtin_adds_nothing);
	RUN(test_missing_module_is_named);
	RUN(test_hostile_module_trees_are_refused);
	RUN(test_profile_names_the_missing_need);
	RUN(test_profile_resolves_only_the_devices_used);
	char path[512];
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	unlink(path);
	rmdir(dir);
	return CHECK_EXIT();
}
