# SPDX-License-Identifier: MIT
"""Per-release names and contents of the generated L4T tree. Sources: docs/l4t-facts.md
(sections a, b, e, f, g) — L4T-35.3.1 = Seeed-Studio/Linux_for_Tegra r35.3.1, L4T-36.2 =
johnnynunez/Linux_for_Tegra 9a5768c; R36.3/R36.4 changes from OE4T/meta-tegra. Values not
confirmed by a primary source say so here and in tests/l4t/README.md."""
import hashlib
import os

RECSIZE = 104857600  # flash.sh REC_SIZE_DEF (80 MiB image + room), a value the layout accepts
KERNEL_DTB = "tegra234-p3701-0000-p3737-0000.dtb"  # AGX Orin devkit (p3737-0000+p3701-0000.conf)
RELEASES = {
    # nv_tegra_release first lines: R35.3.1 as boards print it; R36 GCID/DATE not NVIDIA's
    "r35.3.1": {"bsp": (35, 3, 1), "kver": "5.10.104-tegra",
                "release": "# R35 (release), REVISION: 3.1, GCID: 32827747, BOARD: t186ref, "
                           "EABI: aarch64, DATE: Sun Mar 19 15:19:21 UTC 2023\n"},
    "r36.3": {"bsp": (36, 3, 0), "kver": "5.15.136-tegra",
              "release": "# R36 (release), REVISION: 3.0, GCID: 00000000, BOARD: generic, "
                         "EABI: aarch64, DATE: Mon May  6 00:00:00 UTC 2024\n"},
    "r36.4": {"bsp": (36, 4, 0), "kver": "5.15.148-tegra",
              "release": "# R36 (release), REVISION: 4.0, GCID: 00000000, BOARD: generic, "
                         "EABI: aarch64, DATE: Fri Sep 13 00:00:00 UTC 2024\n"},
}
R36_RELEASE_TAIL = ("# KERNEL_VARIANT: oot\nTARGET_USERSPACE_LIB_DIR=nvidia\n"
                    "TARGET_USERSPACE_LIB_DIR_PATH=usr/lib/aarch64-linux-gnu/nvidia\n")
STAND_IN_SCRIPT = ("#!/bin/sh\n# stand-in: NVIDIA's l4t_flash_from_kernel.sh is not copied into "
                   "test trees\nexit 1\n")

# signed QSPI file names by partition (A_/B_ stripped): l4t-facts.md b.
QSPI_FILES = {
    "BCT": "br_bct_BR.bct", "mb1": "mb1_t234_prod_aligned_sigheader.bin.encrypt",
    "psc_bl1": "psc_bl1_t234_prod_aligned_sigheader.bin.encrypt",
    "MB1_BCT": "mb1_cold_boot_bct_MB1_sigheader.bct.encrypt",
    "MEM_BCT": "mem_coldboot_sigheader.bct.encrypt", "tsec-fw": "tsec_t234_sigheader.bin.encrypt",
    "nvdec": "nvdec_t234_prod_sigheader.fw.encrypt",
    "mb2": "mb2_t234_with_mb2_cold_boot_bct_MB2_sigheader.bin.encrypt",
    "xusb-fw": "xusb_t234_prod_sigheader.bin.encrypt",
    "bpmp-fw": "bpmp_t234-TE990M-A1_prod_sigheader.bin.encrypt",
    "bpmp-fw-dtb": "tegra234-bpmp-3701-0000-3737-0000_with_odm_sigheader.dtb.encrypt",
    "psc-fw": "pscfw_t234_prod_sigheader.bin.encrypt",
    "mts-mce": "mce_flash_o10_cr_prod_sigheader.bin.encrypt", "sc7": "sc7_t234_prod_sigheader.bin.encrypt",
    "pscrf": "psc_rf_t234_prod_sigheader.bin.encrypt", "mb2rf": "mb2rf_t234_sigheader.bin.encrypt",
    "cpu-bootloader": "uefi_jetson_with_dtb_sigheader.bin.encrypt",
    "secure-os": "tos-optee_t234_sigheader.img.encrypt", "eks": "eks_t234_sigheader.img.encrypt",
    "dce-fw": "display-t234-dce_with_tegra234-p3701-0000-p3737-0000_with_odm_overlay.dtb"
              "_aligned_blob_w_bin_sigheader.bin.encrypt",
    "spe-fw": "spe_t234_sigheader.bin.encrypt", "rce-fw": "camera-rtcpu-t234-rce_sigheader.img.encrypt",
    "adsp-fw": "adsp-fw_sigheader.bin.encrypt", "pva-fw": "nvpva_020_sigheader.fw.encrypt",
    "VER": "qspi_bootblob_ver.txt", "BCT-boot-chain_backup": "bct_backup.img",
    "secondary_gpt": "gpt_secondary_3_0.bin",
}
NVME_FILES = {"master_boot_record": "mbr_9_0.bin", "primary_gpt": "gpt_primary_9_0.bin",
              "secondary_gpt": "gpt_secondary_9_0.bin", "LNXFILE": "boot.img",
              "DTB_FILE": "kernel_" + KERNEL_DTB, "RECFILE": "recovery.img",
              "RECDTB-FILE": KERNEL_DTB + ".rec", "ESP_FILE": "esp.img"}
