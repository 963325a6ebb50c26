# SPDX-License-Identifier: MIT
"""A Linux_for_Tegra tree that holds the QEMU board's demo system instead of NVIDIA's images,
shaped as l4t_initrd_flash.sh --no-flash leaves a tree (tools/kernel_flash/images/internal and
external with their flash.idx and flash.cfg, the GPT files sgdisk writes, the release file,
kernel/Image, rootfs/lib/modules/KVER, TNSPEC), so `mkflashpkg l4t --profile qemu-virt` makes
a package that boots on the QEMU board, and an initrd from the kernel's own modules.dep.

usage: demo_tree.py --out DIR --layout demo.xml --files build/rootfs --kernel Image
                    --modules LIB_MODULES_KVER [--release r36.4]"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import l4t_release as REL  # noqa: E402

SECTOR = 512
CODES = {"spi": 3, "nvme": 9, "external": 9}  # tegraparser_v2: 9 is the external device


def placed(mkflashpkg, layout):
    """(device, name, offset, size) per partition, as mkflashpkg places NVIDIA's XML."""
    out = subprocess.run([mkflashpkg, "layout", layout], check=True, capture_output=True,
                         text=True).stdout.splitlines()[1:]
    rows = []
    for line in out:
        f = line.split()
        rows.append((f[0].split(":")[0], f[1], int(f[2]), int(f[4])))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--layout", required=True)
    ap.add_argument("--files", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--mkflashpkg", required=True)
    ap.add_argument("--release", default="r36.4")
    a = ap.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    images = os.path.join(a.out, "tools", "kernel_flash", "images")
    xml = {p.get("name"): p for p in ET.parse(a.layout).getroot().iter("partition")}
    text = lambda p, tag: (p.findtext(tag) or "").strip()  # noqa: E731
    rows = placed(a.mkflashpkg, a.layout)
    disk_size = max(off + size for dev, _, off, size in rows if dev != "spi")
    lines = {"internal": [], "external": []}
    sgdisk = ["sgdisk", "--clear", "--set-alignment=1"]
    number = 0
    for dev, name, off, size in rows:
        where = "internal" if dev == "spi" else "external"
        os.makedirs(os.path.join(images, where), exist_ok=True)
        fname = text(xml[name], "filename") if name in xml else ""
        fsize = sha1 = ""
        gpt_id = 0
        if name not in ("master_boot_record", "primary_gpt", "secondary_gpt") and dev != "spi":
            number += 1
            gpt_id = number
            first, last = off // SECTOR, (off + size) // SECTOR - 1
            sgdisk += [f"--new={number}:{first}:{last}", f"--change-name={number}:{name}"]
            if text(xml[name], "partition_type_guid"):
                sgdisk.append(f"--typecode={number}:{text(xml[name], 'partition_type_guid')}")
            if text(xml[name], "unique_guid"):
                sgdisk.append(f"--partition-guid={number}:{text(xml[name], 'unique_guid')}")
        if name in ("APP", "APP_b"):
            fname = ""  # tegraparser_v2 leaves APP's file empty; flash.cfg names the rootfs
        elif fname:
            data = open(os.path.join(a.files, fname), "rb").read()
            shutil.copyfile(os.path.join(a.files, fname), os.path.join(images, where, fname))
            fsize, sha1 = str(len(data)), hashlib.sha1(data).hexdigest()
        lines[where].append([name, CODES[dev], off, size, fname, fsize, gpt_id, sha1])
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk")
        with open(disk, "wb") as f:
            f.truncate(disk_size)
        subprocess.run(sgdisk + [disk], check=True, stdout=subprocess.DEVNULL)
        raw = open(disk, "rb").read(SECTOR + 19968)
        gpt = {"master_boot_record": ("mbr_9_0.bin", raw[:SECTOR]),
               "primary_gpt": ("gpt_primary_9_0.bin", raw[SECTOR:])}
    for row in lines["external"]:
        if row[0] in gpt:
            name, data = gpt[row[0]]
            open(os.path.join(images, "external", name), "wb").write(data)
            row[4], row[5], row[7] = name, str(len(data)), hashlib.sha1(data).hexdigest()
    for where, rows_ in lines.items():
        with open(os.path.join(images, where, "flash.idx"), "w") as f:
            for i, (name, code, off, size, fname, fsize, gid, sha1) in enumerate(rows_):
                f.write(f"{i}, {code}:0:{name}, {off}, {size}, {fname}, {fsize}, "
                        f"fixed-<reserved>-{gid}, {sha1}\n")
    shutil.copyfile(os.path.join(a.files, "app.ext4"), os.path.join(images, "external", "system.img"))
    with open(os.path.join(images, "external", "flash.cfg"), "w") as f:
        f.write("APP_ext=system.img\nAPP_b_ext=system.img\nexternal_device=nvme0n1p1\nCHIPID=0x23\n")
    with open(os.path.join(images, "internal", "flash.cfg"), "w") as f:
        f.write("external_device=nvme0n1p1\nCHIPID=0x23\n")
    rel = REL.RELEASES[a.release]
    os.makedirs(os.path.join(a.out, "nv_tegra"))
    open(os.path.join(a.out, "nv_tegra", "bsp_version"), "w").write(REL.bsp_version(rel))
    os.makedirs(os.path.join(a.out, "bootloader"))
    os.makedirs(os.path.join(a.out, "kernel"))
    shutil.copyfile(a.kernel, os.path.join(a.out, "kernel", "Image"))
    kver = os.path.basename(os.path.normpath(a.modules))
    shutil.copytree(a.modules, os.path.join(a.out, "rootfs", "lib", "modules", kver), symlinks=True)
    # the QEMU board's EEPROM says 699-13701-0005: an AGX Orin 64GB module
    with open(os.path.join(a.out, "rootfs", "etc", "nv_boot_control.conf") if os.makedirs(
            os.path.join(a.out, "rootfs", "etc"), exist_ok=True) is None else "", "w") as f:
        f.write("TNSPEC 3701-500-0005-M.0-1-1-jetson-agx-orin-devkit-\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
