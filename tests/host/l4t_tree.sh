#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The L4T tree generator (tests/l4t/make_tree.py) checked with real tools, per release: the raw
# rootfs passes e2fsck and keeps owners, setuid, xattrs and device nodes (debugfs); the sparse
# image converts back to the raw one (simg2img); the tar lists numeric owners, the setuid bit,
# the device node and the xattrs; mkflashpkg parses both flash.idx files; the R35.3.1 offsets
# are the ones NVIDIA's tegraparser_v2 printed for the same layouts; the RCM bundle is where
# the release puts it. Without ../shared/fixtures: skipped, visibly.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
mk=$(pwd)/$build/bin/mkflashpkg
gen=$(pwd)/tests/l4t/make_tree.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

set +e
python3 "$gen" --release r35.3.1 --out "$tmp/probe" 2>"$tmp/probe.err"
rc=$?
set -e
if [ "$rc" -eq 77 ]; then
	skip l4t_tree "$(cat "$tmp/probe.err")"
	exit 0
fi
[ "$rc" -eq 0 ] || { not_ok l4t_tree_generates "$(cat "$tmp/probe.err")"; finish; exit 1; }

# key offsets NVIDIA's tegraparser_v2 (R35.3.1) printed for flash_t234_qspi.xml and
# flash_l4t_t234_nvme.xml (tests/l4t/README.md): name start size attribute
nvidia_r35_qspi="A_mb1 1048576 524288 fixed-<reserved>-2
B_mb1 33292288 524288 fixed-<reserved>-26
worm 66519040 196608 fixed-<reserved>-52
A_VER 66977792 65536 fixed-<reserved>-57
secondary_gpt 67091968 16896 fixed-<reserved>-0"
nvidia_r35_nvme="A_kernel 20480 67108864 fixed-<reserved>-2
esp 307515392 67108864 fixed-<reserved>-10
APP 1469349888 33554432 fixed-<reserved>-1
secondary_gpt 62545444352 16896 fixed-<reserved>-0"
fields() { awk -F', ' '{split($2, a, ":"); print a[3], $3, $4, $7}' "$1"; }

