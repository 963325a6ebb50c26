#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The QSPI GPT end to end: NVIDIA's R35.3.1 flash_t234_qspi.xml built into a package and
# flashed by the flasher onto a 64 MiB NOR file (real NOR rules) leaves the GPT NVIDIA writes
# at the end and in secondary_gpt_backup, read by an independent reader (qspi_gpt_check.py)
# that lists every partition in layout order; an identical re-flash erases no block; on a
# 128 MiB NOR the GPT is at the real end. Without ../shared/fixtures: skipped, visibly.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
mk=$(pwd)/$build/bin/mkflashpkg
fl=$(pwd)/$build/bin/flasher
check=$(pwd)/tests/host/qspi_gpt_check.py
fixtures=${SELFFLASH_FIXTURES:-../shared/fixtures/nvidia-l4t-r35.3.1}
layout=$fixtures/flash_t234_qspi.xml
if [ ! -f "$layout" ]; then
	for c in nvidia_qspi_flash_leaves_gpt gpt_entries_in_layout_order backup_copy_identical \
		reflash_erases_nothing gpt_at_the_real_end; do
		skip "$c" "no $fixtures"
	done
	exit 0
fi
layout=$(cd "$(dirname "$layout")" && pwd)/$(basename "$layout")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# a small file for every placeholder and file name the layout asks for
files=()
mkdir inputs
for key in $(grep -o '<filename>[^<]*</filename>' "$layout" | sed 's/<[^>]*>//g' | sort -u); do
	head -c 4096 /dev/urandom >"inputs/$key"
	files+=(--file "$key=inputs/$key")
done
"$mk" keygen k >/dev/null
"$mk" build -q -o nvidia.sfpkg --layout "$layout" --key k.key "${files[@]}"
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
"$mk" layout "$layout" | awk '$1 == "spi:0" && $2 != "secondary_gpt" {print $2}' >layout-order.txt
backup_at=$("$mk" layout "$layout" | awk '$2 == "secondary_gpt_backup" {print $3}')

flash() { # NOR_IMAGE LOG
	"$fl" flash --package nvidia.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target "spi=nor-file:$1:65536" >"$2" 2>&1
}
erased_nor() { head -c "$2" /dev/zero | tr '\0' '\377' >"$1"; }

erased_nor qspi.img $((64 * 1024 * 1024))
if flash qspi.img first.log && python3 "$check" qspi.img --backup "$backup_at" >entries.txt 2>check.err; then
	ok "nvidia_qspi_flash_leaves_gpt ($(wc -l <entries.txt) entries)"
else
	not_ok nvidia_qspi_flash_leaves_gpt "$(tail -n 3 first.log) $(cat check.err)"
fi
if cut -d' ' -f1 entries.txt | cmp -s - layout-order.txt; then
	ok gpt_entries_in_layout_order
else
	not_ok gpt_entries_in_layout_order "$(diff <(cut -d' ' -f1 entries.txt) layout-order.txt | head)"
fi
# the copy in secondary_gpt_backup is checked by --backup above; say so on its own line too
if [ -n "$backup_at" ] && python3 "$check" qspi.img --backup "$backup_at" >/dev/null 2>&1; then
	ok "backup_copy_identical (at $backup_at)"
else
	not_ok backup_copy_identical "no secondary_gpt_backup, or its bytes differ"
fi
expect_line gpt_logged first.log '^flasher: qspi.img: QSPI GPT with [0-9]+ partitions written at 67091968 and in secondary_gpt_backup and checked$'

before=$(sha256sum <qspi.img)
if flash qspi.img second.log && [ "$before" = "$(sha256sum <qspi.img)" ] &&
	grep -Eq '^flasher: done: .*NOR blocks compared [0-9]+, erased 0, written 0;' second.log; then
	ok reflash_erases_nothing
else
	not_ok reflash_erases_nothing "$(grep 'flasher: done' second.log)"
fi

erased_nor big.img $((128 * 1024 * 1024))
if flash big.img big.log && python3 "$check" big.img --backup "$backup_at" >/dev/null 2>big.err; then
	ok gpt_at_the_real_end
else
	not_ok gpt_at_the_real_end "$(tail -n 3 big.log) $(cat big.err)"
fi
finish
