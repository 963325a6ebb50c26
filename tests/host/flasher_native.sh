#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The flasher built for the host flashes file targets (a NOR file with real NOR rules, a disk
# image) from a signed package: byte-identical results, an identical reflash that erases and
# writes nothing on NOR, and hostile inputs that are refused with nothing written.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup

cat >board.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="BCT" type="boot_config_table"><size>262144</size></partition>
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="vars" type="data"><size>262144</size><filename>vars.bin</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="131072">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="esp" type="data"><size>8388608</size><filename>esp.img</filename><align_boundary>1048576</align_boundary>
      <partition_type_guid>C12A7328-F81F-11D2-BA4B-00A0C93EC93B</partition_type_guid></partition>
    <partition name="APP" type="data"><size>33554432</size><filename>APPFILE</filename></partition>
    <partition name="APP_b" type="data"><size>16777216</size><allocation_attribute>0x808</allocation_attribute></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 700000 /dev/urandom >fw.bin
head -c 8192 /dev/urandom >bct.bin
{ yes selfflash-vars || true; } | head -c 100000 >vars.bin
truncate -s 8M esp.img
head -c 300000 /dev/urandom | dd of=esp.img bs=64K seek=3 conv=notrunc status=none
truncate -s 32M app.img
head -c 3000000 /dev/urandom | dd of=app.img bs=1M seek=5 conv=notrunc status=none

"$mk" keygen k >/dev/null
"$mk" keygen other >/dev/null
cat >variants.txt <<'TXT'
# name   board  sku   fab  chip
agx      3701   0005  -    D0
TXT
build_pkg() { # PKG [build options]
	local out=$1
	shift
	"$mk" build -q -o "$out" --layout board.xml --key k.key --variants variants.txt \
		--file FWFILE=fw.bin --file BCT=bct.bin --replicate BCT=16384 --file APPFILE=app.img "$@"
}
build_pkg board.sfpkg
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1424321012345
"$mk" eeprom -o nx.eeprom --part-number "699-13767-0000-300 J.2" --serial 1

# erased NOR (all 0xFF) and a disk with old contents
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img

run() { # extra flasher args...
	"$fl" flash --package "${pkg:-board.sfpkg}" --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img "$@"
}
sums() { sha256sum qspi.img nvme.img; }

# compare COUNT bytes of FILE at offset AT with SOURCE
same_at() { cmp -s -n "$3" "$4" <(dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none); }

