#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkinitrd: deterministic output, a valid gzip'd newc archive with the expected entries,
# clear errors on bad input, nothing left behind on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
mk=$build/bin/mkinitrd
init=$build/board/init
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo '{"mode":"test"}' >"$tmp/config.json"
SOURCE_DATE_EPOCH=1700000000 "$mk" -o "$tmp/a.gz" --init "$init" --file etc/selfflash.json="$tmp/config.json" --dir lib
touch "$tmp/config.json" # a newer timestamp on an input must not change the output
SOURCE_DATE_EPOCH=1700000000 "$mk" -o "$tmp/b.gz" --init "$init" --file etc/selfflash.json="$tmp/config.json" --dir lib
if cmp -s "$tmp/a.gz" "$tmp/b.gz"; then ok initrd_is_deterministic; else not_ok initrd_is_deterministic; fi

if gzip -t "$tmp/a.gz" 2>/dev/null; then ok initrd_is_valid_gzip; else not_ok initrd_is_valid_gzip; fi

listing=$(gzip -dc "$tmp/a.gz" | cpio -it --quiet 2>&1 | tr '\n' ' ')
if [ "$listing" = "dev dev/console proc sys init etc/selfflash.json lib " ]; then
	ok initrd_lists_expected_entries
else
	not_ok initrd_lists_expected_entries "cpio -t: $listing"
fi

mkdir "$tmp/x"
(cd "$tmp/x" && gzip -dc "$tmp/a.gz" | cpio -id --quiet --no-absolute-filenames 2>/dev/null) || true
if cmp -s "$tmp/x/init" "$init" && cmp -s "$tmp/x/etc/selfflash.json" "$tmp/config.json" &&
	[ "$(stat -c %a "$tmp/x/init")" = 755 ]; then
	ok initrd_contents_round_trip
else
	not_ok initrd_contents_round_trip
fi
verbose=$(gzip -dc "$tmp/a.gz" | cpio -itv --quiet 2>/dev/null | grep 'dev/console' || true)
case "$verbose" in
crw-------*" 5,"*"1 "*) ok initrd_has_console_node ;;
*) not_ok initrd_has_console_node "cpio -tv: $verbose" ;;
esac

SOURCE_DATE_EPOCH=0 "$mk" -o "$tmp/flasher.gz" --init "$init"
size=$(stat -c %s "$tmp/flasher.gz")
if [ "$size" -lt $((1024 * 1024)) ]; then ok "flasher_initrd_under_1MiB ($size bytes)"; else not_ok flasher_initrd_under_1MiB "$size bytes"; fi

expect_fail mkinitrd_needs_output 'no output file' "$mk" --init "$init"
expect_fail mkinitrd_missing_input 'nope: No such file' "$mk" -o "$tmp/c.gz" --init "$tmp/nope"
if [ ! -e "$tmp/c.gz" ] && [ ! -e "$tmp/c.gz.tmp" ]; then ok mkinitrd_leaves_nothing_on_failure; else not_ok mkinitrd_leaves_nothing_on_failure; fi
expect_fail mkinitrd_bad_epoch "SOURCE_DATE_EPOCH 'yesterday'" env SOURCE_DATE_EPOCH=yesterday "$mk" -o "$tmp/d.gz"
expect_fail mkinitrd_bad_file_spec 'expected DEST=SRC' "$mk" -o "$tmp/d.gz" --file justaname
expect_fail mkinitrd_bad_mode "mode '99z' is not an octal mode" "$mk" -o "$tmp/d.gz" --file "a=$tmp/config.json:99z"
expect_fail mkinitrd_directory_as_file 'not a regular file' "$mk" -o "$tmp/d.gz" --file "a=$tmp"
# --bootimg: an Android boot image v0 of the kernel and the initrd just written (mkbootimg's
# layout: 2048-byte header page, kernel and ramdisk each padded to a page, cmdline at 64)
head -c 5000 /dev/urandom >"$tmp/Image"
SOURCE_DATE_EPOCH=0 "$mk" -o "$tmp/boot.gz" --init "$init" --bootimg "$tmp/boot.img" \
	--kernel "$tmp/Image" --cmdline 'console=ttyTCU0 selfflash'
isize=$(stat -c %s "$tmp/boot.gz")
pad() { echo $((($1 + 2047) / 2048 * 2048)); }
if [ "$(head -c 8 "$tmp/boot.img")" = 'ANDROID!' ] &&
	[ "$(stat -c %s "$tmp/boot.img")" = $((2048 + $(pad 5000) + $(pad "$isize"))) ] &&
	[ "$(od -An -tu4 -j8 -N4 "$tmp/boot.img" | tr -d ' ')" = 5000 ] &&
	[ "$(od -An -tu4 -j16 -N4 "$tmp/boot.img" | tr -d ' ')" = "$isize" ] &&
	[ "$(od -An -tu4 -j36 -N4 "$tmp/boot.img" | tr -d ' ')" = 2048 ] &&
	[ "$(dd if="$tmp/boot.img" bs=1 skip=64 count=25 status=none)" = 'console=ttyTCU0 selfflash' ] &&
	cmp -s <(dd if="$tmp/boot.img" bs=2048 skip=1 status=none | head -c 5000) "$tmp/Image" &&
	cmp -s <(dd if="$tmp/boot.img" bs=2048 skip=$((1 + $(pad 5000) / 2048)) status=none | head -c "$isize") "$tmp/boot.gz"; then
	ok mkinitrd_bootimg_layout
else
	not_ok mkinitrd_bootimg_layout
fi
expect_fail mkinitrd_bootimg_needs_kernel 'go together' "$mk" -o "$tmp/e.gz" --bootimg "$tmp/e.img"
# --no-ramdisk: only the boot image, ramdisk size 0, kernel and cmdline as above (the demo
# system's A_kernel/B_kernel: the kernel mounts root=PARTLABEL=... itself)
"$mk" --no-ramdisk --bootimg "$tmp/bare.img" --kernel "$tmp/Image" --cmdline 'ro panic=-1'
if [ "$(head -c 8 "$tmp/bare.img")" = 'ANDROID!' ] &&
	[ "$(stat -c %s "$tmp/bare.img")" = $((2048 + $(pad 5000))) ] &&
	[ "$(od -An -tu4 -j16 -N4 "$tmp/bare.img" | tr -d ' ')" = 0 ] &&
	[ "$(dd if="$tmp/bare.img" bs=1 skip=64 count=11 status=none)" = 'ro panic=-1' ] &&
	cmp -s <(dd if="$tmp/bare.img" bs=2048 skip=1 status=none | head -c 5000) "$tmp/Image"; then
	ok mkinitrd_bootimg_without_ramdisk
else
	not_ok mkinitrd_bootimg_without_ramdisk
fi
expect_fail mkinitrd_no_ramdisk_takes_no_entries 'writes only a boot image' "$mk" --no-ramdisk \
	--bootimg "$tmp/f.img" --kernel "$tmp/Image" --init "$init"
expect_fail mkinitrd_no_ramdisk_needs_bootimg 'writes only a boot image' "$mk" --no-ramdisk
finish
