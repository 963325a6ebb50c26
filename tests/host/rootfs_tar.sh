#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NVIDIA's rootfs tar to an ext4 image (mkflashpkg rootfs-from-tar, mkflashpkg/rootfs_tar.c):
# a tree with every kind of entry, owners, special mode bits and xattrs, packed with NVIDIA's
# own tar command line, converted as root and as an unprivileged user (fakeroot), and the
# image read back with e2fsck and debugfs only; then inputs that must be refused, each with
# its message, leaving no image and no work directory behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
mk=$(pwd)/$build/bin/mkflashpkg
check=$(pwd)/tests/host/rootfs_tar_check.py
for tool in bsdtar:libarchive-tools mke2fs:e2fsprogs debugfs:e2fsprogs fakeroot:fakeroot \
	setfattr:attr setcap:libcap2-bin setpriv:util-linux; do
	if ! command -v "${tool%%:*}" >/dev/null && ! [ -x "/usr/sbin/${tool%%:*}" ]; then
		skip rootfs_tar "${tool%%:*} is not installed (Debian package ${tool#*:})"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ]; then
	skip rootfs_tar "needs root: the source tree has other owners, device nodes and capabilities"
	exit 0
fi
export PATH=$PATH:/usr/sbin:/sbin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cd "$tmp"

# ---- the source tree: what a Jetson rootfs holds, and the odd cases ------------------
mkdir src
(
	cd src
	mkdir -p etc usr/bin usr/lib dev run tmp var/empty var/locked "home/user/My Documents" \
		lost+found
	echo 'root:x:0:0:root:/root:/bin/sh' >etc/passwd
	echo 'root:*:19000:0:99999:7:::' >etc/shadow
	chown 0:42 etc/shadow && chmod 0640 etc/shadow
	echo su >usr/bin/su && chmod 4755 usr/bin/su
	echo wall >usr/bin/wall && chown 0:5 usr/bin/wall && chmod 2755 usr/bin/wall
	chmod 1777 tmp
	chmod 0700 lost+found
	echo ping >usr/bin/ping && chmod 0755 usr/bin/ping
	setcap cap_net_raw+ep usr/bin/ping
	setfattr -n user.comment -v 'sends ICMP' usr/bin/ping
	echo data >usr/lib/tagged && setfattr -n user.origin -v nvidia usr/lib/tagged
	setfattr -n user.dir -v yes usr/lib
	echo hl >usr/bin/linked && ln usr/bin/linked usr/bin/linked-too && ln usr/bin/linked usr/lib/linked-3
	setfattr -n user.linked -v 3 usr/bin/linked
	ln -s usr/bin bin
	ln -s /usr/share/zoneinfo/Etc/UTC etc/localtime
	ln -s "../../../$(printf 'long-target-%.0s' $(seq 1 8))" usr/lib/slow-symlink
	mknod dev/null c 1 3 && chmod 0666 dev/null
	mknod dev/nvme0n1 b 259 0 && chown 0:6 dev/nvme0n1 && chmod 0660 dev/nvme0n1
	mknod dev/big-minor c 511 1048575
	mkfifo run/initctl && chmod 0600 run/initctl
	echo 'spaces' >"home/user/My Documents/a file with spaces.txt"
	chown -R 1000:1000 home/user
	echo 'user 100000' >home/user/high-ids && chown 100000:200000 home/user/high-ids
	echo 'nobody' >home/user/nobody-owned && chown 65534:65534 home/user/nobody-owned
	: >home/user/mode-0000 && chmod 0000 home/user/mode-0000
	chmod 0555 var/locked
	chmod 0711 var/empty
	long="usr/lib/$(printf 'a-directory-with-a-rather-long-name-%.0s' 1 2 3)"
	mkdir -p "$long" && echo deep >"$long/$(printf 'file-name-past-the-ustar-limit-%.0s' 1 2 3 4)"
	# large and sparse-ish: 40 MiB with three 1 MiB runs of data, the rest holes
	truncate -s 40M usr/lib/sparse.bin
	for at in 1 17 39; do
		head -c 1M /dev/urandom | dd of=usr/lib/sparse.bin bs=1M seek=$at conv=notrunc status=none
	done
	head -c 8M /dev/urandom >usr/lib/random.bin
	for i in $(seq 1 300); do echo "small file $i" >"usr/lib/small-$i"; done
	find . -exec touch -h -d '2023-03-19 08:14:03' {} +
	touch -h -d '2022-01-02 03:04:05' usr/bin/su etc/localtime
)
# NVIDIA's command line (tools/kernel_flash/l4t_create_images_for_kernel_flash.sh, R35.3.1)
tar --xattrs -cpf system.img --checkpoint=10000 --warning=no-timestamp --numeric-owner -C src .
chmod 0644 system.img
size=$((96 << 20))

