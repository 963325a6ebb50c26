#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The flasher drives file targets that take a part's time (the bench's Orin model): a NOR file
# with erase, page-program and read times and a disk file with write and read rates. The flash
# is byte-exact; each modelled target's line says what the part did and how long it was busy,
# and that figure is the model's arithmetic on its own counts (erases x erase time + pages x
# page time + bytes / rate); the flash takes at least the busiest part's time. A blank QSPI
# block is programmed without an erase (counted by the modelled device, not by the writer); a
# block holding data is erased first. A model on a target without one prints no model line; a
# bad model parameter is refused before anything is written.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup

cat >board.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="131072">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>33554432</size><filename>APPFILE</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 300000 /dev/urandom >fw.bin
truncate -s 32M app.img
head -c 4000000 /dev/urandom >app_data.bin
dd if=app_data.bin of=app.img bs=1M seek=5 conv=notrunc status=none
"$mk" keygen k >/dev/null
"$mk" build -q -o board.sfpkg --layout board.xml --key k.key --file FWFILE=fw.bin --file APPFILE=app.img
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
place() { "$mk" layout board.xml | awk -v p="$1" '$2 == p {print $3}'; }
fw_at=$(place A_fw) fwb_at=$(place B_fw) app_at=$(awk '$1 == "nvme:0" && $2 == "APP" {print $3}' \
	<("$mk" layout board.xml))

# the model: 20 ms per 64 KiB erase, 50 us per 256-byte page, reads at 50 MB/s; the disk
# writes at 50 MB/s and reads at 400 MB/s
ERASE_MS=20 PAGE_US=50 PAGE=256 NOR_READ=50 DISK_WRITE=50 DISK_READ=400
nor_spec="nor-file:qspi.img:65536;erase-ms=$ERASE_MS;page-us=$PAGE_US;page=$PAGE;read-mbps=$NOR_READ"
disk_spec="block:nvme.img;write-mbps=$DISK_WRITE;read-mbps=$DISK_READ"
flash() { # LOG NOR_SPEC DISK_SPEC
	"$fl" flash --package board.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target "spi=$2" --target "nvme=$3" >"$1" 2>&1
}
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img
same_at() { cmp -s -n "$3" "$4" <(dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none); }

# model_field LOG TARGET FIELD: from "flasher: model TARGET: W bytes written, R read, E blocks
# erased, busy S s", field W, R, E or S
model_field() {
	sed -nE "s/^flasher: model $2: ([0-9]+) bytes written, ([0-9]+) read, ([0-9]+) blocks erased, busy ([0-9.]+) s$/\\1 \\2 \\3 \\4/p" "$1" |
		awk -v f="$3" '{print f == "W" ? $1 : f == "R" ? $2 : f == "E" ? $3 : $4}'
}

# check_arithmetic NAME LOG: each model's busy time is its counts at the model's figures: the
# disk's exactly (to the printed millisecond), the NOR's at least its whole pages' worth and
# at most one more page per started 4 KiB (writes are 64 KiB blocks and 4 KiB header pages)
check_arithmetic() {
	local name=$1 log=$2 out
	if out=$(awk -v nw="$(model_field "$log" spi:0 W)" -v nr="$(model_field "$log" spi:0 R)" \
		-v ne="$(model_field "$log" spi:0 E)" -v nb="$(model_field "$log" spi:0 S)" \
		-v dw="$(model_field "$log" nvme:0 W)" -v dr="$(model_field "$log" nvme:0 R)" \
		-v db="$(model_field "$log" nvme:0 S)" \
		-v em=$ERASE_MS -v pu=$PAGE_US -v pg=$PAGE -v r=$NOR_READ -v w=$DISK_WRITE -v rd=$DISK_READ \
		'BEGIN {
			if (nb == "" || db == "") { print "no model lines"; exit 1 }
			nor_lo = ne * em / 1e3 + nw / pg * pu / 1e6 + nr / (r * 1e6)
			nor_hi = nor_lo + (nw / 4096 + 1) * pu / 1e6
			disk = dw / (w * 1e6) + dr / (rd * 1e6)
			printf "NOR busy %.3f s in [%.3f, %.3f], disk busy %.3f s, arithmetic %.3f s", nb, nor_lo, nor_hi, db, disk
			exit !(nb >= nor_lo - 0.0005 && nb <= nor_hi + 0.0005 && db >= disk - 0.0005 && db <= disk + 0.0015)
		}'); then
		ok "$name ($out)"
	else
		not_ok "$name" "$out"
	fi
}

