# SPDX-License-Identifier: MIT
"""Checks what a flash of `mkflashpkg l4t`'s package left on a QSPI file and a disk file
against NVIDIA's own outputs in the tree: every indexed file byte for byte where its index
puts it, the boot BCT in every slot of its partition, the disk GPT with NVIDIA's partition
GUIDs (read by sgdisk), and each rootfs slot: the raw image NVIDIA made (for a sparse rootfs),
or for a tar a filesystem e2fsck passes that holds every member of the tar with its type,
mode, owner, size and extended attributes (read by debugfs), and nothing else but lost+found
and, given SYSTEM_VERSION (mkflashpkg l4t --system-version), /etc/selfflash/system-version
saying it (mode 0644, root:root; with /etc/selfflash and /etc where the tar has none).

usage: check_flash.py TREE QSPI DISK BCT_STRIDE [SYSTEM_VERSION]
prints "ok NAME" / "not ok NAME" lines"""
import os
import re
import subprocess
import sys
import tarfile
import tempfile

tree, qspi_path, disk_path, stride = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
system_version = sys.argv[5] if len(sys.argv) > 5 else None
VERSION_FILE = "/etc/selfflash/system-version"
images = os.path.join(tree, "tools", "kernel_flash", "images")
failures = 0


def result(name, good, why=""):
    global failures
    print(("ok " if good else "not ok ") + name)
    if not good:
        failures += 1
        print("  " + why, file=sys.stderr)


def index(where):
    rows = []
    for line in open(os.path.join(images, where, "flash.idx")):
        f = [x.strip() for x in line.split(",")]
        rows.append({"name": f[1].split(":", 2)[2], "start": int(f[2]), "size": int(f[3]),
                     "file": f[4]})
    return rows


