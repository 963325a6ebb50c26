#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An update against a changed layout (issue 23): a board flashed with a QSPI GPT as NVIDIA keeps
# it (end of the device and secondary_gpt_backup), running slot A, is offered signed packages
# whose QSPI layout swaps A_fw and B_fw, or moves B_fw, with update-qspi on: each is refused
# naming the partition and both places, the QSPI, the disk (GPT included) and the ESP
# byte-identical. A QSPI without a readable GPT, or whose two copies differ, is refused too. The
# same layout updates: only B_fw changes on the QSPI. Two package targets of one type need each
# its own device, named by instance; two targets on one device are refused.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup
mi=$(dirname "$mk")/mkinitrd

# qspi_layout OUT A_FW_SIZE B_FIRST: the QSPI part of a layout, NVIDIA's names and its GPT
# partitions (R35.3.1 flash_t234_qspi.xml: secondary_gpt_backup, secondary_gpt at the end)
layout() { # OUT A_FW_SIZE ORDER ("ab" or "ba")
	local a="<partition name=\"A_fw\" type=\"mb1_bootloader\"><size>$2</size><filename>FW_A</filename></partition>"
	local b='<partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>FW_B</filename></partition>'
	# a slot pair with no image (as A_smm-fw/B_smm-fw, A_reserved_on_boot/B_... in R35.3.1's
	# flash_t234_qspi.xml): a flash leaves them erased, so must an update of their slot
	local rsv='<partition name="A_rsv" type="data"><size>65536</size></partition><partition name="B_rsv" type="data"><size>65536</size></partition>'
	local fw="$a$b$rsv"
	[ "$3" = ba ] && fw="$b$a$rsv"
	cat >"$1" <<XML
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    $fw
    <partition name="uefi_variables" type="data"><size>262144</size><align_boundary>65536</align_boundary></partition>
    <partition name="secondary_gpt_backup" type="data"><size>65536</size><align_boundary>65536</align_boundary></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="131072">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="esp" type="data"><size>4194304</size></partition>
    <partition name="A_kernel" type="kernel"><size>2097152</size><filename>KERNEL_A</filename></partition>
    <partition name="B_kernel" type="kernel"><size>2097152</size><filename>KERNEL_B</filename></partition>
    <partition name="APP" type="data"><size>8388608</size><filename>APP_A</filename></partition>
    <partition name="APP_b" type="data"><size>8388608</size><filename>APP_B</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
}
layout board.xml 1048576 ab
layout swapped.xml 1048576 ba
layout moved.xml 2097152 ab
head -c 600000 /dev/urandom >fw1.bin
head -c 600000 /dev/urandom >fw2.bin
head -c 4000000 /dev/urandom >app1.img
head -c 4000000 /dev/urandom >app2.img
head -c 300000 /dev/urandom >kernel
"$mi" --bootimg boot.img --kernel kernel --no-ramdisk --cmdline "console=ttyAMA0" >/dev/null
"$mk" keygen k >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
pkg() { # OUT VERSION LAYOUT FW APP
	"$mk" build -q -o "$1" --layout "$3" --key k.key --system-version "$2" --variants variants.txt \
		--file FW_A="$4" --file FW_B="$4" --file APP_A="$5" --file APP_B="$5" \
		--file KERNEL_A=boot.img --file KERNEL_B=boot.img --chunk-size 65536
}
pkg v1.sfpkg 1 board.xml fw1.bin app1.img
pkg v2.sfpkg 2 board.xml fw2.bin app2.img
pkg swapped.sfpkg 2 swapped.xml fw2.bin app2.img
pkg moved.sfpkg 2 moved.xml fw2.bin app2.img
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null

truncate -s 64M nvme.img
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
"$fl" flash --package v1.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img >flash.log 2>&1 ||
	{ tail flash.log; exit 1; }
cp qspi.img qspi-flashed.img
mkdir -p esp/loader/entries esp/selfflash/slot-a esp/selfflash/slot-b
printf 'timeout 0\neditor no\n' >esp/loader/loader.conf
for s in a b; do
	r=$([ "$s" = a ] && echo APP || echo APP_b)
	cp kernel esp/selfflash/slot-$s/Image
	printf 'title selfflash slot %s\nsort-key selfflash\nversion 1\nlinux /selfflash/slot-%s/Image\noptions root=PARTLABEL=%s\n# selfflash system-version 1\n' \
		"$s" "$s" "$r" >esp/loader/entries/selfflash-slot-$s.conf
done
cat >board.conf <<CONF
pubkey $tmp/k.pub
eeprom $tmp/agx.eeprom
chip-sku D0
target spi nor-file:$tmp/qspi.img:65536
target nvme block:$tmp/nvme.img
slot-backend systemd-boot
esp $tmp/esp
efivars $tmp/sdvars
update-qspi yes
CONF
sdboot_vars sdvars # systemd-boot booted slot A's entry
snapshot() { rm -rf snap && mkdir snap && cp qspi.img nvme.img snap/ && cp -r esp snap/esp; }
unchanged() { cmp -s qspi.img snap/qspi.img && cmp -s nvme.img snap/nvme.img && diff -r -q esp snap/esp >/dev/null; }
refused() { # NAME REGEX PACKAGE [CONFIG]: refused naming REGEX, every byte as it was
	snapshot
	if ! "$fl" update --config "${4:-board.conf}" --root-partition APP "$3" >"$1.log" 2>&1 &&
		grep -Eq -- "$2" "$1.log" && unchanged; then
		ok "$1"
	else
		not_ok "$1" "$(tail -n 2 "$1.log"); unchanged: $(unchanged && echo yes || echo no)"
	fi
}

