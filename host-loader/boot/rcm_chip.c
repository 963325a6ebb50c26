/* SPDX-License-Identifier: MIT */
/* The Tegra chips RCM boot knows: their recovery-mode USB ids, the kinds of file each chip's
 * boot takes, and NVIDIA's default file names (rcm_t234.c and rcm_t194.c say where from). */
#include "rcm_internal.h"

#include <string.h>

#include "error.h"

/* ---- chips and USB ids ---------------------------------------------------------------- */

static const struct usb_id rcm_ids[] = {
	{ RCM_TEGRA_VENDOR, 0x7023, RCM_TEGRA_T234, "Jetson AGX Orin 64GB" },
	{ RCM_TEGRA_VENDOR, 0x7223, RCM_TEGRA_T234, "Jetson AGX Orin 32GB" },
	{ RCM_TEGRA_VENDOR, 0x7323, RCM_TEGRA_T234, "Jetson Orin NX 16GB" },
	{ RCM_TEGRA_VENDOR, 0x7423, RCM_TEGRA_T234, "Jetson Orin NX 8GB" },
	{ RCM_TEGRA_VENDOR, 0x7523, RCM_TEGRA_T234, "Jetson Orin Nano 8GB" },
	{ RCM_TEGRA_VENDOR, 0x7623, RCM_TEGRA_T234, "Jetson Orin Nano 4GB" },
	{ RCM_TEGRA_VENDOR, 0x7019, RCM_TEGRA_T194, "Jetson AGX Xavier" },
	{ RCM_TEGRA_VENDOR, 0x7e19, RCM_TEGRA_T194, "Jetson Xavier NX" },
};
#define RCM_ID_COUNT (sizeof(rcm_ids) / sizeof(rcm_ids[0]))

const struct usb_id *rcm_tegra_usb_ids(size_t *count)
{
	*count = RCM_ID_COUNT;
	return rcm_ids;
}

const struct usb_id *rcm_tegra_identify(uint16_t vendor, uint16_t product)
{
	for (size_t i = 0; i < RCM_ID_COUNT; i++)
		if (rcm_ids[i].vendor == vendor && rcm_ids[i].product == product)
			return &rcm_ids[i];
	err_set("USB %04x:%04x is not a Tegra recovery-mode device this tool knows (expected "
		"%04x:7023/7223/7323/7423/7523/7623 for T234 or 7019/7e19 for T194)",
		vendor, product, RCM_TEGRA_VENDOR);
	return NULL;
}

const char *rcm_tegra_chip_name(enum rcm_tegra_chip chip)
{
	switch (chip) {
	case RCM_TEGRA_T194:
		return "T194";
	case RCM_TEGRA_T234:
		return "T234";
	}
	return "T??";
}

/* ---- what may be in a bundle ---------------------------------------------------------- */

#define CHIP_T194 1u
#define CHIP_T234 2u

static const struct rcm_kind kinds[] = {
	{ "bct_br", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "mb1", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "psc_bl1", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T234, 0 },
	{ "bct_mb1", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "rcm", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194, 1 },
	{ "bct_mem", RCM_TEGRA_STAGE_MB1, RCM_TEGRA_BCT_MEM_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "blob", RCM_TEGRA_STAGE_MB1, RCM_TEGRA_BLOB_MAX, CHIP_T194 | CHIP_T234, 0 },
};
#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

/* NVIDIA's names as tegraflash's rcm boot leaves them in rcmboot_blob/, in send order. */
static const struct rcm_default_file t234_defaults[] = {
	{ "bct_br", "br_bct_BR.bct" },
	{ "mb1", "mb1_t234_prod_aligned_sigheader.bin.encrypt" },
	{ "psc_bl1", "psc_bl1_t234_prod_aligned_sigheader.bin.encrypt" },
	{ "bct_mb1", "mb1_bct_MB1_sigheader.bct.encrypt" },
	{ "bct_mem", "mem_rcm_sigheader.bct.encrypt" },
	{ "blob", "blob.bin" },
};
static const struct rcm_default_file t194_defaults[] = {
	{ "rcm", "rcm_1_encrypt.rcm" },
	{ "rcm", "rcm_2_encrypt.rcm" },
	{ "bct_mem", "mem_rcm_sigheader.bct.encrypt" },
	{ "blob", "blob.bin" },
};
const char *const rcm_t234_bootrom_order[RCM_T234_BOOTROM_FILES] = { "bct_br", "mb1", "psc_bl1",
								      "bct_mb1" };

const struct rcm_default_file *rcm_chip_default_files(enum rcm_tegra_chip chip, size_t *count)
{
	if (chip == RCM_TEGRA_T234) {
		*count = sizeof(t234_defaults) / sizeof(t234_defaults[0]);
		return t234_defaults;
	}
	*count = sizeof(t194_defaults) / sizeof(t194_defaults[0]);
	return t194_defaults;
}

int rcm_kind_wants_nvda(const char *kind)
{
	return strcmp(kind, "mb1") == 0 || strcmp(kind, "psc_bl1") == 0 ||
	       strcmp(kind, "bct_mb1") == 0;
}

unsigned rcm_chip_bit(enum rcm_tegra_chip chip)
{
	return chip == RCM_TEGRA_T194 ? CHIP_T194 : chip == RCM_TEGRA_T234 ? CHIP_T234 : 0;
}

const struct rcm_kind *rcm_kind_find(const char *kind)
{
	for (size_t i = 0; i < KIND_COUNT; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

const char *rcm_stage_name(enum rcm_tegra_stage stage)
{
	return stage == RCM_TEGRA_STAGE_BOOTROM ? "bootrom stage" : "MB1 stage";
}
