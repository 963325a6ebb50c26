#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo` as a test: hostload boots the QEMU board in RCM mode and serves it the demo
# package over the link; the board flashes its QSPI and NVMe disk and reboots; the flashed
# board then boots from its own firmware and system (no -kernel) and says which slot it runs.
# From the host: the QSPI and every disk partition equal the package's files byte for byte; a
# second flash of the same package erases nothing; the initrd is reproducible and small; a
# boot-only run (payload swapped for the demo system) boots and writes nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
root=$(pwd)
build=$(pwd)/${BUILD:-build}
for f in "$build/kernel/Image" "$build/rootfs/esp.img" "$build/bin/hostload"; do
	if [ ! -e "$f" ]; then
		skip demo_flash "$f missing (make all rootfs)"
		finish
		exit 0
	fi
done
demo=$build/demo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. the demo, from an erased QSPI and an empty disk
start=$(date +%s)
if scripts/demo.sh --build "$build" --json "$tmp/first.json" >"$tmp/demo.out" 2>&1; then
	ok "demo_flash_and_boot_in_$(($(date +%s) - start))s"
else
	not_ok demo_flash_and_boot "$(tail -15 "$tmp/demo.out")"
fi
expect_line flashed_board_boots_slot_A "$demo/boot-console.log" 'selfflash-demo: booted slot A \(system version 1\)'
expect_line flashed_board_mounts_its_esp "$demo/boot-console.log" 'selfflash-demo: ESP /dev/nvme0n1p1 mounted on /boot/efi'
expect_line flashed_board_runs_mark_good "$demo/boot-console.log" 'selfflash-demo: mark-good: '
expect_line second_boot_is_from_flash_not_kernel "$demo/boot-console.log" 'root=PARTLABEL=APP'
expect_line rcm_board_flashed_over_the_link "$demo/flash-console.log" 'flasher: link: host serves demo.sfpkg'
if python3 - "$tmp/first.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
res = [e for e in ev if e["event"] == "result"]
sys.exit(0 if res and res[-1]["status"] == 0 and any(e["event"] == "progress" for e in ev) else 1)
PY
then ok hostload_json_reports_progress_and_success; else not_ok hostload_json_reports_progress_and_success; fi

# 2. byte for byte, from the host, at the offsets the layout gives
"$build/bin/mkflashpkg" layout rootfs/layout/demo.xml >"$tmp/layout.txt"
offset_of() { awk -v d="$1" -v p="$2" '$1 == d && $2 == p { print $3 }' "$tmp/layout.txt"; }
same_at() { cmp -s -n "$3" "$4" <(dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none); }
check_part() { # image device partition file
	local at
	at=$(offset_of "$2" "$3")
	[ -n "$at" ] && same_at "$1" "$at" "$(stat -c %s "$4")" "$4"
}
all=1
check_part "$demo/qspi.img" spi:0 A_cpu-bootloader "$build/rootfs/uefi.fd" || all=0
check_part "$demo/qspi.img" spi:0 B_cpu-bootloader "$build/rootfs/uefi.fd" || all=0
check_part "$demo/qspi.img" spi:0 A_VER "$build/rootfs/version.txt" || all=0
bct=$(offset_of spi:0 BCT)
for slot in 0 31 63; do same_at "$demo/qspi.img" $((bct + slot * 16384)) 4096 "$build/rootfs/bct.bin" || all=0; done
if [ "$all" = 1 ]; then ok qspi_byte_identical_to_package; else not_ok qspi_byte_identical_to_package; fi
# UEFI finds its variable store and the boot-chain partitions through this (DESIGN.md section 8)
if python3 tests/host/qspi_gpt_check.py "$demo/qspi.img" >"$tmp/qspi-gpt.txt" 2>&1 &&
	grep -q '^uefi_variables ' "$tmp/qspi-gpt.txt" && grep -q '^A_cpu-bootloader ' "$tmp/qspi-gpt.txt"; then
	ok "qspi_has_nvidia_gpt ($(wc -l <"$tmp/qspi-gpt.txt") entries)"
else
	not_ok qspi_has_nvidia_gpt "$(cat "$tmp/qspi-gpt.txt")"
