#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real bootctl (Debian's systemd 252, package systemd-boot) reads the ESP the systemd-boot
# slot backend writes: after an update to slot B it lists B first (the default) on trial with
# 3 tries, and A confirmed; after mark-good, B without a counter. bootctl insists on the root
# of a file system, so the ESP is a tmpfs in a private mount namespace (nothing leaks out).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
bin=$build/tests/test_slot_sdboot
if ! command -v bootctl >/dev/null; then
	skip slot_sdboot_bootctl "bootctl is not installed (Debian package systemd-boot)"
	exit 0
fi
if [ ! -x "$bin" ]; then
	not_ok slot_sdboot_bootctl_built "$bin is missing (make $bin)"
	finish
	exit
fi
if ! unshare -m true 2>/dev/null; then
	skip slot_sdboot_bootctl "no private mount namespace here (unshare -m), and bootctl needs the ESP at a file system's root"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/esp"

# list_after MODE: bootctl list of the ESP the backend leaves in MODE
list_after() {
	unshare -m bash -c 'set -e; mount -t tmpfs tmpfs "$1/esp"; "$2" "$3" "$1/esp";
		SYSTEMD_RELAX_ESP_CHECKS=1 bootctl --no-pager --esp-path="$1/esp" list' \
		_ "$work" "$bin" "$1"
}

if list_after --esp-update >"$work/update.txt" 2>"$work/update.err"; then
	ok slot_sdboot_bootctl_lists_update
else
	not_ok slot_sdboot_bootctl_lists_update "$(cat "$work/update.err")"
fi
# bootctl prints the entries in systemd-boot's order, the default marked
expect_line slot_sdboot_bootctl_new_slot_is_default "$work/update.txt" \
	'title: selfflash slot B, system version 8 \(default\)'
expect_line slot_sdboot_bootctl_new_slot_on_trial "$work/update.txt" 'tries: 3 left$'
expect_line slot_sdboot_bootctl_entry_file "$work/update.txt" \
	'source: .*/loader/entries/selfflash-slot-b\+3\.conf'
expect_line slot_sdboot_bootctl_old_slot_listed "$work/update.txt" \
	'title: selfflash slot A, system version 7'
expect_line slot_sdboot_bootctl_options "$work/update.txt" \
	'options: root=PARTLABEL=APP_b console=ttyAMA0 quiet'
first=$(grep -m1 'title:' "$work/update.txt" || true)
case "$first" in
*"slot B"*) ok slot_sdboot_bootctl_new_slot_first ;;
*) not_ok slot_sdboot_bootctl_new_slot_first "first entry: $first" ;;
esac
if [ "$(grep -c 'tries:' "$work/update.txt")" = 1 ]; then
	ok slot_sdboot_bootctl_old_slot_confirmed
else
	not_ok slot_sdboot_bootctl_old_slot_confirmed "$(cat "$work/update.txt")"
fi

if list_after --esp-mark-good >"$work/good.txt" 2>"$work/good.err"; then
	ok slot_sdboot_bootctl_lists_confirmed
else
	not_ok slot_sdboot_bootctl_lists_confirmed "$(cat "$work/good.err")"
fi
expect_line slot_sdboot_bootctl_confirmed_default "$work/good.txt" \
	'title: selfflash slot B, system version 8 \(default\)'
if grep -q 'tries:' "$work/good.txt"; then
	not_ok slot_sdboot_bootctl_no_counter_after_mark_good "$(cat "$work/good.txt")"
else
	ok slot_sdboot_bootctl_no_counter_after_mark_good
fi
finish
