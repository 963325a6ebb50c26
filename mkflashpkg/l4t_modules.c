/* SPDX-License-Identifier: MIT */
/* The flasher's drivers per platform, checked against a kernel's module tree. */
#include "l4t_modules.h"

#include <string.h>

#include "error.h"

#define ANY_OF_MAX 4

struct need {
	const char *what;                /* said in the report and in errors */
	unsigned use;                    /* enum l4t_use: when the need applies */
	const char *any_of[ANY_OF_MAX];  /* module names; the first one present wins */
	int optional;                    /* loaded when the kernel has it, not required */
};

struct l4t_module_profile {
	const char *name;
	unsigned branch; /* L4T branch it is the default for; 0: chosen by name only */
	const char *link;        /* the flasher's link setting on this platform */
	const char *qspi_target; /* the QSPI as the flasher opens it */
	const char *on_failure;  /* a Jetson waits for the host to retry; QEMU powers off */
	const struct need *needs;
	size_t count;
};

/*
 * T234 on R35: NVIDIA's defconfig (Linux_for_Tegra R35.3.1,
 * source/kernel/kernel-5.10/arch/arm64/configs/defconfig) builds CONFIG_MTD=m,
 * CONFIG_MTD_QSPI_FLASH=m (drivers/mtd/devices/qspi_mtd.o) and CONFIG_EEPROM_AT24=m; the QSPI
 * controller (QSPI_TEGRA23x, spi-tegra23x-qspi.o), NVMe, the PCIe host and its PHY, the USB
 * device controller (USB_TEGRA_XUDC), configfs and FunctionFS are =y there, which
 * modules.builtin shows. NVIDIA's flashing initrd modprobes qspi_mtd and pwm-fan
 * (tools/kernel_flash/initrd_flash/nv_enable_remote.sh, R35.3.1).
 */
static const struct need t234_r35[] = {
	{ "QSPI flash (MTD)", L4T_USE_QSPI, { "qspi_mtd", "spi_nor" }, 0 },
	{ "QSPI controller", L4T_USE_QSPI, { "spi_tegra23x_qspi", "spi_tegra210_quad" }, 0 },
	{ "module EEPROM", L4T_USE_EEPROM, { "at24" }, 0 },
	{ "PCIe PHY", L4T_USE_NVME, { "phy_tegra194_p2u" }, 0 },
	{ "PCIe controller", L4T_USE_NVME, { "pcie_tegra194" }, 0 },
	{ "NVMe", L4T_USE_NVME, { "nvme" }, 0 },
	{ "SD/eMMC", L4T_USE_MMC, { "sdhci_tegra" }, 0 },
	{ "USB storage", L4T_USE_USB_DISK, { "usb_storage" }, 0 },
	{ "USB device controller", L4T_USE_USB_LINK, { "tegra_xudc" }, 0 },
	{ "USB gadget FunctionFS", L4T_USE_USB_LINK, { "usb_f_fs" }, 0 },
	{ "fan (a long flash stays cool)", L4T_USE_EEPROM, { "pwm_fan" }, 1 },
};

/*
 * T234 on R36 (kernel 5.15; NVIDIA's out-of-tree modules in extra/ or updates/). NVIDIA's
 * flashing initrd loads, in this order: phy_tegra194_p2u, pcie_tegra194, nvme,
 * tegra-bpmp-thermal, pwm-fan, libcomposite, typec, ucsi-ccg, tegra-xudc, ... then
 * spi-tegra210-quad (tools/kernel_flash/initrd_flash/nv_enable_remote.sh, Linux_for_Tegra
 * R36.2). The USB-C port controller gives the device controller its role on the AGX Orin devkit.
 */
static const struct need t234_r36[] = {
	{ "QSPI flash (MTD)", L4T_USE_QSPI, { "spi_nor", "qspi_mtd" }, 0 },
	{ "QSPI controller", L4T_USE_QSPI, { "spi_tegra210_quad", "spi_tegra23x_qspi" }, 0 },
	{ "module EEPROM", L4T_USE_EEPROM, { "at24" }, 0 },
	{ "PCIe PHY", L4T_USE_NVME, { "phy_tegra194_p2u" }, 0 },
	{ "PCIe controller", L4T_USE_NVME, { "pcie_tegra194" }, 0 },
	{ "NVMe", L4T_USE_NVME, { "nvme" }, 0 },
	{ "SD/eMMC", L4T_USE_MMC, { "sdhci_tegra" }, 0 },
	{ "USB storage", L4T_USE_USB_DISK, { "usb_storage" }, 0 },
	{ "thermal (BPMP)", L4T_USE_EEPROM, { "tegra_bpmp_thermal" }, 1 },
	{ "fan (a long flash stays cool)", L4T_USE_EEPROM, { "pwm_fan" }, 1 },
	{ "USB-C port controller", L4T_USE_USB_LINK, { "ucsi_ccg" }, 1 },
	{ "USB device controller", L4T_USE_USB_LINK, { "tegra_xudc" }, 0 },
	{ "USB gadget FunctionFS", L4T_USE_USB_LINK, { "usb_f_fs" }, 0 },
};