# the package's B_fw where the board's A_fw is (the running chain): refused, nothing written
refused qspi_swapped_a_b_refused_nothing_written \
	'qspi.img: partition B_fw is at 1048576 \(1048576 bytes\) on the board, at 0 \(1048576 bytes\) in the package' \
	swapped.sfpkg
# A_fw grown, B_fw moved over the board's uefi_variables: refused naming the first difference
refused qspi_moved_refused_nothing_written \
	'qspi.img: partition A_fw is at 0 \(1048576 bytes\) on the board, at 0 \(2097152 bytes\) in the package' \
	moved.sfpkg
# a QSPI whose GPT is gone: where its partitions are is unknown
dd if=/dev/zero of=qspi.img bs=512 seek=$((8 * 2048 - 1)) count=1 conv=notrunc status=none
refused qspi_without_gpt_refused_nothing_written 'qspi.img: no GPT header in the last sector' v2.sfpkg
cp qspi-flashed.img qspi.img
# the copy in secondary_gpt_backup disagrees with the one at the end
backup_at=$("$mk" layout board.xml | awk '$1 == "spi:0" && $2 == "secondary_gpt_backup" {print $3}')
printf 'X' | dd of=qspi.img bs=1 seek=$((backup_at + 100)) conv=notrunc status=none
refused qspi_gpt_copies_differ_refused_nothing_written 'secondary_gpt_backup .* differs' v2.sfpkg
cp qspi-flashed.img qspi.img

# the same layout: only slot B's QSPI partitions change (its GPT and both copies as they
# were). Slot B held another system's bytes past B_fw's image and in the imageless B_rsv:
# after the update B_fw is fw2 then erased to its end, B_rsv erased, as a flash leaves them.
qspi_at() { dd if=qspi.img iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none; }
at() { "$mk" layout board.xml | awk -v n="$1" '$1 == "spi:0" && $2 == n {print $3}'; }
b_rsv=$(at B_rsv) a_rsv=$(at A_rsv)
ff() { head -c "$1" /dev/zero | tr '\0' '\377'; }
old_system() { # OFFSET LENGTH: another system's bytes there
	head -c "$2" /dev/zero | tr '\0' '\132' | dd of=qspi.img bs=1 seek="$1" conv=notrunc status=none
}
old_system $((1048576 + 600000)) 100000
old_system "$b_rsv" 65536
cp qspi.img qspi-before.img
if "$fl" update --config board.conf --root-partition APP v2.sfpkg >update.log 2>&1 &&
	cmp -s <(qspi_at 0 1048576) <(qspi_at 0 1048576 <qspi-flashed.img) &&
	cmp -s <(qspi_at 1048576 1048576) <(cat fw2.bin; ff $((1048576 - 600000))) &&
	cmp -s <(qspi_at "$a_rsv" 65536) <(ff 65536) && cmp -s <(qspi_at "$b_rsv" 65536) <(ff 65536) &&
	cmp -s <(qspi_at $((b_rsv + 65536)) $((8 * 1048576 - b_rsv - 65536))) \
		<(dd if=qspi-before.img iflag=skip_bytes skip=$((b_rsv + 65536)) status=none); then
	ok same_layout_updates_only_slot_b_whole
else
	not_ok same_layout_updates_only_slot_b_whole "$(tail -n 3 update.log)"
fi

# two targets of one type: each needs its own device, named by instance
sed -e 's/<device type="nvme" instance="0"/<device type="nvme" instance="1"/' \
	-e 's/name="\(APP\|APP_b\|A_kernel\|B_kernel\|esp\)"/name="\1_two"/' \
	-e 's/<filename>[^<]*<\/filename>//' board.xml | sed -n '/type="nvme"/,/<\/device>/p' >second.txt
sed '/<\/partition_layout>/d' board.xml >two.xml
cat second.txt >>two.xml
echo '</partition_layout>' >>two.xml
"$mk" build -q -o two.sfpkg --layout two.xml --key k.key --variants variants.txt --file FW_A=fw1.bin \
	--file FW_B=fw1.bin --file APP_A=app1.img --file APP_B=app1.img --file KERNEL_A=boot.img \
	--file KERNEL_B=boot.img --chunk-size 65536
truncate -s 64M d0.img d1.img
two() { "$fl" flash --package two.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi2.img:65536 "$@"; }
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi2.img
expect_fail two_targets_one_type_need_instances 'two nvme targets \(nvme:0 and nvme:1\)' \
	two --target nvme=block:d0.img
expect_fail two_targets_one_device_refused 'nvme:0 and nvme:1 are both .*d0.img' \
	two --target nvme:0=block:d0.img --target nvme:1=block:d0.img
if two --target nvme:0=block:d0.img --target nvme:1=block:d1.img >two.log 2>&1 &&
	sfdisk --json d1.img | grep -q '"APP_two"' && sfdisk --json d0.img | grep -q '"name": *"APP"'; then
	ok two_targets_each_their_device
else
	not_ok two_targets_each_their_device "$(tail -n 2 two.log)"
fi
finish