def read(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


GPT = ("master_boot_record", "primary_gpt", "secondary_gpt")
for where, target in (("internal", qspi_path), ("external", disk_path)):
    bad = []
    count = 0
    for r in index(where):
        if not r["file"] or r["name"] in GPT:
            continue
        data = open(os.path.join(images, where, r["file"]), "rb").read()
        count += 1
        if r["name"] == "BCT":
            slots = r["size"] // stride
            wrong = [i for i in range(slots) if read(target, r["start"] + i * stride, len(data)) != data]
            result(f"{where}_bct_in_all_{slots}_slots_of_{stride}", not wrong,
                   f"BCT copies missing at slots {wrong[:8]}")
        elif read(target, r["start"], len(data)) != data:
            bad.append(r["name"])
    result(f"{where}_{count}_indexed_files_where_the_index_puts_them", not bad,
           f"partitions differing from NVIDIA's files: {bad}")


def sgdisk_info(path, number):
    out = subprocess.run(["sgdisk", "-i", str(number), path], capture_output=True, text=True).stdout
    kind = re.search(r"Partition GUID code: (\S+)", out)
    uniq = re.search(r"Partition unique GUID: (\S+)", out)
    name = re.search(r"Partition name: '([^']*)'", out)
    return (kind and kind.group(1), uniq and uniq.group(1), name and name.group(1))


nvidia_gpt = os.path.join(images, "external", "gpt_primary_9_0.bin")
with tempfile.TemporaryDirectory() as tmp:
    # sgdisk reads a GPT from a disk: NVIDIA's primary GPT put back at LBA 1 of a blank one
    ref = os.path.join(tmp, "nvidia-disk")
    with open(ref, "wb") as f:
        f.truncate(os.path.getsize(disk_path))
        f.seek(0)
        f.write(open(os.path.join(images, "external", "mbr_9_0.bin"), "rb").read())
        f.write(open(nvidia_gpt, "rb").read())
    names = {}
    for n in range(1, 65):
        info = sgdisk_info(ref, n)
        if info[2]:
            names[info[2]] = (n, info)
    wrong = [name for name, (n, info) in names.items() if sgdisk_info(disk_path, n) != info]
    result(f"disk_gpt_has_nvidia_guids_for_{len(names)}_partitions", names and not wrong,
           f"partitions whose type, unique GUID or name differ from NVIDIA's GPT: {wrong}")

    cfg = dict(line.strip().split("=", 1) for line in open(os.path.join(images, "external", "flash.cfg"))
               if "=" in line)
    for slot, key in (("APP", "APP_ext"), ("APP_b", "APP_b_ext")):
        rows = [r for r in index("external") if r["name"] == slot]
        if not rows or key not in cfg:
            continue
        r = rows[0]
        source = os.path.join(images, "external", cfg[key])
        region = os.path.join(tmp, slot + ".img")
        with open(disk_path, "rb") as src, open(region, "wb") as dst:
            src.seek(r["start"])
            left = r["size"]
            while left:
                chunk = src.read(min(left, 1 << 20))
                dst.write(chunk)
                left -= len(chunk)
        if open(source, "rb").read(4) == b"\x3a\xff\x26\xed":
            raw = os.path.join(tree, "bootloader", cfg[key] + ".raw")
            want = open(raw, "rb").read()
            result(f"{slot}_is_nvidias_raw_image", read(region, 0, len(want)) == want,
                   f"{slot} differs from {raw}")
            continue
        fsck = subprocess.run(["e2fsck", "-fn", region], capture_output=True, text=True)
        result(f"{slot}_from_tar_passes_e2fsck", fsck.returncode == 0, fsck.stdout[-400:])
        members = [m for m in tarfile.open(source).getmembers() if m.name not in (".", "./")]
        dirs = sorted({"/" + os.path.dirname(m.name[2:]) for m in members} | {"/", "/etc", "/etc/selfflash"})
        cmds = os.path.join(tmp, "cmds")
        xattrs = [(m, k[len("SCHILY.xattr."):], v.encode("utf-8", "surrogateescape"))
                  for m in members for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")]
        with open(cmds, "w") as f:
            for d in dirs:
                f.write(f"ls -p {d}\n")
            for i, (m, name, _) in enumerate(xattrs):
                f.write(f"ea_get -f {tmp}/{slot}.x{i} /{m.name[2:]} {name}\n")
        out = subprocess.run(["debugfs", "-f", cmds, region], capture_output=True, text=True).stdout
        listing = {}
        current = None
        for line in out.splitlines():
            if line.startswith("debugfs:"):
                cmd = re.match(r"debugfs:\s+ls -p (\S+)", line)
                current = cmd.group(1).rstrip("/") if cmd else None
                continue
            f = line.split("/")
            if current is not None and len(f) >= 7 and f[1].isdigit() and f[5] not in (".", ".."):
                listing[f"{current}/{f[5]}"] = (int(f[2], 8), int(f[3]), int(f[4]), f[6])
        wrong = []
        for m in members:
            path = "/" + m.name[2:]
            got = listing.get(path)
            kind = {tarfile.DIRTYPE: 0o040000, tarfile.SYMTYPE: 0o120000, tarfile.CHRTYPE: 0o020000,
                    tarfile.BLKTYPE: 0o060000, tarfile.FIFOTYPE: 0o010000}.get(m.type, 0o100000)
            want = (kind | m.mode, m.uid, m.gid)
            if not got or got[:3] != want or (m.isfile() and int(got[3]) != m.size):
                wrong.append(f"{path}: {got} != {want + (m.size,)}")
        result(f"{slot}_holds_all_{len(members)}_tar_members_with_mode_owner_size", not wrong,
               "; ".join(wrong[:5]))
        # what the image holds besides the tar: mke2fs's lost+found, and the version file
        # with the directories it needed, exactly when asked for
        in_tar = {"/" + m.name[2:].rstrip("/") for m in members}
        allowed = {"/lost+found"}
        if system_version:
            allowed |= {p for p in ("/etc", "/etc/selfflash") if p not in in_tar} | {VERSION_FILE}
        extra = sorted(p for p in listing if p not in in_tar and p not in allowed)
        result(f"{slot}_holds_nothing_the_tar_does_not" +
               ("_but_the_version_file" if system_version else ""), not extra,
               f"not in the tar: {extra[:8]}")
        if system_version and VERSION_FILE not in in_tar:
            got = listing.get(VERSION_FILE)
            text = subprocess.run(["debugfs", "-R", f"cat {VERSION_FILE}", region],
                                  capture_output=True).stdout
            result(f"{slot}_has_{VERSION_FILE.replace('/', '_')[1:]}_{system_version}",
                   got and got[:3] == (0o100644, 0, 0) and text == f"{system_version}\n".encode(),
                   f"{VERSION_FILE}: {got}, {text!r}")
            for d in ("/etc", "/etc/selfflash"):
                if d not in in_tar and listing.get(d, (0,))[:3] != (0o040755, 0, 0):
                    result(f"{slot}_made_{d[1:].replace('/', '_')}_0755_root", False,
                           f"{d}: {listing.get(d)}")
        missing = [f"/{m.name[2:]} {name}" for i, (m, name, value) in enumerate(xattrs)
                   if not os.path.exists(f"{tmp}/{slot}.x{i}") or
                   open(f"{tmp}/{slot}.x{i}", "rb").read() != value]
        result(f"{slot}_keeps_{len(xattrs)}_xattrs", xattrs and not missing,
               f"xattrs missing or different: {missing}")
sys.exit(1 if failures else 0)
