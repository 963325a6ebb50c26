#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The bench's test system (issue 14): an ext4 image made without mounting (mkfs.ext4 -d) from
# seeded random and text files, a copy with about 1 % of its used bytes rewritten in place,
# their bmap, and both signed packages; cached under BUILD/bench-cache while the inputs (this
# script, its parameters, mkflashpkg) stay the same. Prints the cache folder; its meta.sh holds
# the figures the bench needs (sizes, used and changed bytes, the least a chunk delta sends).
# Usage: image.py BUILD [--quick]
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys

MiB = 1 << 20
# (image size, random files of 8 MiB, text files of 4 MiB): 466 MiB used as in issue 14; the
# quick one for the smoke test
FULL = (2048 * MiB, 40, 20)
QUICK = (64 * MiB, 4, 2)
CHANGED = 0.01  # of the files' bytes, rewritten for the "1 % changed" image
UUID = "5e1ff1a5-0000-4000-8000-000000000014"  # fixed: a new one would change every checksum
BLOCK = 4096


def log(msg):
    print("image: " + msg, file=sys.stderr, flush=True)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


def text_lines(rng):
    """A pool of source-like lines: compresses about as well as a system's text files do."""
    words = ["flash", "board", "chunk", "verify", "partition", "static", "const", "return",
             "uint64_t", "offset", "size", "if", "else", "for", "while", "struct", "int",
             "the", "a", "of", "to", "is", "read", "write", "back", "link", "host", "error",
             "0x%08x" % rng.getrandbits(32), "buffer", "length", "sector", "block", "erase"]
    return ["\t" * rng.randrange(4) + " ".join(rng.choices(words, k=rng.randrange(2, 14))) +
            (";" if rng.random() < 0.5 else "") + "\n" for _ in range(4000)]


def text_bytes(seed, size):
    rng = random.Random(seed)
    pool = text_lines(rng)
    out, n = [], 0
    while n < size:
        line = rng.choice(pool)
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def make_files(d, nrand, ntext):
    os.makedirs(os.path.join(d, "data"))
    os.makedirs(os.path.join(d, "text"))
    for i in range(nrand):
        with open(os.path.join(d, "data", "%02d.bin" % i), "wb") as f:
            f.write(random.Random(1000 + i).randbytes(8 * MiB))
    for i in range(ntext):
        with open(os.path.join(d, "text", "%02d.txt" % i), "wb") as f:
            f.write(text_bytes(2000 + i, 4 * MiB))


def file_blocks(image, path):
    """The physical block of each logical block of a file, from debugfs (no mount)."""
    out = run("debugfs", "-R", "blocks " + path, image, stderr=subprocess.DEVNULL)
    return [int(x) for x in out.split()]