fi
all=1
check_part "$demo/nvme.img" nvme:0 esp "$build/rootfs/esp.img" || all=0
check_part "$demo/nvme.img" nvme:0 APP "$build/rootfs/app.ext4" || all=0
check_part "$demo/nvme.img" nvme:0 APP_b "$build/rootfs/app.ext4" || all=0
check_part "$demo/nvme.img" nvme:0 A_kernel "$build/rootfs/boot.img" || all=0
check_part "$demo/nvme.img" nvme:0 B_kernel "$build/rootfs/boot.img" || all=0
if [ "$all" = 1 ]; then ok disk_partitions_byte_identical_to_package; else not_ok disk_partitions_byte_identical_to_package; fi
if sfdisk --dump "$demo/nvme.img" 2>/dev/null | grep -q 'name="APP_b"' &&
	sfdisk --dump "$demo/nvme.img" 2>/dev/null | grep -q 'name="B_kernel"'; then
	ok disk_gpt_read_by_sfdisk
else
	not_ok disk_gpt_read_by_sfdisk
fi

# 3. the same package again: every QSPI block compares equal, nothing is erased
if scripts/demo.sh --build "$build" --keep >"$tmp/again.out" 2>&1; then
	ok reflash_succeeds
else
	not_ok reflash_succeeds "$(tail -15 "$tmp/again.out")"
fi
expect_line reflash_erases_no_qspi_block "$demo/board.log" 'NOR blocks compared [1-9][0-9]*, erased 0, written 0;'
# delta: the board already holds every chunk, so only the manifest travels and nothing is written
expect_line reflash_fetches_nothing "$demo/board.log" '^flasher: delta: [0-9]+ chunks .* already in place, .* 0 fetched \(0 bytes\)$'
sent=$(sed -n 's/^hostload: sent \([0-9]*\) bytes of a \([0-9]*\)-byte package.*/\1 \2/p' "$demo/board.log" | tail -n 1)
if [ -n "$sent" ] && [ "${sent% *}" -le $(( ${sent#* } / 50 )) ]; then
	ok "reflash_sends_${sent% *}_of_${sent#* }_bytes"
else
	not_ok reflash_sends_at_most_2_percent "hostload sent: ${sent:-?}"
fi
expect_line reflash_writes_nothing "$demo/board.log" '^flasher: done: 0 bytes written, '


# 4. the initrd: reproducible, and small without a payload
cp "$demo/flasher.cpio.gz" "$tmp/first.cpio.gz"
SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o "$tmp/again.cpio.gz" --init "$build/board/init" \
	--config "$demo/flasher.conf" --pubkey "$build/keys/demo.pub"
if cmp -s "$tmp/first.cpio.gz" "$tmp/again.cpio.gz"; then ok initrd_reproducible; else not_ok initrd_reproducible; fi
size=$(stat -c %s "$tmp/first.cpio.gz")
if [ "$size" -lt 1048576 ]; then ok "flasher_initrd_${size}_bytes_under_1MiB"; else not_ok flasher_initrd_under_1MiB "$size"; fi

# 5. boot-only: the demo system's init as the payload; nothing is written (in an initramfs it
# finds no slot partition under /, so it leaves the disk alone)
debugfs -R "dump /sbin/init $tmp/demo-init" "$build/rootfs/app.ext4" >/dev/null 2>&1
printf '1\n' >"$tmp/system-version"
SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o "$tmp/boot-only.cpio.gz" --init "$tmp/demo-init" \
	--dir etc --dir etc/selfflash --file "etc/selfflash/system-version=$tmp/system-version" \
	--dir run --dir tmp
before=$(sha256sum "$demo/qspi.img" "$demo/nvme.img")
if "$build/bin/hostload" rcm --qemu --boot-only --kernel "$build/kernel/Image" \
	--initrd "$tmp/boot-only.cpio.gz" --qspi "$demo/qspi.img" --disk "$demo/nvme.img" \
	--console "$tmp/boot-only.log" --timeout 300 >/dev/null 2>&1; then
	ok boot_only_run_ends
else
	not_ok boot_only_run_ends "$(tail -5 "$tmp/boot-only.log")"
fi
expect_line boot_only_boots_the_demo_system "$tmp/boot-only.log" 'selfflash-demo: booted slot \? \(system version 1\)'
expect_line boot_only_touches_no_slot "$tmp/boot-only.log" 'selfflash-demo: not booted from a slot'
if [ "$(sha256sum "$demo/qspi.img" "$demo/nvme.img")" = "$before" ]; then
	ok boot_only_writes_nothing
else
	not_ok boot_only_writes_nothing
fi
finish