if flash first.log "$nor_spec" "$disk_spec"; then ok modelled_flash_succeeds; else not_ok modelled_flash_succeeds "$(tail -n 5 first.log)"; fi
grep -E '^flasher: (model|done)' first.log | sed 's/^/    /'
if same_at qspi.img "$fw_at" 300000 fw.bin && same_at qspi.img "$fwb_at" 300000 fw.bin &&
	same_at nvme.img $((app_at + 5 * 1024 * 1024)) 4000000 app_data.bin; then
	ok modelled_targets_hold_the_package
else
	not_ok modelled_targets_hold_the_package
fi
check_arithmetic busy_is_the_models_arithmetic first.log
# 2 x 300000 bytes of firmware in 64 KiB blocks and the QSPI GPT: programmed, and not one erase
# on a blank QSPI (an erase of a blank block is a wasted erase time on a real part)
if [ "$(model_field first.log spi:0 E)" = 0 ] && [ "$(model_field first.log spi:0 W)" -ge 600000 ]; then
	ok blank_qspi_programmed_without_erasing
else
	not_ok blank_qspi_programmed_without_erasing "$(grep '^flasher: model spi' first.log)"
fi
if [ "$(model_field first.log nvme:0 W)" -ge 4000000 ] && [ "$(model_field first.log nvme:0 R)" -ge 4000000 ]; then
	ok disk_model_counts_the_image_and_its_read_back
else
	not_ok disk_model_counts_the_image_and_its_read_back "$(grep '^flasher: model nvme' first.log)"
fi
# the flash took at least the busier part's time (the parts work side by side)
took=$(sed -nE 's/^flasher: done: .*; ([0-9.]+) s$/\1/p' first.log)
if awk -v t="$took" -v a="$(model_field first.log spi:0 S)" -v b="$(model_field first.log nvme:0 S)" \
	'BEGIN { exit !(t + 0.005 >= (a > b ? a : b)) }'; then
	ok "flash_takes_the_busiest_parts_time ($took s)"
else
	not_ok flash_takes_the_busiest_parts_time "flash $took s, parts $(model_field first.log spi:0 S) s and $(model_field first.log nvme:0 S) s"
fi

# old data in the first block of A_fw: that block is erased (once), the blank ones are not
printf 'old firmware' | dd of=qspi.img bs=1 seek="$fw_at" conv=notrunc status=none
if flash second.log "$nor_spec" "$disk_spec" && [ "$(model_field second.log spi:0 E)" = 1 ]; then
	ok block_with_data_erased_once
else
	not_ok block_with_data_erased_once "$(grep -E '^flasher: (model spi|done)' second.log)"
fi
check_arithmetic busy_is_the_models_arithmetic_with_an_erase second.log

# no model, no model line
if flash plain.log nor-file:qspi.img:65536 block:nvme.img && ! grep -q '^flasher: model' plain.log; then
	ok unmodelled_targets_print_no_model_line
else
	not_ok unmodelled_targets_print_no_model_line "$(grep -E '^flasher: (model|done)' plain.log)"
fi

# a bad parameter is refused, naming it, before anything is written
printf 'old firmware' | dd of=qspi.img bs=1 seek="$fw_at" conv=notrunc status=none
before=$(sha256sum <qspi.img)
if ! flash bad.log "nor-file:qspi.img:65536;erase-ms=20;write-mbps=5" "$disk_spec" &&
	grep -q "nor-file: takes no model parameter 'write-mbps' (it takes erase-ms, page-us, page, read-mbps)" bad.log &&
	[ "$before" = "$(sha256sum <qspi.img)" ]; then
	ok bad_model_parameter_refused_before_writing
else
	not_ok bad_model_parameter_refused_before_writing "$(tail -n 2 bad.log)"
fi
finish
