#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Compares an ext4 image with the tree its tar was made from, reading the image only with
# e2fsprogs' debugfs (stat, ea_list, rdump): every entry's type, mode with its set-user-ID,
# set-group-ID and sticky bits, owner, size, modification time, link count, device numbers,
# extended attributes, hard links, symbolic link targets and file contents; access times
# against the ones the tar recorded. One "ok"/"not ok" line per property, as tests/lib.sh.
# Usage: rootfs_tar_check.py SRC_DIR TAR IMAGE LABEL
import os
import re
import stat
import subprocess
import sys
import tarfile
import tempfile

src, tar_path, image, label = sys.argv[1:5]
failures = 0


def case(name, problems):
    global failures
    if problems:
        failures += 1
        print(f"not ok {label}:{name}")
        for p in problems[:10]:
            print(f"  {p}", file=sys.stderr)
        if len(problems) > 10:
            print(f"  ... and {len(problems) - 10} more", file=sys.stderr)
    else:
        print(f"ok {label}:{name}")


entries = [""]
for top, dirs, files in os.walk(src):
    rel = os.path.relpath(top, src)
    for n in sorted(dirs + files):
        entries.append(n if rel == "." else os.path.join(rel, n))
for e in entries:
    if '"' in e or "\n" in e:
        sys.exit(f"{e!r}: the check cannot quote this name for debugfs")

# one debugfs run: stat and ea_list of every entry; the echo of each command starts its block
with tempfile.NamedTemporaryFile("w", suffix=".cmd", delete=False) as f:
    for e in entries:
        f.write(f'stat "/{e}"\nea_list "/{e}"\n')
    cmds = f.name
out = subprocess.run(["debugfs", "-f", cmds, image], capture_output=True, text=True,
                     errors="replace", check=True).stdout
os.unlink(cmds)
blocks = {}
current = None
for line in out.splitlines():
    m = re.match(r'^debugfs: (stat|ea_list) "/(.*)"$', line)
    if m:
        current = (m.group(1), m.group(2))
        blocks[current] = []
    elif current:
        blocks[current].append(line)


def parse_stat(lines):
    text = "\n".join(lines)
    info = {}
    m = re.search(r"Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+(\d+)", text)
    if not m:
        return None
    info["ino"], info["type"], info["mode"] = int(m.group(1)), m.group(2), int(m.group(3), 8)
    m = re.search(r"User:\s*(\d+)\s+Group:\s*(\d+).*Size: (\d+)", text)
    info["uid"], info["gid"], info["size"] = int(m.group(1)), int(m.group(2)), int(m.group(3))
    info["links"] = int(re.search(r"Links: (\d+)", text).group(1))
    for t in ("mtime", "atime"):
        info[t] = int(re.search(rf"^ ?{t}: 0x([0-9a-f]+)", text, re.M).group(1), 16)
    m = re.search(r"Device major/minor number: (\d+):(\d+)", text)
    if m:
        info["rdev"] = (int(m.group(1)), int(m.group(2)))
    return info


def parse_xattrs(lines):
    xattrs = {}
    for line in lines:
        m = re.match(r"^  (\S+) \((\d+)\)(?: = (.*))?$", line)
        if not m:
            continue
        value = (m.group(3) or "").rstrip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            data = value[1:-1].encode()
        else:
            data = bytes(int(b, 16) for b in value.split())
        xattrs[m.group(1)] = data
    return xattrs


TYPES = {stat.S_IFREG: "regular", stat.S_IFDIR: "directory", stat.S_IFLNK: "symlink",
         stat.S_IFCHR: "character special", stat.S_IFBLK: "block special",
         stat.S_IFIFO: "FIFO", stat.S_IFSOCK: "socket"}
tar_atime = {}
with tarfile.open(tar_path) as t:
    for m in t.getmembers():
        name = os.path.normpath(m.name).lstrip("/")
        # a hard link's own entry records the access time its first name's reading left
        if not m.islnk():
            tar_atime["" if name == "." else name] = int(float(m.pax_headers.get("atime", m.mtime)))