check_release() { # RELEASE [generator options]
	local r=$1 t="$tmp/$1" img ext int
	shift
	python3 "$gen" --release "$r" --out "$t" "$@" >/dev/null
	int=$t/tools/kernel_flash/images/internal
	ext=$t/tools/kernel_flash/images/external
	img=$t/bootloader/system.img.raw

	if e2fsck -fn "$img" >"$tmp/$r.fsck" 2>&1; then ok "${r}_raw_rootfs_e2fsck_clean"
	else not_ok "${r}_raw_rootfs_e2fsck_clean" "$(tail -n 3 "$tmp/$r.fsck")"; fi
	debugfs -R "stat /usr/bin/passwd" "$img" 2>/dev/null | grep -q "Mode:  04755" &&
		debugfs -R "stat /home/nvidia/notes.txt" "$img" 2>/dev/null | grep -q "User:  1000   Group:  1000" &&
		debugfs -R "stat /dev/console" "$img" 2>/dev/null | grep -q "Device major/minor number: 05:01" &&
		debugfs -R "ea_get /usr/bin/ping security.capability" "$img" 2>/dev/null | grep -q "01 00 00 02 00 20" &&
		ok "${r}_raw_rootfs_keeps_owners_setuid_node_xattr" ||
		not_ok "${r}_raw_rootfs_keeps_owners_setuid_node_xattr" "debugfs does not show them in $img"

	simg2img "$t/bootloader/system.img" "$tmp/$r.unsparse"
	if cmp -s "$tmp/$r.unsparse" "$img"; then ok "${r}_sparse_round_trip"
	else not_ok "${r}_sparse_round_trip" "simg2img bootloader/system.img differs from system.img.raw"; fi
	rm -f "$tmp/$r.unsparse"

	tar --numeric-owner -tvf "$ext/system.img" >"$tmp/$r.list"
	if grep -Eq '^-rwsr-xr-x 0/0 .* \./usr/bin/passwd$' "$tmp/$r.list" &&
		grep -Eq '^-rw-r----- 1000/1000 .* \./home/nvidia/notes\.txt$' "$tmp/$r.list" &&
		grep -Eq '^crw------- 0/0 +5,1 .* \./dev/console$' "$tmp/$r.list" &&
		grep -Eq '^lrwxrwxrwx 0/0 .* \./lib -> usr/lib$' "$tmp/$r.list"; then
		ok "${r}_tar_lists_owners_setuid_node_link"
	else
		not_ok "${r}_tar_lists_owners_setuid_node_link" "$(head -n 5 "$tmp/$r.list")"
	fi
	mkdir "$tmp/$r.x"
	if tar --xattrs --xattrs-include='*' -xpf "$ext/system.img" -C "$tmp/$r.x" ./home/nvidia/notes.txt 2>/dev/null &&
		[ "$(getfattr --only-values -n user.selfflash "$tmp/$r.x/home/nvidia/notes.txt" 2>/dev/null)" = kept ]; then
		ok "${r}_tar_xattr_extracts"
	else
		not_ok "${r}_tar_xattr_extracts" "GNU tar --xattrs did not restore user.selfflash"
	fi
	[ "$(cut -d' ' -f1 "$ext/system.img.sha1sum")" = "$(sha1sum "$ext/system.img" | cut -d' ' -f1)" ] &&
		ok "${r}_sha1sum_file_matches" || not_ok "${r}_sha1sum_file_matches" "$ext/system.img.sha1sum"

	if "$mk" layout --flash-idx "$int/flash.idx" >"$tmp/$r.int" 2>&1 &&
		"$mk" layout --flash-idx "$ext/flash.idx" >"$tmp/$r.ext" 2>&1 &&
		grep -q '^spi:0 .*secondary_gpt' "$tmp/$r.int" && grep -q '^external:0 .* APP ' "$tmp/$r.ext"; then
		ok "${r}_mkflashpkg_parses_both_indexes"
	else
		not_ok "${r}_mkflashpkg_parses_both_indexes" "$(tail -n 2 "$tmp/$r.int" "$tmp/$r.ext")"
	fi
	# every file an index names is in its images directory with that size and SHA-1
	local bad=0 dir name size sha
	for dir in "$int" "$ext"; do
		while IFS=',' read -r _ _ _ _ name size _ sha; do
			name=${name# } size=${size# } sha=${sha# }
			[ -n "$name" ] || continue
			[ -f "$dir/$name" ] && [ "$(stat -c %s "$dir/$name")" = "$size" ] &&
				[ "$(sha1sum "$dir/$name" | cut -d' ' -f1)" = "$sha" ] || bad=$((bad + 1))
		done <"$dir/flash.idx"
	done
	[ "$bad" -eq 0 ] && ok "${r}_index_files_present_and_hashed" ||
		not_ok "${r}_index_files_present_and_hashed" "$bad entries do not match their files"
}

check_release r35.3.1
fields "$tmp/r35.3.1/tools/kernel_flash/images/internal/flash.idx" >"$tmp/q.txt"
fields "$tmp/r35.3.1/tools/kernel_flash/images/external/flash.idx" >"$tmp/n.txt"
if grep -qxFf <(echo "$nvidia_r35_qspi") "$tmp/q.txt" && [ "$(grep -cxFf <(echo "$nvidia_r35_qspi") "$tmp/q.txt")" -eq 5 ] &&
	[ "$(grep -cxFf <(echo "$nvidia_r35_nvme") "$tmp/n.txt")" -eq 4 ]; then
	ok r35.3.1_offsets_are_nvidias
else
	not_ok r35.3.1_offsets_are_nvidias "$(diff <(echo "$nvidia_r35_qspi") <(grep -F -f <(echo "$nvidia_r35_qspi" | cut -d' ' -f1 | sed 's/^/^/') "$tmp/q.txt") | head)"
fi
[ ! -e "$tmp/r35.3.1/bootloader/rcmboot_blob" ] && [ ! -e "$tmp/r35.3.1/bootloader/rcm_blob" ] &&
	ok r35.3.1_makes_no_rcm_bundle || not_ok r35.3.1_makes_no_rcm_bundle "a bundle was written"

check_release r36.3
[ -f "$tmp/r36.3/bootloader/rcm_blob/rcmcmd.txt" ] && ok r36.3_rcm_bundle_in_rcm_blob ||
	not_ok r36.3_rcm_bundle_in_rcm_blob "no bootloader/rcm_blob/rcmcmd.txt"
check_release r36.4 --ab
if [ -f "$tmp/r36.4/bootloader/rcmboot_blob/rcmbootcmd.txt" ] &&
	grep -q -- '--download blob blob.bin' "$tmp/r36.4/bootloader/rcmboot_blob/rcmbootcmd.txt" &&
	[ "$(head -c 4 "$tmp/r36.4/bootloader/rcmboot_blob/blob.bin")" = blob ]; then
	ok r36.4_rcm_bundle_in_rcmboot_blob
else
	not_ok r36.4_rcm_bundle_in_rcmboot_blob "no usable bootloader/rcmboot_blob"
fi
grep -q '^APP_b_ext=system.img_b$' "$tmp/r36.4/tools/kernel_flash/images/external/flash.cfg" &&
	grep -q ', 9:0:APP_b, .*fixed-<reserved>-2, $' "$tmp/r36.4/tools/kernel_flash/images/external/flash.idx" &&
	ok r36.4_ab_has_app_b || not_ok r36.4_ab_has_app_b "no APP_b in flash.cfg or flash.idx"
grep -q 'updates/drivers/spi/spi-tegra210-quad.ko' "$tmp/r36.4/rootfs/lib/modules/5.15.148-tegra/modules.dep" &&
	ok r36.4_oot_modules_under_updates || not_ok r36.4_oot_modules_under_updates "modules.dep"

python3 "$gen" --release r35.3.1 --sparse-rootfs --out "$tmp/sparse" \
	--omit rootfs/lib/modules/5.10.104-tegra/kernel/drivers/mtd/devices/qspi_mtd.ko >/dev/null
if [ "$(xxd -p -l 4 "$tmp/sparse/tools/kernel_flash/images/external/system.img")" = 3aff26ed ] &&
	[ ! -e "$tmp/sparse/rootfs/usr/lib/modules/5.10.104-tegra/kernel/drivers/mtd/devices/qspi_mtd.ko" ] &&
	grep -q qspi_mtd.ko "$tmp/sparse/rootfs/usr/lib/modules/5.10.104-tegra/modules.dep"; then
	ok sparse_rootfs_and_omit
else
	not_ok sparse_rootfs_and_omit "images/external/system.img not sparse, or the omitted module is there"
fi
finish
