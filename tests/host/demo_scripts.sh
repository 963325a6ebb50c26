#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo's scripts without a board: every option is in the help text, wrong options and
# missing values are usage errors (status 2) that say what was wrong, and a missing input is
# named before anything runs. The boots themselves are in tests/e2e/demo_*.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# help_lists_options NAME SCRIPT OPTION...: --help exits 0 and names every option
help_lists_options() {
	local name=$1 script=$2 out missing=()
	shift 2
	if ! out=$(bash "$script" --help 2>&1); then
		not_ok "$name" "$script --help failed: $out"
		return
	fi
	for opt in "$@"; do grep -q -- "$opt" <<<"$out" || missing+=("$opt"); done
	if [ "${#missing[@]}" = 0 ]; then ok "$name"; else not_ok "$name" "not in --help: ${missing[*]}"; fi
}
help_lists_options run_normal_help qemu/run-normal.sh --qspi --disk --vars --eeprom --chip-sku \
	--link --net --command --log --timeout
help_lists_options rootfs_build_help rootfs/build.sh --kernel --firmware --systemd-boot \
	--flasher --pubkey --mkinitrd --ca --system-version --broken
help_lists_options demo_help scripts/demo.sh --build --out --keep --json --timeout --sequential
help_lists_options demo_update_help scripts/demo-update.sh --build --timeout --boot-tries --link-only
help_lists_options demo_ca_help scripts/demo-ca.sh --issue

truncate -s 64M "$tmp/qspi.img"
truncate -s 1M "$tmp/disk.img"
expect_exit run_normal_unknown_option 2 "unknown option '--bogus'" qemu/run-normal.sh --bogus
expect_exit run_normal_option_needs_value 2 '--command needs a value' \
	qemu/run-normal.sh --qspi "$tmp/qspi.img" --disk "$tmp/disk.img" --command
expect_exit run_normal_needs_disk 2 '--disk is required' qemu/run-normal.sh --qspi "$tmp/qspi.img"
expect_exit run_normal_link_must_be_listening 1 'no socket there; start hostload serve' \
	qemu/run-normal.sh --qspi "$tmp/qspi.img" --disk "$tmp/disk.img" --link "$tmp/none.sock"
expect_exit run_normal_missing_eeprom 1 'nope.eeprom: no such file' \
	qemu/run-normal.sh --qspi "$tmp/qspi.img" --disk "$tmp/disk.img" --eeprom "$tmp/nope.eeprom"
expect_exit run_normal_bad_timeout 2 "--timeout 'soon'" \
	qemu/run-normal.sh --qspi "$tmp/qspi.img" --disk "$tmp/disk.img" --timeout soon

expect_exit rootfs_bad_system_version 2 "--system-version '-1': expected a decimal number" \
	rootfs/build.sh --system-version -1 "$tmp/out"
expect_exit rootfs_option_needs_value 2 '--flasher needs a value' rootfs/build.sh "$tmp/out" --flasher
expect_exit rootfs_missing_flasher 1 'nope: no such file \(run: make all\)' \
	rootfs/build.sh --flasher "$tmp/nope" "$tmp/out"

expect_exit rootfs_missing_ca 1 "--ca $tmp/nope.pem: no such file" \
	rootfs/build.sh --ca "$tmp/nope.pem" "$tmp/out"
expect_exit demo_update_unknown_option 2 "unknown option '--bogus'" scripts/demo-update.sh --bogus
expect_exit demo_update_bad_tries 2 "--boot-tries '0': expected a positive whole number" \
	scripts/demo-update.sh --boot-tries 0
mkdir "$tmp/emptybuild"
expect_exit demo_update_needs_a_build 1 "is missing: run 'make all rootfs' first" \
	scripts/demo-update.sh --build "$tmp/emptybuild"
finish