# a stand-in for the efivarfs of recovery mode, which the firmware keeps in memory only
# (TegraPlatformInitDxe.c): the flash must not rely on it, so it writes nothing there
mkdir efivars
printf '\007\000\000\000\001\000\000\000' >efivars/BootChainFwStatus-781e084c-a330-417c-b678-38e696380cb9
efivars_before=$(cd efivars && sha256sum ./*)
if run --efivars efivars >first.log 2>&1; then ok first_flash_succeeds; else not_ok first_flash_succeeds "$(tail -5 first.log)"; fi
first_sums=$(sums)
if [ "$(cd efivars && sha256sum ./*)" = "$efivars_before" ]; then
	ok first_flash_writes_no_variable
else
	not_ok first_flash_writes_no_variable "$(ls efivars)"
fi
# the boot slot is the last step: after every image was read back, and followed only by what
# the firmware starts with, the step times and the summary
selected=$(grep -n '^flasher: boot chain A: the boot BCT just written selects it' first.log | cut -d: -f1)
last_write=$(grep -nE 'read back;|written and checked$' first.log | tail -n 1 | cut -d: -f1)
if [ -n "$selected" ] && [ -n "$last_write" ] && [ "$selected" -gt "$last_write" ] &&
	! tail -n +"$((selected + 1))" first.log | grep -vqE '^flasher: (at its first boot|time per step|done:)'; then
	ok boot_slot_recorded_last
else
	not_ok boot_slot_recorded_last "$(tail -n 6 first.log)"
fi
expect_line firmware_start_state_in_words first.log '^flasher: at its first boot the firmware starts from the QSPI variable store'
grep -E '^(plan|flasher):' first.log | sed 's/^/    /'
ok_all=1
same_at qspi.img $((256 * 1024)) 700000 fw.bin || ok_all=0
same_at qspi.img $((1280 * 1024)) 700000 fw.bin || ok_all=0
same_at qspi.img $((2304 * 1024)) 100000 vars.bin || ok_all=0
for slot in 0 1 15; do same_at qspi.img $((slot * 16384)) 8192 bct.bin || ok_all=0; done
if [ "$ok_all" = 1 ]; then ok qspi_partitions_byte_identical; else not_ok qspi_partitions_byte_identical; fi
# nothing outside the images changed on NOR
if cmp -s -n 1 <(dd if=qspi.img iflag=skip_bytes,count_bytes skip=$((2304 * 1024 + 100000)) count=1 status=none) <(printf '\377'); then
	ok qspi_outside_images_still_erased
else
	not_ok qspi_outside_images_still_erased
fi
esp_at=$((1024 * 1024)) app_at=$((9 * 1024 * 1024))
ok_all=1
# data where the images have data; holes keep what the disk had
same_at nvme.img $((esp_at + 3 * 65536)) 300000 <(dd if=esp.img bs=64K skip=3 status=none) || ok_all=0
same_at nvme.img $((app_at + 5 * 1048576)) 3000000 <(dd if=app.img bs=1M skip=5 status=none) || ok_all=0
if [ "$ok_all" = 1 ]; then ok disk_partitions_byte_identical; else not_ok disk_partitions_byte_identical; fi
expect_line gpt_checked_by_libblkid first.log 'nvme.img: GPT with 3 partitions written and checked'
expect_line fill_to_end_grows_to_disk first.log '^plan: nvme:0 +APP_b +offset +42991616 size +24100352 '

run >second.log 2>&1 || true
expect_line reflash_erases_nothing second.log 'NOR blocks compared [0-9]+, erased 0, written 0;'
before=$(sums)

expect_fail other_board_refused 'no variant for this board: board 3767 SKU 0000' \
	"$fl" flash --package board.sfpkg --pubkey k.pub --eeprom nx.eeprom --chip-sku D3 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img
expect_fail other_chip_refused 'no variant for this board' run --chip-sku D2
expect_fail wrong_key_refused 'signed by another key' \
	"$fl" flash --package board.sfpkg --pubkey other.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img
cp agx.eeprom bad.eeprom
printf 'X' | dd of=bad.eeprom bs=1 seek=30 conv=notrunc status=none
expect_fail bad_eeprom_crc_refused 'EEPROM CRC is' \
	"$fl" flash --package board.sfpkg --pubkey k.pub --eeprom bad.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img
truncate -s 40M small.img
expect_fail disk_too_small_refused 'partition APP_b: no room left|ends at' \
	"$fl" flash --package board.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:small.img
expect_fail missing_target_refused 'no device was given for it' \
	"$fl" flash --package board.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536
if [ "$(sums)" = "$before" ] && [ "$(cd efivars && sha256sum ./*)" = "$efivars_before" ]; then ok refused_runs_wrote_nothing; else not_ok refused_runs_wrote_nothing; fi

# one partition changes: only its differing NOR blocks are erased, and of the block only the
# pages that hold image bytes are programmed (100000 - 65536 bytes in 256-byte pages: 34560)
printf 'changed' | dd of=vars.bin bs=1 seek=70000 conv=notrunc status=none
build_pkg board2.sfpkg
"$fl" flash --package board2.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img >third.log 2>&1 || true
expect_line changed_partition_erases_one_block third.log '^flasher: vars +100000 bytes: 34560 written, .* erased 1, written 1;'
expect_line others_untouched third.log '^flasher: A_fw +700000 bytes: 0 written, .* erased 0, written 0;'
# ---- the boot-chain state (DESIGN.md section 9) -----------------------------------------
G=781e084c-a330-417c-b678-38e696380cb9
var() { # DIR NAME VALUE: a u32 variable as efivarfs shows it (attributes 7, then the value)
	printf "\\007\\000\\000\\000\\$(printf '%03o' "$3")\\000\\000\\000" >"$1/$2-$G"
}
mkdir ev-empty ev-state ev-codes ev-bad ev-bootnext
expect_line status_empty_store <("$fl" status --efivars ev-empty 2>&1) '^boot chain: no switch pending$'
var ev-state BootChainFwCurrent 1
var ev-state BootChainFwStatus 12
var ev-state RootfsStatusSlotA 255
var ev-state RootfsStatusSlotB 0
var ev-state RootfsRedundancyLevel 1
var ev-state RootfsRetryCountMax 3
"$fl" status --efivars ev-state >status.txt 2>&1 || true
expect_line status_running_chain status.txt '^boot chain: running chain B \(BootChainFwCurrent 1\)$'
expect_line status_last_switch_decoded status.txt '^boot chain: last switch: boot chain failed \(BootChainFwStatus 12\); while it exists a capsule update is refused$'
expect_line status_rootfs_slots status.txt '^rootfs slot A: unbootable \(RootfsStatusSlotA 0xff\)$'
expect_line status_rootfs_linked status.txt '^rootfs A/B: follows the boot chain \(RootfsRedundancyLevel 1\)$'
all=1
for code in 0:success 2:'no operation required' 3:'capsule update was pending' 5:"3 resets" 14:'BootNext exists' 17:'BR-BCT update is pending' 99:'unknown code'; do
	var ev-codes BootChainFwStatus "${code%%:*}"
	"$fl" status --efivars ev-codes 2>&1 | grep -q "last switch: .*${code#*:}.*(BootChainFwStatus ${code%%:*})" || all=0
done
[ "$all" = 1 ] && ok status_codes_in_words || not_ok status_codes_in_words
printf '\007\000\000\000\001\000' >"ev-bad/BootChainFwStatus-$G"
expect_exit status_malformed_variable_named 1 'BootChainFwStatus is 6 bytes, expected 8' \
	"$fl" status --efivars ev-bad
# what recovery mode's in-memory store holds is not the board's: a BootNext there neither
# stops the first flash nor is touched by it
printf '\007\000\000\000\003\000' >ev-bootnext/BootNext-8be4df61-93ca-11d2-aa0d-00e098032b8c
if run --efivars ev-bootnext >bootnext.log 2>&1 && [ "$(ls ev-bootnext)" = "BootNext-8be4df61-93ca-11d2-aa0d-00e098032b8c" ]; then
	ok rcm_store_neither_read_nor_written
else
	not_ok rcm_store_neither_read_nor_written "$(tail -n 3 bootnext.log)"
fi
# the QSPI and then the disk, one after the other: the same bytes as both at once
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img
if run --sequential >sequential.log 2>&1 && [ "$(sums)" = "$first_sums" ]; then
	ok sequential_flash_same_bytes_as_parallel
else
	not_ok sequential_flash_same_bytes_as_parallel "$(tail -n 3 sequential.log)"
fi
# both codecs: the default package's compressed chunks are zstd; a zlib package (what older
# flashers read) flashes the same bytes
"$mk" show --chunks board.sfpkg >codec-zstd.txt
if grep -q ' zstd sha256 ' codec-zstd.txt && ! grep -q ' zlib sha256 ' codec-zstd.txt; then
	ok default_package_has_zstd_chunks
else
	not_ok default_package_has_zstd_chunks "$(grep chunk codec-zstd.txt | head -n 5)"
fi
build_pkg board-zlib.sfpkg --codec zlib
cp qspi.img qspi-zstd.img
cp nvme.img nvme-zstd.img
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img
if "$mk" show --chunks board-zlib.sfpkg | grep -q ' zlib sha256 ' &&
	pkg=board-zlib.sfpkg run --sequential >zlib.log 2>&1 &&
	cmp -s nvme.img nvme-zstd.img && same_at qspi.img $((256 * 1024)) 700000 fw.bin &&
	same_at qspi.img $((1280 * 1024)) 700000 fw.bin && same_at qspi.img $((2304 * 1024)) 100000 vars.bin &&
	same_at qspi.img 0 8192 bct.bin; then
	ok zlib_package_flashes_the_same_bytes
else
	not_ok zlib_package_flashes_the_same_bytes "$(tail -n 3 zlib.log)"
fi
finish
