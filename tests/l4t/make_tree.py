#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds a Linux_for_Tegra tree shaped like the one NVIDIA's
`l4t_initrd_flash.sh --no-flash --external-device nvme0n1p1 -c <nvme layout> -p "-c <qspi layout>"
... jetson-agx-orin-devkit internal` leaves, for R35.3.1, R36.3 or R36.4, with small random
payloads. Every shape is NVIDIA's; the sources are in tests/l4t/README.md and
docs/l4t-facts.md. Exit 77 (skip) when ../shared/fixtures is absent.
"""
import argparse
import hashlib
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import l4t_layout as L  # noqa: E402
import l4t_gpt  # noqa: E402
import l4t_rcm  # noqa: E402
import l4t_rootfs as R  # noqa: E402
import l4t_release as REL  # noqa: E402

SKIP = 77


def fixtures_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "..", "shared", "fixtures", "nvidia-l4t-r35.3.1")
    return os.environ.get("SELFFLASH_FIXTURES", default)


def layouts(fix, release, ab, app_size):
    """The internal (QSPI) and external (NVMe) partition lists, placed and numbered."""
    qtype, qinst, qsect, qspi = L.read_xml(os.path.join(fix, "flash_t234_qspi.xml"), {})
    placeholders = {"APPSIZE": str(app_size), "RECSIZE": str(REL.RECSIZE),
                    "RECNAME": "recovery", "RECDTB-NAME": "recovery-dtb",
                    "RECNAME_alt": "recovery_alt", "RECDTB-NAME_alt": "recovery-dtb_alt"}
    ntype, ninst, _, nvme = L.read_xml(os.path.join(fix, "flash_l4t_t234_nvme.xml"), placeholders)
    if release != "r35.3.1":
        qspi, nvme = L.r36_qspi(qspi, release), L.r36_nvme(nvme)
    if ab:
        nvme = L.add_app_b(nvme)
    for parts, sectors in ((qspi, int(qsect)), (nvme, L.NVME_SECTORS[release])):
        L.place(parts, sectors)
        L.number_ids(parts)
    return (qtype, qinst, qspi), (ntype, ninst, nvme)


class Tree:
    def __init__(self, out, release, seed):
        self.out, self.release = out, release
        self.rng = random.Random(seed)
        self.bl = os.path.join(out, "bootloader")
        self.images = os.path.join(out, "tools", "kernel_flash", "images")

    def rand(self, n):
        return self.rng.randbytes(n)

    def write(self, rel, data, mode=0o644):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def partition_files(self, parts, where, file_name, given=None):
        """Writes a payload for every partition that names a file into each of `where`
        (relative dirs), the bytes in `given` by partition name where it has them; returns
        {part name: (file, size, sha1)} for the index."""
        done, out = {}, {}
        for p in parts:
            name = file_name(p)
            if not name or p.name in ("APP", "APP_b"):
                continue
            if name not in done:
                data = (given or {}).get(p.name) or REL.payload(
                    p, name, self.rand, REL.RELEASES[self.release]["bsp"])
                for d in where:
                    self.write(os.path.join(d, name), data)
                done[name] = (name, len(data), hashlib.sha1(data).hexdigest())
            out[p.name] = done[name]
        return out


def build(args):
    fix = fixtures_dir()
    if not os.path.isfile(os.path.join(fix, "flash_t234_qspi.xml")):
        print(f"skip: no NVIDIA layout fixtures at {fix} (../shared absent)", file=sys.stderr)
        return SKIP
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    rel = REL.RELEASES[args.release]
    t = Tree(args.out, args.release, args.seed)
    kver = os.path.basename(os.path.normpath(args.modules_from)) if args.modules_from else rel["kver"]
    kernel = open(args.kernel, "rb").read() if args.kernel else REL.dummy_kernel(kver, t.rand)

    # release files, board configuration, kernel
    t.write("nv_tegra/bsp_version", REL.bsp_version(rel))
    for name, text in REL.board_confs(args.release).items():
        t.write(name, text)
    for link, target in REL.board_links(args.release).items():
        os.symlink(target, os.path.join(args.out, link))
    t.write("kernel/Image", kernel)

    # layouts, signed images, both indexes and flash.cfg files
    (qtype, qinst, qspi), (ntype, ninst, nvme) = layouts(fix, args.release, args.ab, args.app_size)
    cfg_dir = REL.cfg_dir(args.release)
    internal, external = os.path.join(t.images, "internal"), os.path.join(t.images, "external")
    rel_internal = os.path.relpath(internal, args.out)
    rel_external = os.path.relpath(external, args.out)
    qfiles = t.partition_files(qspi, [rel_internal, "bootloader"], REL.qspi_file_name)
    gpts = l4t_gpt.gpt_files(nvme, L.NVME_SECTORS[args.release], args.seed)
    nfiles = t.partition_files(nvme, [rel_external, "bootloader/signed", "bootloader"],
                               REL.nvme_file_name, gpts)
    qidx = L.index_lines(qtype, qinst, qspi, lambda p: qfiles.get(p.name))
    nidx = L.index_lines(ntype, ninst, nvme, lambda p: nfiles.get(p.name))
    t.write(os.path.join(rel_internal, "flash.idx"), qidx)
    t.write(os.path.join(rel_external, "flash.idx"), nidx)
    t.write("bootloader/signed/flash.idx", nidx)  # signed/ is emptied by each sign run
    t.write(os.path.join(rel_internal, "flash.cfg"), "external_device=nvme0n1p1\nCHIPID=0x23\n")
    apps = ["APP"] + (["APP_b"] if args.ab else [])
    ext_cfg = "".join(f"{a}_ext=system.img{'_b' if a == 'APP_b' else ''}\n" for a in apps)
    t.write(os.path.join(rel_external, "flash.cfg"), ext_cfg + "external_device=nvme0n1p1\nCHIPID=0x23\n")
    t.write("tools/kernel_flash/l4t_flash_from_kernel.sh", REL.STAND_IN_SCRIPT, 0o755)
    t.write("tools/kernel_flash/images/l4t_flash_from_kernel.sh", REL.STAND_IN_SCRIPT, 0o755)
    nvme_xml = REL.nvme_layout_name(args.release, args.ab)
    t.write("tools/kernel_flash/initrdflashparam.txt",
            f'--external-device nvme0n1p1 -c "tools/kernel_flash/{nvme_xml}" --network usb0 '
            f"jetson-agx-orin-devkit internal\n")
    t.write("bootloader/flashcmd.txt", REL.flashcmd(args.release, cfg_dir))

    # the root file system: rootfs/, the images made from it, modules
    modules = REL.module_files(args.release, args.modules_from, t.rand)
    entries = R.base_entries(REL.nv_tegra_release(rel), kernel, kver) + R.module_entries(modules, kver)
    R.write_rootfs_dir(os.path.join(args.out, "rootfs"), [e for e in entries if e.kind != "chr"])
    # flash.sh appends the spec it signed for to the rootfs's nv_boot_control.conf
    # (Linux_for_Tegra R35.3.1 flash.sh near l.3351): BOARDID-FAB-BOARDSKU-BOARDREV-1-CHIPREV-BOARD-
    t.write("rootfs/etc/nv_boot_control.conf",
            "TNSPEC 3701-500-0000-M.0-1-1-jetson-agx-orin-devkit-\n"
            "COMPATIBLE_SPEC 3701-000-0000--1--jetson-agx-orin-devkit-\n")
    work = os.path.join(args.out, ".work")
    os.makedirs(work)
    for suffix in [""] + (["_b"] if args.ab else []):
        raw = os.path.join(t.bl, f"system.img{suffix}.raw")
        R.write_ext4(raw, args.app_size, entries, work)
        R.write_sparse(raw, os.path.join(t.bl, f"system.img{suffix}"))
        app_image = os.path.join(external, f"system.img{suffix}")
        if args.sparse_rootfs:
            shutil.copyfile(os.path.join(t.bl, f"system.img{suffix}"), app_image)
        else:
            R.write_tar(app_image, entries)
        digest = hashlib.sha1(open(app_image, "rb").read()).hexdigest()
        t.write(os.path.join(rel_external, f"system.img{suffix}.sha1sum"), digest + "\n")
    shutil.rmtree(work)

    l4t_rcm.write_bundle(args.release, t.bl, kernel, REL.KERNEL_DTB, t.rand)
    for path in args.omit:
        victim = os.path.join(args.out, path)
        if not os.path.lexists(victim):
            print(f"--omit {path}: not in the generated tree", file=sys.stderr)
            return 2
        shutil.rmtree(victim) if os.path.isdir(victim) and not os.path.islink(victim) else os.remove(victim)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", required=True, choices=sorted(REL.RELEASES))
    ap.add_argument("--out", required=True, help="the Linux_for_Tegra directory to create (replaced)")
    ap.add_argument("--ab", action="store_true", help="ROOTFS_AB=1: APP and APP_b on the NVMe")
    ap.add_argument("--sparse-rootfs", action="store_true",
                    help="--sparse: images/external/system.img is the sparse image, not a tar")
    ap.add_argument("--kernel", help="kernel Image to use (default: a small dummy)")
    ap.add_argument("--modules-from", help="a real lib/modules/<kver> directory to copy in")
    ap.add_argument("--omit", action="append", default=[], help="remove PATH (relative to --out)")
    ap.add_argument("--app-size", type=int, default=32 << 20, help="APP partition (-S) in bytes")
    ap.add_argument("--seed", type=int, default=1, help="payload seed (trees are reproducible)")
    args = ap.parse_args()
    if args.app_size % 4096 or args.app_size < (8 << 20):
        ap.error("--app-size must be a multiple of 4096 and at least 8 MiB")
    if args.modules_from and not os.path.isfile(os.path.join(args.modules_from, "modules.dep")):
        ap.error(f"--modules-from {args.modules_from}: no modules.dep there")
    sys.exit(build(args))


if __name__ == "__main__":
    main()