# ---- as root ---------------------------------------------------------------------------
mkdir work
start=$(date +%s.%N)
if TMPDIR=$tmp/work "$mk" rootfs-from-tar system.img "$size" root.img >root.log 2>&1; then
	ok converts_as_root
else
	not_ok converts_as_root "$(cat root.log)"
fi
echo "# as root: $(echo "$(date +%s.%N) - $start" | bc) s" >&2
[ "$(stat -c %s root.img)" = "$size" ] && ok image_is_exactly_the_partition_size ||
	not_ok image_is_exactly_the_partition_size "$(stat -c %s root.img) bytes, expected $size"
allocated=$(($(stat -c %b root.img) * 512))
if [ "$allocated" -lt $((24 << 20)) ]; then
	ok image_is_sparse
else
	not_ok image_is_sparse "$allocated bytes allocated of $size (the data is about 12 MiB)"
fi
if e2fsck -fn root.img >fsck.log 2>&1; then ok e2fsck_passes_as_root; else not_ok e2fsck_passes_as_root "$(tail -5 fsck.log)"; fi
features=$(dumpe2fs -h root.img 2>/dev/null | sed -n 's/^Filesystem features: *//p')
want='has_journal ext_attr resize_inode dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum'
[ "$features" = "$want" ] && ok features_of_the_boards_mkfs ||
	not_ok features_of_the_boards_mkfs "features: $features"
python3 "$check" src system.img root.img root || true
[ -z "$(ls work)" ] && ok work_directory_removed || not_ok work_directory_removed "$(ls work)"

# ---- as nobody, under fakeroot -------------------------------------------------------
mkdir -p user/bin user/work
cp "$mk" user/bin/
chown -R nobody:nogroup user
runas=(setpriv --reuid=nobody --regid=nogroup --clear-groups env TMPDIR=$tmp/user/work)
start=$(date +%s.%N)
if "${runas[@]}" user/bin/mkflashpkg rootfs-from-tar system.img "$size" user/fakeroot.img \
	>fakeroot.log 2>&1; then
	ok converts_as_nobody_under_fakeroot
else
	not_ok converts_as_nobody_under_fakeroot "$(cat fakeroot.log)"
fi
echo "# under fakeroot: $(echo "$(date +%s.%N) - $start" | bc) s" >&2
expect_line fakeroot_was_used fakeroot.log 'extracted under fakeroot'
if e2fsck -fn user/fakeroot.img >fsck.log 2>&1; then ok e2fsck_passes_fakeroot; else not_ok e2fsck_passes_fakeroot "$(tail -5 fsck.log)"; fi
python3 "$check" src system.img user/fakeroot.img fakeroot || true
[ -z "$(ls user/work)" ] && ok fakeroot_work_directory_removed || not_ok fakeroot_work_directory_removed "$(ls user/work)"

# --fakeroot: root that cannot chown or mknod (a container's) takes the same way
if TMPDIR=$tmp/work "$mk" rootfs-from-tar --fakeroot system.img "$size" forced.img >forced.log 2>&1 &&
	grep -q 'extracted under fakeroot' forced.log && e2fsck -fn forced.img >/dev/null 2>&1; then
	ok forced_fakeroot_as_root
else
	not_ok forced_fakeroot_as_root "$(cat forced.log)"
fi
python3 "$check" src system.img forced.img forced_fakeroot || true

# ---- a UUID derived from the tar ---------------------------------------------------------
uuid_of() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Filesystem UUID: *//p'; }
seed_of() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Directory Hash Seed: *//p'; }
"$mk" rootfs-from-tar -q --uuid-seed APP system.img "$size" a1.img
"$mk" rootfs-from-tar -q --uuid-seed APP system.img "$size" a2.img
"${runas[@]}" user/bin/mkflashpkg rootfs-from-tar -q --uuid-seed APP system.img "$size" user/a3.img
"$mk" rootfs-from-tar -q --uuid-seed APP_b system.img "$size" b1.img
if [ "$(uuid_of a1.img)" = "$(uuid_of a2.img)" ] && [ "$(uuid_of a1.img)" = "$(uuid_of user/a3.img)" ] &&
	[ "$(seed_of a1.img)" = "$(seed_of a2.img)" ] && [ -n "$(uuid_of a1.img)" ]; then
	ok one_tar_one_seed_one_uuid