def rewrite(image, path, at, data):
    """Overwrites the file's bytes [at, at+len) inside the image, block by block."""
    blocks = file_blocks(image, path)
    with open(image, "r+b") as f:
        for k in range(0, len(data), BLOCK):
            f.seek(blocks[(at + k) // BLOCK] * BLOCK)
            f.write(data[k:k + BLOCK])


def change(image, nrand, ntext, target):
    """Rewrites about `target` bytes: a piece in the middle of one random file in ten and of
    one text file in seven, and their mtimes (inode blocks change as in a real update).
    Returns the bytes rewritten."""
    rand_files = list(range(0, nrand, 10))
    text_files = list(range(0, ntext, 7))
    rand_piece = int(target * 0.85 / len(rand_files)) // BLOCK * BLOCK
    text_piece = int(target * 0.15 / len(text_files)) // BLOCK * BLOCK
    cmds, total = [], 0
    for i in rand_files:
        p = "/data/%02d.bin" % i
        rewrite(image, p, 3 * MiB, random.Random(3000 + i).randbytes(rand_piece))
        cmds.append("set_inode_field %s mtime 20250601120000" % p)
        total += rand_piece
    for i in text_files:
        p = "/text/%02d.txt" % i
        rewrite(image, p, MiB, text_bytes(4000 + i, text_piece))
        cmds.append("set_inode_field %s mtime 20250601120000" % p)
        total += text_piece
    run("debugfs", "-w", "-f", "-", image, input="\n".join(cmds) + "\n",
        stderr=subprocess.DEVNULL)
    return total


def data_bytes(image):
    """The bytes that are not holes (SEEK_DATA): mkfs's unwritten journal counts as a hole."""
    total = 0
    with open(image, "rb") as f:
        fd, size, at = f.fileno(), os.fstat(f.fileno()).st_size, 0
        while at < size:
            try:
                start = os.lseek(fd, at, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                break
            at = os.lseek(fd, start, os.SEEK_HOLE)
            total += at - start
    return total


def fs_used_bytes(image):
    out = run("dumpe2fs", "-h", image, stderr=subprocess.DEVNULL)
    field = dict(re.findall(r"^([A-Za-z ]+):\s+(\S+)", out, re.M))
    return (int(field["Block count"]) - int(field["Free blocks"])) * int(field["Block size"])


def changed_chunks(a, b, chunk):
    """Offsets of the chunk-sized windows where the two images differ."""
    out = []
    with open(a, "rb") as fa, open(b, "rb") as fb:
        off = 0
        while True:
            x, y = fa.read(chunk), fb.read(chunk)
            if not x and not y:
                return out
            if x != y:
                out.append(off)
            off += chunk


def chunk_table(mkflashpkg, pkg):
    """{image offset: stored bytes} of the package's chunks, from `mkflashpkg show --chunks`."""
    out = run(mkflashpkg, "show", "--chunks", pkg)
    table = {}
    for m in re.finditer(r"^\s*chunk\s.*?offset\s+(\d+).*?stored\s+(\d+)", out, re.M):
        table[int(m.group(1))] = int(m.group(2))
    return table, out


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MiB), b""):
            h.update(b)
    return h.hexdigest()


def build_image(d, size, nrand, ntext):
    files = os.path.join(d, "files")
    log(f"{nrand} x 8 MiB random + {ntext} x 4 MiB text files into a {size // MiB} MiB ext4")
    make_files(files, nrand, ntext)
    env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000")
    image = os.path.join(d, "image.img")
    run("mkfs.ext4", "-q", "-F", "-b", str(BLOCK), "-U", UUID, "-E",
        "hash_seed=" + UUID + ",root_owner=0:0", "-L", "bench", "-d", files, image,
        str(size // 1024) + "k", env=env)
    shutil.rmtree(files)
    image2 = os.path.join(d, "image2.img")
    run("cp", "--sparse=always", image, image2)
    data = data_bytes(image)
    used = data
    if shutil.which("bmaptool"):
        # "used" as issue 14 counts it: what bmaptool copies (FIEMAP: the journal included)
        bmap = os.path.join(d, "image.bmap")
        run("bmaptool", "create", "-o", bmap, image)
        text = open(bmap).read()
        used = int(re.search(r"<MappedBlocksCount>\s*(\d+)", text).group(1)) * int(
            re.search(r"<BlockSize>\s*(\d+)", text).group(1))
    changed = change(image2, nrand, ntext, CHANGED * used)
    run("e2fsck", "-fn", image2, stderr=subprocess.STDOUT)  # the change left a sound filesystem
    with open(os.path.join(d, "image.meta"), "w") as f:
        f.write(f"image_size={size}\nused_bytes={used}\ndata_bytes={data}\n"
                f"fs_used_bytes={fs_used_bytes(image)}\nchanged_bytes={changed}\n")


def build_packages(d, mkflashpkg, size):
    with open(os.path.join(d, "layout.xml"), "w") as f:
        f.write(f"""<partition_layout>
  <device type="nvme" instance="0" sector_size="512" num_sectors="{(size + 64 * MiB) // 512}">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>{size}</size><filename>IMAGE</filename><align_boundary>1048576</align_boundary></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
""")
    # a new mkflashpkg rebuilds the packages; the key made the first time stays
    if not os.path.exists(os.path.join(d, "k.key")):
        run(mkflashpkg, "keygen", os.path.join(d, "k"))
    run(mkflashpkg, "eeprom", "-o", os.path.join(d, "e.bin"), "--part-number",
        "699-13701-0005-500 M.0", "--serial", "1")
    for pkg, img in (("p.sfpkg", "image.img"), ("p2.sfpkg", "image2.img")):
        log(f"mkflashpkg build {pkg}")
        run(mkflashpkg, "build", "-q", "-o", os.path.join(d, pkg), "--layout",
            os.path.join(d, "layout.xml"), "--key", os.path.join(d, "k.key"),
            "--file", "IMAGE=" + os.path.join(d, img))
    lay = run(mkflashpkg, "layout", os.path.join(d, "layout.xml"))
    app = re.search(r"^\S*\s+APP\s+(\d+)", lay, re.M) or re.search(r"APP\D+(\d+)", lay)
    # the least a chunk-wise delta sends for the changed image: the changed chunks' stored bytes
    table, shown = chunk_table(mkflashpkg, os.path.join(d, "p2.sfpkg"))
    chunk = int(re.search(r"chunk.size\D*(\d+)", shown).group(1)) if re.search(
        r"chunk.size\D*(\d+)", shown) else MiB
    diff = changed_chunks(os.path.join(d, "image.img"), os.path.join(d, "image2.img"), chunk)
    ideal = sum(table.get(o, 0) for o in diff)
    with open(os.path.join(d, "pkg.meta"), "w") as f:
        f.write(f"app_offset={app.group(1)}\nchunk_size={chunk}\nchanged_chunks={len(diff)}\n"
                f"changed_chunks_stored={ideal}\nchunks_listed={len(table)}\n")


def main():
    build = os.path.abspath(sys.argv[1])
    quick = "--quick" in sys.argv[2:]
    size, nrand, ntext = QUICK if quick else FULL
    mkflashpkg = os.path.join(build, "bin", "mkflashpkg")
    me = open(os.path.abspath(__file__), "rb").read()
    # with bmaptool there is a bmap and "used" is what it copies: a different cache
    have_bmap = shutil.which("bmaptool") is not None
    key = hashlib.sha256(me + repr((size, nrand, ntext, have_bmap)).encode()).hexdigest()[:16]
    cache = os.path.join(build, "bench-cache")
    d = os.path.join(cache, ("quick-" if quick else "full-") + key)
    if not os.path.exists(os.path.join(d, "image.meta")):
        # a stale image of the same kind is 2 GiB of sparse file: keep one per kind
        if os.path.isdir(cache):
            for old in os.listdir(cache):
                if old.startswith("quick-" if quick else "full-"):
                    shutil.rmtree(os.path.join(cache, old))
        os.makedirs(d)
        build_image(d, size, nrand, ntext)
    pkg_key = sha_file(mkflashpkg)[:16]
    stamp = os.path.join(d, "pkg.key")
    if not os.path.exists(stamp) or open(stamp).read() != pkg_key:
        build_packages(d, mkflashpkg, size)
        with open(stamp, "w") as f:
            f.write(pkg_key)
    with open(os.path.join(d, "meta.sh"), "w") as f:
        for part in ("image.meta", "pkg.meta"):
            f.write(open(os.path.join(d, part)).read())
        f.write(f"package_size={os.path.getsize(os.path.join(d, 'p.sfpkg'))}\n"
                f"package2_size={os.path.getsize(os.path.join(d, 'p2.sfpkg'))}\n")
    print(d)


if __name__ == "__main__":
    main()
