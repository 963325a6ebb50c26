#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A first flash leaves the QSPI partitions the package gives no image erased, as NVIDIA's flash
# does: a NOR file (real NOR rules) whose uefi_variables holds an edk2 variable store from an
# earlier install (BootChainFwNext=1, RootfsStatusSlotB=0xFF, BootNext: written by
# efi_varstore.py, independently of the flasher's reader) and whose uefi_ftw holds data. The
# flash names the stale variables, erases only the blocks holding data, leaves both partitions
# all 0xFF and every imaged partition as the package says, and the GPT copy in
# secondary_gpt_backup untouched by the erase; --plan lists the partitions and writes nothing;
# a second flash of the (never booted) board erases nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
varstore=$(pwd)/tests/host/efi_varstore.py
gpt_check=$(pwd)/tests/host/qspi_gpt_check.py
native_setup

K=1024 EB=65536
cat >board.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="cfg" type="data"><size>262144</size><filename>CFGFILE</filename></partition>
    <partition name="uefi_variables" type="data"><size>262144</size></partition>
    <partition name="uefi_ftw" type="data"><size>524288</size></partition>
    <partition name="reserved_partition" type="data"><size>65536</size></partition>
    <partition name="secondary_gpt_backup" type="data"><size>65536</size></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 700000 /dev/urandom >fw.bin
head -c 100000 /dev/urandom >cfg.bin
"$mk" keygen k >/dev/null
"$mk" build -q -o board.sfpkg --layout board.xml --key k.key --file FWFILE=fw.bin --file CFGFILE=cfg.bin
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
place() { "$mk" layout board.xml | awk -v p="$1" '$2 == p {print $3}'; }
vars_at=$(place uefi_variables) ftw_at=$(place uefi_ftw) backup_at=$(place secondary_gpt_backup)
fw_at=$(place A_fw) fwb_at=$(place B_fw) cfg_at=$(place cfg)

# the earlier install: a store with stale variables (a deleted copy and one in deleted
# transition among them, which are not live), data in block 3 of uefi_variables and in blocks
# 0 and 7 of uefi_ftw; the rest of the QSPI erased
python3 "$varstore" store.bin $((256 * K)) \
	0x3f:nvidia:BootChainFwCurrent:01000000 \
	0x3c:nvidia:BootChainFwNext:00000000 \
	0x3f:nvidia:BootChainFwNext:01000000 \
	0x3f:nvidia:RootfsStatusSlotA:00000000 \
	0x3f:nvidia:RootfsStatusSlotB:ff000000 \
	0x3f:global:BootNext:0300 \
	0x3f:global:Timeout:0500
head -c $((8 * 1024 * K)) /dev/zero | tr '\0' '\377' >qspi.img
put() { dd of=qspi.img bs=1 seek="$1" conv=notrunc status=none; }
put "$vars_at" <store.bin
printf 'stale' | put $((vars_at + 3 * EB + 100))
printf 'working block' | put "$ftw_at"
printf 'spare' | put $((ftw_at + 7 * EB + 12))

flash() { # LOG [extra flasher args...]
	local log=$1
	shift
	"$fl" flash --package board.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target spi=nor-file:qspi.img:$EB "$@" >"$log" 2>&1
}
same_at() { cmp -s -n "$3" "$4" <(dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none); }
all_ff() { [ -z "$(dd if=qspi.img iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none | tr -d '\377' | head -c 1)" ]; }

before=$(sha256sum <qspi.img)
if flash plan.log --plan && [ "$before" = "$(sha256sum <qspi.img)" ]; then
	ok plan_writes_nothing
else
	not_ok plan_writes_nothing "$(tail -n 3 plan.log)"
fi
blanked=$(grep -E '^plan: spi:0 +[^ ]+ +blank: no image, erased where it holds data$' plan.log | awk '{print $3}' | paste -sd, -)
if [ "$blanked" = uefi_variables,uefi_ftw,reserved_partition ]; then
	ok "plan_lists_partitions_to_blank ($blanked)"