GPT_SIZES = {"mbr_9_0.bin": 512, "gpt_primary_9_0.bin": 19968, "gpt_secondary_9_0.bin": 16896,
             "gpt_secondary_3_0.bin": 16896}


def qspi_file_name(p):
    short = p.name[2:] if p.name[:2] in ("A_", "B_") else p.name
    return QSPI_FILES.get(short)


def nvme_file_name(p):
    return NVME_FILES.get(p.name) or NVME_FILES.get(p.filename or "")


def payload(p, name, rand, bsp):
    """Bytes for a partition file: exact sizes for GPT parts and the VER text flash.sh writes,
    a random body (≤ 64 KiB, within the partition) otherwise; NVIDIA's signed MB1/PSC BL1 and
    BCT images after the BR BCT start with NVDA."""
    if name in GPT_SIZES:
        return rand(GPT_SIZES[name])
    if name == "qspi_bootblob_ver.txt":  # flash.sh NV4 format (l.2872-2895)
        ver = (bsp[0] << 16) | (bsp[1] << 8) | bsp[2]
        body = (f"NV4\n# R{bsp[0]} , REVISION: {bsp[1]}.{bsp[2]}\nBOARDID=3701 BOARDSKU=0000 FAB=500\n"
                f"20230319081403\n0x{ver:x}\n")
        return (body + f"BYTES:{len(body)} CRC32:{hashlib.sha1(body.encode()).hexdigest()[:8].upper()}\n").encode()
    seed = int(hashlib.sha1(name.encode()).hexdigest()[:6], 16)
    size = min(p.final_size, 4096 + seed % 61440, 7680 if name == "br_bct_BR.bct" else 1 << 30)
    data = rand(size)
    if name.startswith(("mb1_", "psc_bl1_", "mem_", "mb2_")):
        data = b"NVDA" + data[4:]
    return data


def bsp_version(rel):
    b = rel["bsp"]
    head = "".join("#\n" if i % 4 == 3 else "# (BSD licence text of NVIDIA's file, not copied)\n"
                   for i in range(24))
    return (f"# Copyright (c) 2019, NVIDIA CORPORATION.  All rights reserved.\n{head}\n"
            f"BSP_BRANCH={b[0]}\nBSP_MAJOR={b[1]}\nBSP_MINOR={b[2]}\n"
            'BSP_VERSION="${BSP_BRANCH}.${BSP_MAJOR}.${BSP_MINOR}"\n')


def nv_tegra_release(rel):
    return rel["release"] + (R36_RELEASE_TAIL if rel["bsp"][0] >= 36 else "")


def cfg_dir(release):
    return "bootloader/t186ref/cfg" if release == "r35.3.1" else "bootloader/generic/cfg"


