#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The Orin bench's package (issue 24): NVIDIA's R35.3.1 QSPI + NVMe layout
# (flash_t234_qspi_nvme.xml) with QSPI images of NVIDIA's real sizes, and an APP of NVIDIA's
# default size (55 GiB, sparse ext4) holding a rootfs-like mix of this host's files; a copy with
# 1 % of its used bytes rewritten in place; a "previous release" whose QSPI images are other
# bytes. Cached under BUILD/bench-cache while the inputs stay the same. Prints the cache folder;
# its meta.sh holds the figures the bench needs. Exits 3 when NVIDIA's layouts are not here.
# Usage: orin_image.py BUILD [--quick]   (BENCH_ORIN_GIB: GiB in use, default 3; quick: 256 MiB)
import gzip
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import time

# the test image's helpers: running tools, rewriting a file inside an image, used bytes
from image import data_bytes, fs_used_bytes, rewrite, run, sha_file, text_bytes

MiB = 1 << 20
GiB = 1 << 30
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))
UUID = "5e1ff1a5-0000-4000-8000-000000000024"  # fixed: a new one would change every checksum
LAYOUT = "flash_t234_qspi_nvme.xml"
# NVIDIA's placeholders as flash.sh fills them at R35.3.1 for an Orin NX 16GB (p3767-0000):
# ROOTFSSIZE=55GiB (Seeed-Studio/Linux_for_Tegra r35.3.1, p3767.conf.common l.133, and
# p3701.conf.common l.182 for the AGX Orin; flash.sh l.3365 puts it in APPSIZE) and
# REC_SIZE_DEF=83886080 (flash.sh l.2769). 55 GiB is the 59 GB image users see written.
APP_SIZE = 55 * GiB
REC_SIZE = 83886080

# The QSPI images an R35.3.1 flash of an Orin NX 16GB writes, by the layout's placeholder:
# (file, bytes, gzip -9 ratio). File names from p3767.conf.common and flash.sh at r35.3.1; bytes
# from `git ls-tree -l r35.3.1 bootloader kernel/dtb` of Seeed-Studio/Linux_for_Tegra (NVIDIA's
# unsigned files: signing adds a header of a few KiB); ratios measured with gzip -9 on those
# files. Firmware is mostly incompressible; a few (SPE firmware, device trees, MB2's runtime
# parts) compress well, so each image mimics its file's ratio.
QSPI_FILES = {
    "MB1FILE": ("mb1_t234_prod.bin", 268336, 0.97),
    "PSCBL1FILE": ("psc_bl1_t234_prod.bin", 119616, 0.94),
    "NVHOSTNVDEC": ("nvdec_t234_prod.fw", 294912, 0.96),
    "MB2BLFILE": ("mb2_t234.bin", 389024, 0.46),
    "XUSB_FW": ("xusb_t234_prod.bin", 156672, 0.94),
    "BPFFILE": ("bpmp_t234-TE990M-A1_prod.bin", 1048000, 0.99),
    "BPFDTB_FILE": ("tegra234-bpmp-3767-0000-a02-3509-a02.dtb", 130688, 0.08),
    "PSCFW": ("pscfw_t234_prod.bin", 375168, 0.98),
    "MCE_IMAGE": ("mce_flash_o10_cr_prod.bin", 190592, 0.96),
    "WB0FILE": ("sc7_t234_prod.bin", 167376, 0.96),
    "PSCRF_IMAGE": ("psc_rf_t234_prod.bin", 119104, 0.94),
    "MB2RF_IMAGE": ("mb2rf_t234.bin", 114592, 0.44),
    # uefi_jetson.bin (2818048, 0.97) with the kernel DTB tegra234-p3767-0000-p3509-a02.dtb
    # (344461, 0.16) appended (tegraflash_impl_t234.py r35.3.1 l.3019-3025)
    "TBCDTB-FILE": ("uefi_jetson_with_dtb.bin", 3162509, 0.88),
    "TOSFILE": ("tos-optee_t234.img", 1056560, 0.67),
    "EKSFILE": ("eks_t234.img", 1028, 0.31),
    # ESTIMATE: display-t234-dce.bin is not in the mirror (its object is absent); 4 MiB of
    # firmware with the kernel DTB appended (tegraflash_impl_t234.py concatenate_dcebin_kerneldtb)
    # fits the 5 MiB partition as NVIDIA's must
    "DCE": ("display-t234-dce.bin+dtb", 4 * MiB + 344461, 0.90),
    "SPEFILE": ("spe_t234.bin", 262144, 0.14),
    "CAMERAFW": ("camera-rtcpu-t234-rce.img", 529760, 0.49),
    "adsp-fw.bin": ("adsp-fw.bin", 392760, 0.99),
    # made by flash.sh (VERFILENAME=qspi_bootblob_ver.txt): a few lines of text
    "VERFILE": ("qspi_bootblob_ver.txt", 120, 0.80),
}
# left empty: tsec_t234.bin is not in R35.3.1 (flash.sh l.2983 drops TSECFW when the file is
# missing); the BCTs and smm-fw have no file in the layout (tegraflash makes the BCTs); the NVMe's
# kernels, DTBs, recovery and ESP are left out so the figures are about APP and the QSPI
NO_FILE = ["TSECFW", "LNXFILE", "DTB_FILE", "RECFILE", "RECDTB-FILE", "ESP_FILE"]