else
	not_ok one_tar_one_seed_one_uuid "$(uuid_of a1.img) $(uuid_of a2.img) $(uuid_of user/a3.img)"
fi
[ "$(uuid_of a1.img)" != "$(uuid_of b1.img)" ] && ok another_seed_another_uuid ||
	not_ok another_seed_another_uuid "APP and APP_b both $(uuid_of a1.img)"
[ "$(uuid_of root.img)" != "$(uuid_of a1.img)" ] && ok random_uuid_without_seed ||
	not_ok random_uuid_without_seed
echo "# two runs with one seed differ in $(cmp -l a1.img a2.img | wc -l) bytes" \
	"(inode change times and checksums), root vs fakeroot in $(cmp -l a1.img user/a3.img | wc -l)" >&2

# ---- refused -----------------------------------------------------------------------------
no_leftovers() { # NAME: no image, no work directory
	if [ -e out.img ] || [ -n "$(ls work)" ]; then
		not_ok "$1_leaves_nothing" "$(ls out.img work 2>&1)"
	else
		ok "$1_leaves_nothing"
	fi
}
conv() { TMPDIR=$tmp/work "$mk" rootfs-from-tar -q "$@"; }
head -c 1M /dev/urandom >random.bin
expect_fail refuses_not_a_tar 'random.bin is not a tar \(no valid ustar header at byte 0 with "ustar" at 257\); nor any' conv random.bin "$size" out.img
no_leftovers not_a_tar
printf '\x3a\xff\x26\xed' | cat - random.bin >fake.simg
expect_fail refuses_sparse_image 'fake.simg is not a tar .*; it is an Android sparse image: give it as the partition' \
	conv fake.simg "$size" out.img
expect_fail refuses_raw_ext4 'root.img is not a tar .*; it is a raw ext4 image' conv root.img "$size" out.img
gzip -c system.img >system.img.gz
expect_fail refuses_compressed_tar 'is not a tar .*; it is compressed \(gzip, bzip2, xz or zstd\): decompress it first' \
	conv system.img.gz "$size" out.img
expect_fail refuses_too_small_a_size 'making a 8388608-byte ext4 file system of its [0-9]+ bytes of files in [0-9]+ entries: mke2fs failed .*Could not allocate' \
	conv system.img $((8 << 20)) out.img
no_leftovers too_small
expect_fail refuses_size_below_minimum 'a file system of 4194304 bytes: expected 8388608' \
	conv system.img $((4 << 20)) out.img
expect_fail refuses_missing_tar 'nothing.tar: No such file or directory' conv nothing.tar "$size" out.img
cp system.img private.img && chmod 0600 private.img
expect_fail refuses_unreadable_tar 'private.img: Permission denied' \
	"${runas[@]}" user/bin/mkflashpkg rootfs-from-tar -q private.img "$size" user/out.img
python3 - <<'PY'
import io, tarfile
with tarfile.open("escape.tar", "w", format=tarfile.PAX_FORMAT) as t:
    for name in ("./ok", "../escape"):
        info = tarfile.TarInfo(name)
        info.size = 2
        t.addfile(info, io.BytesIO(b"x\n"))
with tarfile.open("linkescape.tar", "w", format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo("./passwd")
    info.type, info.linkname = tarfile.LNKTYPE, "../../../etc/passwd"
    t.addfile(info)
PY
expect_fail refuses_dotdot_names "bsdtar failed \(exit status 1\).*Path contains '\.\.'" \
	conv escape.tar "$size" out.img
no_leftovers dotdot
[ ! -e "$tmp/work/escape" ] && [ ! -e "$tmp/escape" ] && ok nothing_written_outside ||
	not_ok nothing_written_outside
expect_fail refuses_hard_link_out_of_the_tree 'bsdtar failed' conv linkescape.tar "$size" out.img
head -c 300000 system.img >truncated.tar
expect_fail refuses_truncated_tar 'bsdtar failed \(exit status 1\).*runcated' conv truncated.tar "$size" out.img
no_leftovers truncated
if conv -- system.img "$size" -dash.img && e2fsck -fn ./-dash.img >/dev/null 2>&1; then
	ok an_image_named_like_an_option
else
	not_ok an_image_named_like_an_option
fi
rm -f ./-dash.img
expect_fail refuses_unwritable_output 'no-such-dir/out.img: No such file or directory' \
	conv system.img "$size" no-such-dir/out.img
finish
