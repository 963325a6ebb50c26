#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots the built kernel and selfflash initrd on the QEMU board (64 MiB QSPI on pflash unit 1,
# 1 GiB NVMe, virtio-serial port selfflash.link) and checks what the board reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

boot() { # LOG [run-rcm options...]
	local log=$1 rc
	shift
	set +e
	qemu/run-rcm.sh --kernel "$build/kernel/Image" --initrd "$build/selfflash.cpio.gz" \
		--workdir "$tmp/board" --timeout 120 "$@" >"$log.raw" 2>&1
	rc=$?
	tr -d '\r' <"$log.raw" >"$log" # the serial console ends lines with CR LF
	set -e
	sed 's/^/    board: /' "$log"
	return $rc
}

if boot "$tmp/console"; then ok qemu_exits_on_its_own; else not_ok qemu_exits_on_its_own "exit status $? (124: timed out)"; fi
expect_line flasher_prints_version "$tmp/console" '^selfflash-flasher [0-9]'
# the two 64 MiB pflash banks of the virt machine appear as one CFI device
expect_line inventory_mtd_size_and_erase_size "$tmp/console" '^inventory: mtd mtd0 name="[^"]*" type=nor size=134217728 erasesize=262144$'
expect_line inventory_nvme_1GiB "$tmp/console" '^inventory: block nvme0n1 size=1073741824$'
expect_line inventory_link_port_name "$tmp/console" '^inventory: port vport[0-9]+p[0-9]+ name=selfflash\.link$'
expect_line inventory_no_eeprom_without_fw_cfg "$tmp/console" '^inventory: eeprom absent$'
expect_line board_powers_off "$tmp/console" 'reboot: Power down'

head -c 256 /dev/urandom >"$tmp/eeprom.bin"
boot "$tmp/console2" --eeprom "$tmp/eeprom.bin" || true
expect_line inventory_eeprom_through_fw_cfg "$tmp/console2" '^inventory: eeprom present at /sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw$'
finish