else
	not_ok plan_lists_partitions_to_blank "plan names '$blanked'"
fi

if flash first.log; then ok first_flash_succeeds; else not_ok first_flash_succeeds "$(tail -n 5 first.log)"; fi
grep -E '^flasher: (uefi|reserved|secondary)' first.log | sed 's/^/    /'
expect_line stale_variables_reported first.log \
	'^flasher: uefi_variables held BootChainFwNext=1, RootfsStatusSlotA=0, RootfsStatusSlotB=0xff, BootNext=Boot0003: removed by the erase$'
expect_line uefi_variables_blocks_erased first.log \
	'^flasher: uefi_variables: 2 of 4 erase blocks held data, erased \(the firmware formats a fresh variable store\)$'
expect_line uefi_ftw_blocks_erased first.log \
	'^flasher: uefi_ftw: 2 of 8 erase blocks held data, erased \(the firmware writes a fresh fault-tolerant-write working block\)$'
expect_line blank_partition_left_alone first.log '^flasher: reserved_partition: already blank$'
if all_ff "$vars_at" $((256 * K)) && all_ff "$ftw_at" $((512 * K)); then
	ok variable_store_partitions_read_back_erased
else
	not_ok variable_store_partitions_read_back_erased
fi
if same_at qspi.img "$fw_at" 700000 fw.bin && same_at qspi.img "$fwb_at" 700000 fw.bin &&
	same_at qspi.img "$cfg_at" 100000 cfg.bin; then
	ok imaged_partitions_as_the_package_says
else
	not_ok imaged_partitions_as_the_package_says
fi
if python3 "$gpt_check" qspi.img --backup "$backup_at" >entries.txt 2>gpt.err; then
	ok "qspi_gpt_and_its_copy_intact ($(wc -l <entries.txt) entries)"
else
	not_ok qspi_gpt_and_its_copy_intact "$(cat gpt.err)"
fi
# the erase happens before the GPT is written and before any image
blank_line=$(grep -n '^flasher: uefi_ftw: ' first.log | cut -d: -f1)
gpt_line=$(grep -n 'QSPI GPT with' first.log | cut -d: -f1)
if [ -n "$blank_line" ] && [ -n "$gpt_line" ] && [ "$blank_line" -lt "$gpt_line" ]; then
	ok blank_before_gpt
else
	not_ok blank_before_gpt "blank at line '$blank_line', GPT at line '$gpt_line'"
fi

# the board was never booted: a second flash finds every such partition blank
after_first=$(sha256sum <qspi.img)
if flash second.log && [ "$after_first" = "$(sha256sum <qspi.img)" ]; then
	ok second_flash_changes_nothing
else
	not_ok second_flash_changes_nothing "$(tail -n 3 second.log)"
fi
if [ "$(grep -cE '^flasher: (uefi_variables|uefi_ftw|reserved_partition): already blank$' second.log)" = 3 ] &&
	! grep -q 'removed by the erase' second.log; then
	ok second_flash_says_already_blank
else
	not_ok second_flash_says_already_blank "$(grep -E '^flasher: (uefi|reserved)' second.log)"
fi
expect_line second_flash_erases_nothing second.log '^flasher: done: .*NOR blocks compared [0-9]+, erased 0, written 0;'
grep '^flasher: done' first.log second.log | sed 's/^/    /'

# a store in uefi_variables that is no store at all is said to be so, and erased anyway
printf 'not a firmware volume' | put "$vars_at"
if flash garbage.log && all_ff "$vars_at" $((256 * K)); then ok garbage_store_erased; else not_ok garbage_store_erased "$(tail -n 3 garbage.log)"; fi
expect_line garbage_store_reported garbage.log \
	'^flasher: uefi_variables: not a variable store the firmware would use \(no firmware volume signature _FVH at offset 40\)$'
finish