def nvme_layout_name(release, ab):
    if not ab:
        return "flash_l4t_t234_nvme.xml"
    return "flash_l4t_nvme_rootfs_ab.xml" if release == "r35.3.1" else "flash_l4t_t234_nvme_rootfs_ab.xml"


def board_links(release):
    target = "p3737-0000+p3701-0000.conf" if release == "r35.3.1" else "p3737-0000-p3701-0000.conf"
    return {"jetson-agx-orin-devkit.conf": target}


def board_confs(release):
    """Stand-ins for the board configuration files (our text, not NVIDIA's)."""
    target = board_links(release)["jetson-agx-orin-devkit.conf"]
    return {target: "# stand-in for NVIDIA's AGX Orin devkit board configuration\n"
                    "source \"${LDK_DIR}/p3701.conf.common\";\n",
            "p3701.conf.common": "# stand-in for NVIDIA's p3701.conf.common\nCHIPID=0x23;\n"
                                 "ROOTFSSIZE=55GiB;\n"}


def flashcmd(release, cfg):
    """bootloader/flashcmd.txt as flash.sh --no-flash --rcm-boot leaves it (shape only: the
    options a real run writes depend on the board; not NVIDIA's exact text)."""
    return ("./tegraflash.py --bl uefi_jetson_with_dtb.bin --odmdata gbe-uphy-config-22 "
            f"--bldtb {KERNEL_DTB} --applet mb1_t234_prod.bin --cmd \"rcmboot\" --cfg flash.xml "
            "--chip 0x23 --concat_cpubl_bldtb --cpubl uefi_jetson.bin "
            "--sdram_config tegra234-p3701-0000-sdram-l4t.dts "
            "--bins \"mb2_bootloader mb2_t234.bin; kernel boot.img; "
            f"kernel_dtb {KERNEL_DTB}\" --boot_chain A \n")


def dummy_kernel(kver, rand):
    """kernel/Image: NVIDIA's scripts take the version from `strings Image | grep -oE
    "Linux version [0-9a-zA-Z\\.\\-]+[+]* "`; arm64 Image header magic ARMd at 0x38."""
    head = bytearray(64)
    head[0x38:0x3C] = b"ARM\x64"
    banner = f"Linux version {kver} (buildbrain@mobile-u64-0000) (aarch64-buildroot-linux-gnu-gcc) #1 SMP PREEMPT\n\0"
    return bytes(head) + rand(4032) + banner.encode() + rand(4096)


# modules: R35.3.1 defconfig (=m) and NVIDIA's initrd lists; R36 lists from L4T-36.2's
# nv_enable_remote.sh with NVIDIA's OOT modules under updates/ (l4t-facts.md e.)
R35_MODULES = {
    "kernel/drivers/mtd/mtd.ko": [], "kernel/drivers/mtd/mtd_blkdevs.ko": ["kernel/drivers/mtd/mtd.ko"],
    "kernel/drivers/mtd/mtdblock.ko": ["kernel/drivers/mtd/mtd_blkdevs.ko", "kernel/drivers/mtd/mtd.ko"],
    "kernel/drivers/mtd/devices/qspi_mtd.ko": ["kernel/drivers/mtd/mtd.ko"],
    "kernel/drivers/mtd/spi-nor/spi-nor.ko": ["kernel/drivers/mtd/mtd.ko"],
    "kernel/drivers/spi/spi-tegra210-qspi.ko": [], "kernel/drivers/spi/spi-tegra114.ko": [],
    "kernel/drivers/misc/eeprom/at24.ko": [], "kernel/drivers/hwmon/pwm-fan.ko": [],
    "kernel/drivers/thermal/tegra/tegra-bpmp-thermal.ko": [],
}
R35_BUILTIN = ["kernel/drivers/spi/spi-tegra23x-qspi.ko", "kernel/drivers/nvme/host/nvme-core.ko",
               "kernel/drivers/nvme/host/nvme.ko", "kernel/drivers/pci/controller/dwc/pcie-tegra194.ko",
               "kernel/drivers/phy/tegra/phy-tegra194-p2u.ko", "kernel/drivers/usb/gadget/udc/tegra-xudc.ko",
               "kernel/drivers/usb/gadget/libcomposite.ko", "kernel/drivers/usb/gadget/function/usb_f_fs.ko",
               "kernel/fs/configfs/configfs.ko"]
