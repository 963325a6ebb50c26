#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real flasher as PID 1 on the QEMU board, with a signed package embedded in its initrd:
# it writes the QSPI through MTD (CFI flash) and the NVMe disk, reboots; the host then compares
# both images with the package's files byte for byte. A second boot with the same package must
# erase and write nothing on the QSPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=$(pwd)/${BUILD:-build}
root=$(pwd)
mk=$build/bin/mkflashpkg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

cat >board.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="131072">
    <partition name="BCT" type="boot_config_table"><size>262144</size></partition>
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>fw.bin</filename></partition>
    <partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>fw.bin</filename></partition>
    <partition name="vars" type="data"><size>262144</size><filename>vars.bin</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="2097152">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="esp" type="data"><size>8388608</size><filename>esp.img</filename><align_boundary>1048576</align_boundary></partition>
    <partition name="APP" type="data"><size>33554432</size><filename>app.img</filename></partition>
    <partition name="APP_b" type="data"><size>33554432</size><filename>app.img</filename></partition>
    <partition name="UDA" type="data"><size>0</size><allocation_attribute>0x808</allocation_attribute></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 600000 /dev/urandom >fw.bin
head -c 8192 /dev/urandom >bct.bin
{ yes selfflash-vars || true; } | head -c 100000 >vars.bin
truncate -s 8M esp.img
head -c 300000 /dev/urandom | dd of=esp.img bs=64K seek=3 conv=notrunc status=none
truncate -s 32M app.img
head -c 2000000 /dev/urandom | dd of=app.img bs=1M seek=5 conv=notrunc status=none
"$mk" keygen k >/dev/null
"$mk" build -q -o board.sfpkg --layout board.xml --key k.key --file BCT=bct.bin --replicate BCT=16384
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1424321012345
cat >flasher.conf <<'CONF'
package /package.sfpkg
pubkey /etc/selfflash/pubkey.pem
target spi mtd:/dev/mtd0@67108864
target nvme block:/dev/nvme0n1
on-failure poweroff
CONF
SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o flash.cpio.gz --init "$build/board/init" \
	--dir etc --dir etc/selfflash --file etc/selfflash/flasher.conf=flasher.conf \
	--file etc/selfflash/pubkey.pem=k.pub --file package.sfpkg=board.sfpkg

boot() { # LOG
	local rc
	set +e
	"$root/qemu/run-rcm.sh" --kernel "$build/kernel/Image" --initrd flash.cpio.gz \
		--workdir board --eeprom agx.eeprom --chip-sku D0 --timeout 600 >"$1.raw" 2>&1
	rc=$?
	set -e
	tr -d '\r' <"$1.raw" >"$1"
	grep -E '^(flasher|plan):' "$1" | sed 's/^/    board: /'
	return $rc
}
start=$(date +%s)
if boot first.log; then ok "qemu_first_flash_exits_in_$(($(date +%s) - start))s"; else not_ok qemu_first_flash_exits "$(tail -20 first.log)"; fi
expect_line qemu_first_flash_succeeds first.log '^flasher: SUCCESS'
expect_line qemu_gpt_checked first.log 'GPT with 4 partitions written and checked'

same_at() { cmp -s -n "$3" "$4" <(dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none); }
ok_all=1
same_at board/qspi.img $((256 * 1024)) 600000 fw.bin || ok_all=0
same_at board/qspi.img $((1280 * 1024)) 600000 fw.bin || ok_all=0
same_at board/qspi.img $((2304 * 1024)) 100000 vars.bin || ok_all=0
for slot in 0 7 15; do same_at board/qspi.img $((slot * 16384)) 8192 bct.bin || ok_all=0; done
if [ "$ok_all" = 1 ]; then ok qemu_qspi_byte_identical; else not_ok qemu_qspi_byte_identical; fi
ok_all=1
esp_at=$((1024 * 1024)) app_at=$((9 * 1024 * 1024)) appb_at=$((41 * 1024 * 1024))
same_at board/nvme.img "$esp_at" $((8 * 1024 * 1024)) esp.img || ok_all=0
same_at board/nvme.img "$app_at" $((32 * 1024 * 1024)) app.img || ok_all=0
same_at board/nvme.img "$appb_at" $((32 * 1024 * 1024)) app.img || ok_all=0
if [ "$ok_all" = 1 ]; then ok qemu_disk_partitions_byte_identical; else not_ok qemu_disk_partitions_byte_identical; fi
if [ "$(head -c 8 <(dd if=board/nvme.img bs=512 skip=1 count=1 status=none))" = "EFI PART" ]; then
	ok qemu_disk_has_gpt
else
	not_ok qemu_disk_has_gpt
fi

start=$(date +%s)
boot second.log || true
expect_line "qemu_reflash_erases_nothing_in_$(($(date +%s) - start))s" second.log 'NOR blocks compared [0-9]+, erased 0, written 0;'
finish