problems = {k: [] for k in ("present", "type", "mode", "owner", "size", "mtime", "atime",
                            "links", "device", "xattrs", "hard_links", "symlinks", "contents")}
by_src_inode = {}
image_inodes = {}
dump = tempfile.mkdtemp()
subprocess.run(["debugfs", "-R", f"rdump / {dump}", image], capture_output=True, check=True)
for e in entries:
    st = os.lstat(os.path.join(src, e))
    info = parse_stat(blocks.get(("stat", e), []))
    if info is None:
        problems["present"].append(f"/{e}: not in the image")
        continue
    where = f"/{e}"
    want_type = TYPES[stat.S_IFMT(st.st_mode)]
    if info["type"] != want_type:
        problems["type"].append(f"{where}: {info['type']}, expected {want_type}")
    if info["mode"] != stat.S_IMODE(st.st_mode):
        problems["mode"].append(f"{where}: {info['mode']:04o}, expected {stat.S_IMODE(st.st_mode):04o}")
    if (info["uid"], info["gid"]) != (st.st_uid, st.st_gid):
        problems["owner"].append(f"{where}: {info['uid']}:{info['gid']}, expected {st.st_uid}:{st.st_gid}")
    if (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)) and info["size"] != st.st_size:
        problems["size"].append(f"{where}: {info['size']} bytes, expected {st.st_size}")
    if info["mtime"] != int(st.st_mtime) & 0xffffffff:
        problems["mtime"].append(f"{where}: {info['mtime']}, expected {int(st.st_mtime)}")
    if e in tar_atime and info["atime"] != tar_atime[e] & 0xffffffff:
        problems["atime"].append(f"{where}: {info['atime']}, the tar says {tar_atime[e]}")
    # a directory's count includes its subdirectories' "..": the image's root has lost+found
    extra = 1 if e == "" and not os.path.exists(os.path.join(src, "lost+found")) else 0
    if info["links"] != st.st_nlink + extra:
        problems["links"].append(f"{where}: {info['links']} links, expected {st.st_nlink + extra}")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        want = (os.major(st.st_rdev), os.minor(st.st_rdev))
        if info.get("rdev") != want:
            problems["device"].append(f"{where}: {info.get('rdev')}, expected {want}")
    want_x = {n: os.getxattr(os.path.join(src, e), n, follow_symlinks=False)
              for n in os.listxattr(os.path.join(src, e), follow_symlinks=False)}
    got_x = parse_xattrs(blocks.get(("ea_list", e), []))
    if got_x != want_x:
        problems["xattrs"].append(f"{where}: {got_x}, expected {want_x}")
    if not stat.S_ISDIR(st.st_mode):
        by_src_inode.setdefault((st.st_dev, st.st_ino), []).append(e)
        image_inodes[e] = info["ino"]
    dumped = os.path.join(dump, e)
    if stat.S_ISLNK(st.st_mode):
        if not os.path.islink(dumped) or os.readlink(dumped) != os.readlink(os.path.join(src, e)):
            problems["symlinks"].append(f"{where}: target differs")
    elif stat.S_ISREG(st.st_mode):
        with open(os.path.join(src, e), "rb") as a, open(dumped, "rb") as b:
            while True:
                x, y = a.read(1 << 20), b.read(1 << 20)
                if x != y:
                    problems["contents"].append(f"{where}: contents differ")
                    break
                if not x:
                    break
for names in by_src_inode.values():
    if len({image_inodes[n] for n in names}) != 1:
        problems["hard_links"].append(f"{names}: not one inode in the image")
subprocess.run(["rm", "-rf", dump], check=True)

print(f"# {label}: {len(entries)} entries compared", file=sys.stderr)
for name, p in problems.items():
    case(name, p)
sys.exit(1 if failures else 0)