R36_MODULES = {
    "kernel/drivers/mtd/mtd.ko": [], "kernel/drivers/mtd/spi-nor/spi-nor.ko": ["kernel/drivers/mtd/mtd.ko"],
    "kernel/drivers/nvme/host/nvme-core.ko": [],
    "kernel/drivers/nvme/host/nvme.ko": ["kernel/drivers/nvme/host/nvme-core.ko"],
    "kernel/drivers/phy/tegra/phy-tegra194-p2u.ko": [],
    "kernel/drivers/pci/controller/dwc/pcie-tegra194.ko": [],
    "kernel/drivers/usb/gadget/libcomposite.ko": [],
    "kernel/drivers/usb/gadget/function/usb_f_fs.ko": ["kernel/drivers/usb/gadget/libcomposite.ko"],
    "kernel/drivers/usb/typec/typec.ko": [],
    "kernel/drivers/usb/typec/ucsi/typec_ucsi.ko": ["kernel/drivers/usb/typec/typec.ko"],
    "kernel/drivers/usb/typec/ucsi/ucsi_ccg.ko": ["kernel/drivers/usb/typec/ucsi/typec_ucsi.ko",
                                                  "kernel/drivers/usb/typec/typec.ko"],
    "kernel/drivers/usb/typec/stusb160x.ko": ["kernel/drivers/usb/typec/typec.ko"],
    "kernel/drivers/usb/gadget/udc/tegra-xudc.ko": [],
    "kernel/drivers/misc/eeprom/at24.ko": [], "kernel/drivers/hwmon/pwm-fan.ko": [],
    "kernel/drivers/thermal/tegra/tegra-bpmp-thermal.ko": [], "kernel/net/ipv6/ipv6.ko": [],
    "updates/drivers/spi/spi-tegra210-quad.ko": [],
    "updates/drivers/platform/tegra/mce/tegra-mce.ko": [],
    "updates/drivers/net/ethernet/nvidia/nvethernet/nvethernet.ko": [],
    "updates/drivers/nvpps/nvpps.ko": [],
}
R36_BUILTIN = ["kernel/fs/configfs/configfs.ko", "kernel/drivers/usb/gadget/udc/udc-core.ko"]


def _ko(path, kver):
    name = os.path.basename(path)[:-3].replace("-", "_")
    return (b"\x7fELF\x02\x01\x01" + b"\0" * 57 +
            f"name={name}\0vermagic={kver} SMP preempt mod_unload modversions aarch64\0".encode())


def module_files(release, modules_from, rand):
    """[(path under lib/modules/KVER, bytes)]: a real tree copied as it is, or dummy .ko files
    with modules.dep / modules.builtin / modules.order shaped like the release's."""
    if modules_from:
        out = []
        for top, _, names in os.walk(modules_from):
            for n in sorted(names):
                full = os.path.join(top, n)
                if not os.path.islink(full):
                    out.append((os.path.relpath(full, modules_from), open(full, "rb").read()))
        return out
    kver = RELEASES[release]["kver"]
    mods, builtin = (R35_MODULES, R35_BUILTIN) if release == "r35.3.1" else (R36_MODULES, R36_BUILTIN)
    dep = "".join(f"{m}:{''.join(' ' + d for d in deps)}\n" for m, deps in mods.items())
    order = "".join(f"{m}\n" for m in mods if m.startswith("kernel/"))
    files = [(m, _ko(m, kver)) for m in mods]
    return files + [("modules.dep", dep.encode()), ("modules.order", order.encode()),
                    ("modules.builtin", "".join(b + "\n" for b in builtin).encode())]
