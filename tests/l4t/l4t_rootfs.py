# SPDX-License-Identifier: MIT
"""The root file system of a generated L4T tree: the rootfs/ directory, the module tree, the
tar system.img NVIDIA's l4t_create_images_for_kernel_flash.sh makes from the mounted
system.img.raw, and that raw ext4 image and its sparse form.

The tar is written with tarfile in PAX format (what GNU tar --xattrs writes: SCHILY.xattr.*
records, numeric owners), from a list of entries, so owners, a setuid file, a device node and
xattrs need no root. The ext4 image gets the same entries through mke2fs -d (plain files) and
debugfs (owners, modes, device nodes, xattrs), so it needs no root either.
"""
import io
import os
import shutil
import subprocess
import tarfile

# security.capability for cap_net_raw+ep (VFS_CAP_REVISION_2 | effective, permitted bit 13)
CAP_NET_RAW_EP = bytes.fromhex("01000002" "00200000" "00000000" "00000000" "00000000")
MTIME = 1679212800  # 2023-03-19, the R35.3.1 build date; fixed so trees are reproducible


class Entry:
    def __init__(self, path, kind, mode, uid=0, gid=0, data=b"", target="", dev=(0, 0), xattrs=None):
        self.path, self.kind, self.mode, self.uid, self.gid = path, kind, mode, uid, gid
        self.data, self.target, self.dev, self.xattrs = data, target, dev, xattrs or {}


def base_entries(release_line, kernel, kver):
    """What every generated rootfs holds besides the modules: the release file, a boot
    directory, and one of each thing a rootfs copy must keep (owners, setuid, xattrs, a device
    node, symlinks)."""
    d = lambda p, mode=0o755, uid=0, gid=0: Entry(p, "dir", mode, uid, gid)  # noqa: E731
    f = lambda p, data, mode=0o644, uid=0, gid=0, **kw: Entry(p, "file", mode, uid, gid, data, **kw)  # noqa: E731
    return [
        d("etc"), d("usr"), d("usr/bin"), d("usr/sbin"), d("usr/lib"), d("usr/lib/modules"),
        d("boot"), d("boot/extlinux"), d("dev"), d("home"), d("home/nvidia", 0o750, 1000, 1000),
        d("root", 0o700), d("tmp", 0o1777), d("var"), d("var/log"),
        Entry("lib", "symlink", 0o777, target="usr/lib"),  # merged /usr (Ubuntu 20.04, 22.04)
        Entry("bin", "symlink", 0o777, target="usr/bin"),
        Entry("sbin", "symlink", 0o777, target="usr/sbin"),
        f("etc/nv_tegra_release", release_line.encode()),
        f("etc/hostname", b"tegra-ubuntu\n"),
        f("etc/shadow", b"root:*:19435:0:99999:7:::\n", 0o640, 0, 42),
        f("boot/Image", kernel),
        f("boot/extlinux/extlinux.conf",
          b"TIMEOUT 30\nDEFAULT primary\nLABEL primary\n      LINUX /boot/Image\n"
          b"      INITRD /boot/initrd\n      APPEND ${cbootargs} root=/dev/nvme0n1p1 rw\n"),
        f("usr/bin/passwd", b"\x7fELF passwd stand-in\n", 0o4755),
        f("usr/bin/ping", b"\x7fELF ping stand-in\n", 0o755,
          xattrs={"security.capability": CAP_NET_RAW_EP}),
        f("usr/bin/dash", b"\x7fELF dash stand-in\n", 0o755),
        Entry("usr/bin/sh", "symlink", 0o777, target="dash"),
        f("home/nvidia/notes.txt", b"owned by uid 1000\n", 0o640, 1000, 1000,
          xattrs={"user.selfflash": b"kept"}),
        Entry("dev/console", "chr", 0o600, dev=(5, 1)),
        Entry("dev/null", "chr", 0o666, dev=(1, 3)),
        f("var/log/boot.log", b"", 0o640, 0, 4),
    ]


