#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The board's flasher is a static aarch64 ELF that runs under qemu-aarch64-static and reads
# the inventory from whatever sysfs tree it is given.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
init=$build/board/init
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

desc=$(file -b "$init")
case "$desc" in
*"ARM aarch64"*"statically linked"*) ok flasher_is_static_aarch64_elf ;;
*) not_ok flasher_is_static_aarch64_elf "file says: $desc" ;;
esac

if out=$(qemu-aarch64-static "$init" --version) &&
	grep -Eq '^selfflash-flasher [0-9.]+ \(zlib [0-9.]+, zstd [0-9.]+, libblkid [0-9.]+\)$' <<<"$out"; then
	ok flasher_runs_under_qemu_user
else
	not_ok flasher_runs_under_qemu_user "output: ${out:-}"
fi

mkdir -p "$tmp/sys/class/mtd/mtd0" "$tmp/sys/class/block/nvme0n1" "$tmp/sys/class/virtio-ports/vport0p1"
echo 67108864 >"$tmp/sys/class/mtd/mtd0/size"
echo 65536 >"$tmp/sys/class/mtd/mtd0/erasesize"
echo nor >"$tmp/sys/class/mtd/mtd0/type"
echo qspi >"$tmp/sys/class/mtd/mtd0/name"
echo 2048 >"$tmp/sys/class/block/nvme0n1/size"
echo selfflash.link >"$tmp/sys/class/virtio-ports/vport0p1/name"
qemu-aarch64-static "$init" --root "$tmp" >"$tmp/out" 2>&1 || true
expect_line inventory_reads_given_root_mtd "$tmp/out" '^inventory: mtd mtd0 name="qspi" type=nor size=67108864 erasesize=65536$'
expect_line inventory_reads_given_root_block "$tmp/out" '^inventory: block nvme0n1 size=1048576$'
expect_line inventory_reads_given_root_port "$tmp/out" '^inventory: port vport0p1 name=selfflash.link$'

expect_fail flasher_rejects_unknown_option 'unrecognized option|usage' qemu-aarch64-static "$init" --bogus
expect_fail flasher_rejects_stray_argument "unexpected argument 'stray'" qemu-aarch64-static "$init" stray
finish