/*
 * The QEMU board with qemu/kernel-modular.config. physmap asks for its chip probe by name
 * (drivers/mtd/chips/chipreg.c, request_module("cfi_probe")) and the probe finds the command
 * set by symbol (gen_probe.c, __symbol_get("cfi_cmdset_0001"); QEMU's pflash_cfi01 is an Intel
 * command-set chip): neither is in physmap's modules.dep line and the initrd has no modprobe,
 * so both are needs of their own, before physmap, whose probe runs as it loads. The module
 * EEPROM and chip SKU come through fw_cfg: the first thing the flasher reads.
 */
static const struct need qemu_virt[] = {
	{ "module EEPROM (fw_cfg)", L4T_USE_EEPROM, { "qemu_fw_cfg" }, 0 },
	{ "CFI chip probe", L4T_USE_QSPI, { "cfi_probe" }, 0 },
	{ "CFI Intel command set", L4T_USE_QSPI, { "cfi_cmdset_0001" }, 0 },
	{ "QSPI stand-in (pflash, physmap)", L4T_USE_QSPI, { "physmap" }, 0 },
	{ "NVMe", L4T_USE_NVME, { "nvme" }, 0 },
	{ "virtio-serial link", L4T_USE_VIRTIO_LINK, { "virtio_console" }, 0 },
};

#define PROFILE(n, b, link, qspi, fail, t) { n, b, link, qspi, fail, t, sizeof(t) / sizeof(t[0]) }
/* A Jetson's QSPI is one MTD device of the whole flash (qspi_mtd or spi-nor); the QEMU board's
 * pflash unit 1 is mapped after unit 0's 64 MiB (qemu/run-rcm.sh). */
static const struct l4t_module_profile profiles[] = {
	PROFILE("t234-r35", 35, "usb-gadget:", "mtd:/dev/mtd0", "wait", t234_r35),
	PROFILE("t234-r36", 36, "usb-gadget:", "mtd:/dev/mtd0", "wait", t234_r36),
	PROFILE("qemu-virt", 0, "virtio:selfflash.link", "mtd:/dev/mtd0@67108864", "poweroff",
		qemu_virt),
};

const char *l4t_profile_link(const struct l4t_module_profile *p)
{
	return p->link;
}

const char *l4t_profile_qspi_target(const struct l4t_module_profile *p)
{
	return p->qspi_target;
}

const char *l4t_profile_on_failure(const struct l4t_module_profile *p)
{
	return p->on_failure;
}

unsigned l4t_profile_link_use(const struct l4t_module_profile *p)
{
	return strncmp(p->link, "virtio:", 7) == 0 ? L4T_USE_VIRTIO_LINK : L4T_USE_USB_LINK;
}

const struct l4t_module_profile *l4t_profile_find(const char *name)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

const struct l4t_module_profile *l4t_profile_for_branch(unsigned branch)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (profiles[i].branch == branch)
			return &profiles[i];
	return NULL;
}

const char *l4t_profile_name(const struct l4t_module_profile *p)
{
	return p->name;
}

const char *l4t_profile_list(void)
{
	return "t234-r35, t234-r36, qemu-virt";
}

static int add_named(const struct kmods *k, const char *what, const char *name, unsigned *order,
		     size_t *count, FILE *report)
{
	const struct kmod *m = kmods_find(k, name);
	size_t before = *count;
	if (!m || kmods_add(k, name, order, count) != 0)
		return m ? -1 : kmods_add(k, name, order, count); /* names what is missing */
	if (m->builtin) {
		fprintf(report, "  %-30s %s: built into the kernel\n", what, m->name);
		return 0;
	}
	fprintf(report, "  %-30s %s", what, m->name);
	if (*count - before > 1) {
		fprintf(report, " (after");
		for (size_t i = before; i + 1 < *count; i++)
			fprintf(report, " %s", k->mods[order[i]].name);
		fputc(')', report);
	} else if (*count == before) {
		fprintf(report, " (already loaded for another need)");
	}
	fputc('\n', report);
	return 0;
}

int l4t_modules_resolve(const struct l4t_module_profile *p, unsigned use, const struct kmods *k,
			const char *const *extra, size_t nextra, unsigned *order, size_t *count,
			FILE *report)
{
	*count = 0;
	for (size_t i = 0; i < p->count; i++) {
		const struct need *n = &p->needs[i];
		if (!(n->use & use))
			continue;
		const char *found = NULL;
		for (int j = 0; j < ANY_OF_MAX && n->any_of[j] && !found; j++)
			if (kmods_find(k, n->any_of[j]))
				found = n->any_of[j];
		if (!found && n->optional) {
			fprintf(report, "  %-30s %s: not in this kernel, not needed\n", n->what,
				n->any_of[0]);
			continue;
		}
		if (!found) {
			char names[256] = "";
			for (int j = 0; j < ANY_OF_MAX && n->any_of[j]; j++)
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
					 j ? " or " : "", n->any_of[j]);
			return err_set("the flasher needs module %s for the %s, and %s/modules.dep "
				       "has no such module nor is it built in (modules.builtin)",
				       names, n->what, k->dir);
		}
		if (add_named(k, n->what, found, order, count, report) != 0)
			return -1;
	}
	for (size_t i = 0; i < nextra; i++)
		if (add_named(k, "added with --module", extra[i], order, count, report) != 0)
			return -1;
	return 0;
}