# The rootfs mix, by bytes in use. An Ubuntu L4T rootfs is mostly /usr/lib: NVIDIA's and
# CUDA's libraries, GStreamer, Python, X — ELF files; /usr/share and /usr/include hold text
# (headers, scripts, docs); PNG icons, .gz docs and man pages, .deb and Python wheels are already
# compressed. An estimate of that split, not a measurement of an L4T image: 65 % executables
# and libraries, 15 % text, 20 % already compressed.
MIX = (("elf", 0.65), ("text", 0.15), ("packed", 0.20))
CHANGED = 0.01  # of the used bytes, rewritten in place for the "1 % changed" image
BLOCK = 4096


def log(msg):
    print("orin_image: " + msg, file=sys.stderr, flush=True)


def firmware_bytes(name, size, ratio, release):
    """Deterministic bytes of `size` that gzip to about `ratio`: in each 4 KiB the first
    ratio x 4 KiB are pseudo-random, the rest zero. Another release: other random bytes."""
    rng = random.Random(f"{release}:{name}")
    keep = max(1, min(BLOCK, int(ratio * BLOCK)))
    out = bytearray()
    while len(out) < size:
        out += rng.randbytes(keep) + bytes(BLOCK - keep)
    return bytes(out[:size])


def write_firmware(d, release):
    os.makedirs(d, exist_ok=True)
    files = []
    for key, (name, size, ratio) in QSPI_FILES.items():
        path = os.path.join(d, key)
        with open(path, "wb") as f:
            f.write(firmware_bytes(name, size, ratio, release))
        files += ["--file", f"{key}={path}"]
    return files


# ---- the rootfs mix from this host's files ----------------------------------------------
def host_files(roots, want):
    """Regular files under roots (sorted walk, one path per inode) for which want(path) holds."""
    seen = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for n in sorted(filenames):
                p = os.path.join(dirpath, n)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not os.path.isfile(p) or os.path.islink(p) or st.st_size == 0:
                    continue
                if (st.st_dev, st.st_ino) in seen or not os.access(p, os.R_OK):
                    continue
                seen.add((st.st_dev, st.st_ino))
                if want(p):
                    yield p, st