def module_entries(modules, kver):
    """modules: [(path under lib/modules/KVER, data)]; they live under usr/lib (lib is a link)."""
    root = f"usr/lib/modules/{kver}"
    dirs, out = set(), []
    for rel, _ in modules:
        parts = f"{root}/{rel}".split("/")[:-1]
        for i in range(4, len(parts) + 1):  # usr/lib/modules is a base entry
            dirs.add("/".join(parts[:i]))
    dirs.add(root)
    out += [Entry(p, "dir", 0o755) for p in sorted(dirs, key=lambda d: (d.count("/"), d))]
    out += [Entry(f"{root}/{rel}", "file", 0o644, data=data) for rel, data in modules]
    return out


def write_rootfs_dir(rootfs, entries):
    """rootfs/ as apply_binaries.sh leaves it (without special files: those are in the image)."""
    for e in entries:
        path = os.path.join(rootfs, e.path)
        if e.kind == "dir":
            os.makedirs(path, exist_ok=True)
        elif e.kind == "file":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(e.data)
            os.chmod(path, e.mode & 0o777)
        elif e.kind == "symlink":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.symlink(e.target, path)


def write_tar(path, entries):
    """A PAX tar of the entries as `tar --xattrs -cpf X --numeric-owner -C mnt .` writes it:
    members ./name, numeric owners without names, SCHILY.xattr records."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        root = tarfile.TarInfo("."); root.type, root.mode, root.mtime = tarfile.DIRTYPE, 0o755, MTIME
        tar.addfile(root)
        for e in entries:
            info = tarfile.TarInfo("./" + e.path)
            info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, MTIME
            info.uname = info.gname = ""
            data = None
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif e.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
            elif e.kind == "chr":
                info.type, (info.devmajor, info.devminor) = tarfile.CHRTYPE, e.dev
            else:
                info.size, data = len(e.data), io.BytesIO(e.data)
            info.pax_headers = {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape")
                                for k, v in e.xattrs.items()}
            tar.addfile(info, data)


def _debugfs(image, commands, workdir):
    script = os.path.join(workdir, "debugfs.cmds")
    with open(script, "w") as out:
        out.write("\n".join(commands) + "\n")
    done = subprocess.run(["debugfs", "-w", "-f", script, image], capture_output=True, text=True)
    if done.returncode != 0 or "debugfs: " in done.stderr.replace("debugfs 1.", ""):
        raise RuntimeError(f"debugfs on {image} failed: {done.stderr.strip()[:400]}")


def write_ext4(image, size, entries, workdir):
    """system.img.raw: ext4 of SIZE bytes holding the entries, owners and all."""
    stage = os.path.join(workdir, "ext4-stage")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    write_rootfs_dir(stage, [e for e in entries if e.kind in ("dir", "file", "symlink")])
    with open(image, "wb") as out:
        out.truncate(size)
    env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(MTIME))
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-E", "root_owner=0:0", "-U",
                    "6e6f6e65-0000-4000-8000-73656c66666c", "-d", stage, image],
                   check=True, env=env, capture_output=True)
    commands = []
    for e in entries:
        path = "/" + e.path
        if e.kind == "chr":  # debugfs mknod names an entry of the current directory
            parent, base = os.path.split(path)
            commands += [f"cd {parent}", f"mknod {base} c {e.dev[0]} {e.dev[1]}", "cd /"]
        if e.kind == "symlink":
            continue  # debugfs cannot set a symlink's owner; links stay root-owned, mode 777
        kind_bits = {"dir": 0o040000, "file": 0o100000, "chr": 0o020000}[e.kind]
        commands += [f"sif {path} mode 0{kind_bits | e.mode:o}", f"sif {path} uid {e.uid}",
                     f"sif {path} gid {e.gid}"]
        for name, value in e.xattrs.items():
            hexfile = os.path.join(workdir, f"xattr-{len(commands)}")
            with open(hexfile, "wb") as out:
                out.write(value)
            commands.append(f"ea_set -f {hexfile} {path} {name}")
    _debugfs(image, commands, workdir)


def write_sparse(raw, sparse):
    """bootloader/system.img: flash.sh converts system.img.raw with NVIDIA's mksparse; img2simg
    writes the same Android sparse format."""
    subprocess.run(["img2simg", raw, sparse], check=True, capture_output=True)