def is_elf(p):
    try:
        with open(p, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


PACKED = (".gz", ".xz", ".bz2", ".zst", ".deb", ".png", ".jpg", ".jpeg", ".whl", ".zip")
TEXT = (".h", ".hpp", ".c", ".py", ".pl", ".pm", ".txt", ".md", ".rst", ".html", ".xml",
        ".conf", ".sh", ".json", ".css", ".js")


def pick(kind):
    """The host files of one kind, in a fixed order: (source, destination path, decompress)."""
    if kind == "elf":
        for p, st in host_files(["/usr/lib", "/usr/bin", "/usr/sbin", "/usr/libexec"], is_elf):
            yield p, st, False
    elif kind == "text":
        # man pages uncompressed (a board's are .gz; here they stand for text), then headers,
        # sources, docs and scripts
        for p, st in host_files(["/usr/share/man"], lambda p: p.endswith(".gz")):
            yield p, st, True
        for p, st in host_files(["/usr/include", "/usr/share/doc", "/usr/lib/python3",
                                 "/usr/share/perl", "/usr/share/perl5"],
                                lambda p: p.endswith(TEXT)):
            yield p, st, False
    else:
        for p, st in host_files(["/var/cache/apt/archives", "/usr/share/doc", "/usr/share/icons",
                                 "/usr/share/pixmaps", "/usr/share/backgrounds"],
                                lambda p: p.endswith(PACKED) and "/man/" not in p):
            yield p, st, False


def plan_files(total):
    """Which host files make the mix: [(kind, source, size, decompress)] and a key for the
    cache (their paths, sizes and times)."""
    chosen, h = [], hashlib.sha256()
    for kind, share in MIX:
        budget, used = int(total * share), 0
        for p, st, unzip in pick(kind):
            if used >= budget:
                break
            if st.st_size > budget - used + 16 * MiB:
                continue
            chosen.append((kind, p, unzip))
            used += st.st_size * (3 if unzip else 1)  # a man page inflates about 3x
            h.update(f"{kind} {p} {st.st_size} {st.st_mtime_ns}\n".encode())
    return chosen, h.hexdigest()[:16]


def stage(d, chosen, total):
    """Copies the chosen files under d as a rootfs (host paths; man pages inflated), a filler
    where a kind came short of its share (source-like text, else random bytes); fixed modes
    and times."""
    made = {k: 0 for k, _ in MIX}
    for kind, src, unzip in chosen:
        dst = os.path.join(d, src.lstrip("/"))
        if unzip:
            dst = dst[:-3]
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            if unzip:
                with gzip.open(src, "rb") as f, open(dst, "wb") as o:
                    shutil.copyfileobj(f, o)
            else:
                shutil.copyfile(src, dst)
        except (OSError, EOFError):
            continue
        os.chmod(dst, 0o755 if kind == "elf" else 0o644)
        made[kind] += os.path.getsize(dst)
    for kind, share in MIX:
        short = int(total * share) - made[kind]
        if short > MiB:  # this host has too few such files
            log(f"{kind}: {short >> 20} MiB short on this host, filled")
            dst = os.path.join(d, "var", "lib", "filler", kind + (".txt" if kind == "text" else
                                                                  ".xz"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            rng = random.Random("filler:" + kind)
            with open(dst, "wb") as f:
                for at in range(0, short, 8 * MiB):
                    n = min(8 * MiB, short - at)
                    f.write(text_bytes(at, n) if kind == "text" else rng.randbytes(n))
            made[kind] += short
    for dirpath, dirnames, filenames in os.walk(d):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), (EPOCH, EPOCH), follow_symlinks=False)
    return made


def change(image, stage_dir, target):
    """Rewrites about `target` bytes in place: a piece in the middle of one file in eight of
    those of 256 KiB or more (spread over the whole tree, as an update's changed libraries
    are), and their mtimes. Returns the bytes rewritten."""
    files = []
    for dirpath, dirnames, filenames in os.walk(stage_dir):
        dirnames.sort()
        for n in sorted(filenames):
            p = os.path.join(dirpath, n)
            if os.path.getsize(p) >= 256 * 1024:
                files.append((p, os.path.getsize(p)))
    files = files[::8] or files
    piece = max(BLOCK, int(target / max(1, len(files))) // BLOCK * BLOCK)
    rng = random.Random("changed")
    total, cmds = 0, []
    for p, size in files:
        if total >= target:
            break
        n = min(piece, size // 2 // BLOCK * BLOCK, (target - total + BLOCK - 1) // BLOCK * BLOCK)
        if n <= 0:
            continue
        at = (size // 2) // BLOCK * BLOCK
        path = "/" + os.path.relpath(p, stage_dir)
        rewrite(image, path, at, rng.randbytes(n))
        cmds.append("set_inode_field %s mtime 20250601120000" % path)
        total += n
    run("debugfs", "-w", "-f", "-", image, input="\n".join(cmds) + "\n",
        stderr=subprocess.DEVNULL)
    return total


def build_image(d, total, chosen):
    tmp_root = "/dev/shm" if os.access("/dev/shm", os.W_OK) else d
    stage_dir = os.path.join(tmp_root, f"orin-stage-{os.getpid()}")
    shutil.rmtree(stage_dir, ignore_errors=True)
    try:
        log(f"staging {total >> 20} MiB of this host's files (a rootfs-like mix)")
        made = stage(stage_dir, chosen, total)
        env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(EPOCH))
        image = os.path.join(d, "app.img")
        log(f"mkfs.ext4 -d into a {APP_SIZE >> 30} GiB sparse image")
        run("mkfs.ext4", "-q", "-F", "-b", str(BLOCK), "-U", UUID, "-E",
            "hash_seed=" + UUID + ",root_owner=0:0,lazy_itable_init=1,nodiscard", "-L", "APP",
            "-d", stage_dir, image, str(APP_SIZE // 1024) + "k", env=env)
        image2 = os.path.join(d, "app2.img")
        run("cp", "--sparse=always", image, image2)
        used = data_bytes(image)
        changed = change(image2, stage_dir, CHANGED * used)
        run("e2fsck", "-fn", image2, stderr=subprocess.STDOUT)  # the change left a sound fs
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
    with open(os.path.join(d, "image.meta"), "w") as f:
        f.write(f"app_size={APP_SIZE}\nused_bytes={used}\nfs_used_bytes={fs_used_bytes(image)}\n"
                f"changed_bytes={changed}\n" +
                "".join(f"mix_{k}={v}\n" for k, v in made.items()))


def build_packages(d, mkflashpkg, layout):
    if not os.path.exists(os.path.join(d, "k.key")):
        run(mkflashpkg, "keygen", os.path.join(d, "k"))
    run(mkflashpkg, "eeprom", "-o", os.path.join(d, "e.bin"), "--part-number",
        "699-13767-0000-300 K.2", "--serial", "1")
    common = ["--layout", layout, "--key", os.path.join(d, "k.key"), "--set",
              f"APPSIZE={APP_SIZE}", "--set", f"RECSIZE={REC_SIZE}"]
    for n in NO_FILE:
        common += ["--no-file", n]
    this = write_firmware(os.path.join(d, "fw"), "r35.3.1")
    before = write_firmware(os.path.join(d, "fw-prev"), "previous")
    seconds = {}  # each build timed: a codec level's price is build time
    for pkg, fw, app in (("p.sfpkg", this, ["--file", "APPFILE=" + os.path.join(d, "app.img")]),
                         ("p2.sfpkg", this, ["--file", "APPFILE=" + os.path.join(d, "app2.img")]),
                         ("prev.sfpkg", before, ["--no-file", "APPFILE"])):
        log(f"mkflashpkg build {pkg}")
        start = time.monotonic()
        run(mkflashpkg, "build", "-q", "-o", os.path.join(d, pkg), *common, *fw, *app)
        seconds[pkg[:-6]] = time.monotonic() - start
    # the same system with the other codec and with zstd's highest level, for make bench's
    # codec section
    for pkg, codec in (("pz", "zlib"), ("p19", "zstd:19")):
        log(f"mkflashpkg build {pkg}.sfpkg (--codec {codec})")
        start = time.monotonic()
        run(mkflashpkg, "build", "-q", "--codec", codec, "-o", os.path.join(d, pkg + ".sfpkg"),
            *common, *this, "--file", "APPFILE=" + os.path.join(d, "app.img"))
        seconds[pkg] = time.monotonic() - start
    with open(os.path.join(d, "build.meta"), "w") as f:
        f.write("".join(f"build_s_{k}={v:.1f}\n" for k, v in seconds.items()))
    lay = run(mkflashpkg, "layout", "--set", f"APPSIZE={APP_SIZE}", "--set",
              f"RECSIZE={REC_SIZE}", layout)
    nvme_end = max(int(m.group(1)) + int(m.group(2)) for m in
                   re.finditer(r"^nvme\S*\s+\S+\s+(\d+) \(\S+\)\s+(\d+)", lay, re.M))
    qspi_end = max(int(m.group(1)) + int(m.group(2)) for m in
                   re.finditer(r"^spi\S*\s+\S+\s+(\d+) \(\S+\)\s+(\d+)", lay, re.M))
    # what NVIDIA's flash writes to the QSPI: every image, in both boot chains
    qspi_files = 0
    for m in re.finditer(r"^spi\S*\s+\S+\s.*file=(\S+)", lay, re.M):
        if m.group(1) in QSPI_FILES:
            qspi_files += QSPI_FILES[m.group(1)][1]
    with open(os.path.join(d, "pkg.meta"), "w") as f:
        f.write(f"nvme_size={nvme_end}\nqspi_size={qspi_end}\nqspi_file_bytes={qspi_files}\n")


def main():
    build = os.path.abspath(sys.argv[1])
    quick = "--quick" in sys.argv[2:]
    fixtures = os.environ.get("SELFFLASH_FIXTURES", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures",
        "nvidia-l4t-r35.3.1"))
    layout = os.path.join(os.path.abspath(fixtures), LAYOUT)
    if not os.path.exists(layout):
        sys.exit(3)
    total = 256 * MiB if quick else int(float(os.environ.get("BENCH_ORIN_GIB", "3")) * GiB)
    mkflashpkg = os.path.join(build, "bin", "mkflashpkg")
    chosen, host_key = plan_files(total)
    me = open(os.path.abspath(__file__), "rb").read()
    key = hashlib.sha256(me + repr((total, host_key, EPOCH)).encode()).hexdigest()[:16]
    kind = "orin-quick-" if quick else "orin-full-"
    cache = os.path.join(build, "bench-cache")
    d = os.path.join(cache, kind + key)
    if not os.path.exists(os.path.join(d, "image.meta")):
        # a stale one is gigabytes: keep one per kind
        if os.path.isdir(cache):
            for old in os.listdir(cache):
                if old.startswith(kind):
                    shutil.rmtree(os.path.join(cache, old))
        os.makedirs(d)
        build_image(d, total, chosen)
    pkg_key = sha_file(mkflashpkg)[:16] + sha_file(layout)[:16]
    stamp = os.path.join(d, "pkg.key")
    if not os.path.exists(stamp) or open(stamp).read() != pkg_key:
        build_packages(d, mkflashpkg, layout)
        with open(stamp, "w") as f:
            f.write(pkg_key)
    with open(os.path.join(d, "meta.sh"), "w") as f:
        for part in ("image.meta", "pkg.meta", "build.meta"):
            f.write(open(os.path.join(d, part)).read())
        for p in ("p", "p2", "prev", "pz", "p19"):
            f.write(f"{p}_package_size={os.path.getsize(os.path.join(d, p + '.sfpkg'))}\n")
    print(d)


if __name__ == "__main__":
    main()
