#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The flasher on a kernel whose drivers are modules (make kernel-modular), as on a Jetson, with
# everything made by `mkflashpkg l4t` from a Linux_for_Tegra tree that holds that kernel, its
# module tree (modules.dep) and the demo system (tests/l4t/demo_tree.py): the initrd carries
# the .ko files the qemu-virt profile needs with their dependencies, the config names them in
# load order, and the flasher loads them before it looks for any device. The QEMU board is
# flashed over the link in RCM mode with that kernel, initrd and package, and boots what was
# written. Then the ways it goes wrong: a module taken out of the tree is named by mkflashpkg
# (its file, its modules.dep line); a module the config names but the initrd lacks stops the
# flasher before it opens a device, naming the module; a module nobody listed leaves its
# device absent, and the flasher names the device.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
root=$(pwd)
build=$(pwd)/${BUILD:-build}
modular=$build/kernel-modular
for f in "$modular/Image" "$build/rootfs/esp.img" "$build/bin/hostload" "$build/bin/mkinitrd" \
	"$build/bin/mkflashpkg" "$build/board/init" "$build/keys/demo.key"; do
	if [ ! -e "$f" ]; then
		skip modular_kernel "$f missing (make kernel-modular all rootfs)"
		finish
		exit 0
	fi
done
command -v sgdisk >/dev/null || { skip modular_kernel "sgdisk missing (make deps)"; finish; exit 0; }
kvers=("$modular"/modules/lib/modules/*)
if [ "${#kvers[@]}" != 1 ] || [ ! -f "${kvers[0]}/modules.dep" ]; then
	not_ok modular_kernel_has_one_module_tree "${kvers[*]}"
	finish
	exit 1
fi
kver=$(basename "${kvers[0]}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the tree, and what mkflashpkg l4t makes of it
make_tree() { # DIR
	python3 tests/l4t/demo_tree.py --out "$1" --layout rootfs/layout/demo.xml --files "$build/rootfs" \
		--kernel "$modular/Image" --modules "${kvers[0]}" --mkflashpkg "$build/bin/mkflashpkg"
}
make_tree "$tmp/Linux_for_Tegra"
l4t=$tmp/l4t
if "$build/bin/mkflashpkg" l4t "$tmp/Linux_for_Tegra" -o "$l4t" --key "$build/keys/demo.key" \
	--profile qemu-virt >"$tmp/l4t.log" 2>&1; then
	ok mkflashpkg_l4t_makes_kernel_initrd_package
else
	not_ok mkflashpkg_l4t_makes_kernel_initrd_package "$(tail -n 5 "$tmp/l4t.log")"
	finish
	exit 1
fi
grep '^  ' "$tmp/l4t.log" | sed 's/^/# /'
order=$(sed -n 's|^module /lib/modules/\(.*\)\.ko$|\1|p' "$l4t/flasher.conf" | paste -sd' ')

# initrd_without DIR FILE_LEFT_OUT LINE_LEFT_OUT: l4t's initrd again with one module's file
# left out of it (the config still naming it), or its config line and file both left out
initrd_without() {
	local dir=$1 file=$2 line=$3 args=() m
	mkdir -p "$dir"
	grep -v "^module /lib/modules/$line\.ko\$" "$l4t/flasher.conf" >"$dir/flasher.conf"
	while read -r _ m; do
		m=${m##*/}
		[ "${m%.ko}" = "$file" ] || [ "${m%.ko}" = "$line" ] || args+=(--module "$l4t/modules/$m")
	done < <(grep '^module ' "$l4t/flasher.conf")
	SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o "$dir/flasher.cpio.gz" --init "$build/board/init" \
		--config "$dir/flasher.conf" --pubkey "$build/keys/demo.pub" "${args[@]}" >/dev/null
}

# fresh_board DIR: an erased QSPI and an empty disk, as from the factory
fresh_board() {
	head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >"$1/qspi.img"
	rm -f "$1/nvme.img"
	truncate -s 1G "$1/nvme.img"
}

# flash DIR: hostload boots the board with the modular kernel and DIR's initrd and serves it
# the package; hostload's output in DIR/hostload.out, the console in DIR/console.log
flash() {
	"$build/bin/hostload" rcm --qemu --kernel "$l4t/Image" --initrd "$1/flasher.cpio.gz" \
		--qspi "$1/qspi.img" --disk "$1/nvme.img" --eeprom "$tmp/agx.eeprom" --chip-sku D0 \
		--console "$1/console.log" --log "$1/board.log" --timeout 120 \
		"$l4t/package.sfpkg" >"$1/hostload.out" 2>&1
}

"$build/bin/mkflashpkg" eeprom -o "$tmp/agx.eeprom" --part-number "699-13701-0005-500 M.0" \
	--serial 1424321012345 >/dev/null

# 1. every module loaded, then the devices seen, the flash, and a normal boot of what it wrote
good=$tmp/good
mkdir -p "$good"
cp "$l4t/initrd.cpio.gz" "$good/flasher.cpio.gz"
echo "# modules in load order: $order"
fresh_board "$good"
start=$(date +%s.%N)
if flash "$good"; then
	ok "flash_with_modules_in_$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")s"
else
	not_ok flash_with_modules "$(tail -5 "$good/hostload.out")"
fi
tr -d '\r' <"$good/console.log" >"$good/console.txt"
loaded=$(sed -n 's|^flasher: module /lib/modules/\(.*\)\.ko loaded$|\1|p' "$good/console.txt" | paste -sd' ')
if [ "$loaded" = "$order" ]; then
	ok "modules_loaded_in_order ($(wc -w <<<"$order") modules)"
else
	not_ok modules_loaded_in_order "loaded: '$loaded', expected: '$order'"
fi
# the inventory is the first look at the devices: it must come after the last module
last_module=$(grep -n '^flasher: module ' "$good/console.txt" | tail -n1 | cut -d: -f1)
first_inventory=$(grep -n '^inventory: ' "$good/console.txt" | head -n1 | cut -d: -f1)
if [ -n "$last_module" ] && [ -n "$first_inventory" ] && [ "$last_module" -lt "$first_inventory" ]; then
	ok modules_loaded_before_devices_are_looked_for
else
	not_ok modules_loaded_before_devices_are_looked_for "last module line ${last_module:-?}, first inventory line ${first_inventory:-?}"
fi
expect_line inventory_sees_qspi_from_modules "$good/console.txt" '^inventory: mtd mtd0 name="[^"]*" type=nor size=134217728 erasesize=262144$'
expect_line inventory_sees_nvme_from_modules "$good/console.txt" '^inventory: block nvme0n1 size=1073741824$'
expect_line inventory_sees_eeprom_from_modules "$good/console.txt" '^inventory: eeprom present at /sys/firmware/qemu_fw_cfg/'
expect_line flash_succeeds_over_the_link "$good/hostload.out" 'SUCCESS: done: [0-9]+ bytes written'
"$build/bin/mkflashpkg" layout rootfs/layout/demo.xml >"$tmp/layout.txt"
offset_of() { awk -v d="$1" -v p="$2" '$1 == d && $2 == p { print $3 }' "$tmp/layout.txt"; }
same_at() { # image device partition file
	local at
	at=$(offset_of "$2" "$3")
	[ -n "$at" ] && cmp -s -n "$(stat -c %s "$4")" "$4" \
		<(dd if="$1" iflag=skip_bytes,count_bytes skip="$at" count="$(stat -c %s "$4")" status=none)
}
if same_at "$good/qspi.img" spi:0 A_cpu-bootloader "$build/rootfs/uefi.fd" &&
	same_at "$good/nvme.img" nvme:0 APP "$build/rootfs/app.ext4"; then
	ok qspi_and_disk_hold_the_package
else
	not_ok qspi_and_disk_hold_the_package
fi
# the flashed system boots with its own kernel (the plain one, from its ESP)
qemu/run-normal.sh --qspi "$good/qspi.img" --disk "$good/nvme.img" --eeprom "$tmp/agx.eeprom" \
	--chip-sku D0 --timeout 300 --log "$good/boot.log" >/dev/null 2>&1 || true
expect_line flashed_board_boots_slot_A "$good/boot.log" 'selfflash-demo: booted slot A \(system version 1\)'

# nothing_written NAME DIR: the board's QSPI is still erased and its disk still empty
nothing_written() {
	if cmp -s "$2/qspi.img" <(head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '\377') &&
		cmp -s "$2/nvme.img" <(head -c $((1024 * 1024 * 1024)) /dev/zero); then
		ok "$1"
	else
		not_ok "$1"
	fi
}

# 2. the config names nvme.ko, the initrd lacks it: stopped before any device, naming it
case_dir=$tmp/missing-file
initrd_without "$case_dir" nvme ""
fresh_board "$case_dir"
if flash "$case_dir"; then not_ok missing_module_file_fails "the flash succeeded"; else ok missing_module_file_fails; fi
expect_line missing_module_file_named_by_hostload "$case_dir/hostload.out" \
	'module nvme\.ko: not in the initrd \(/lib/modules/nvme\.ko: No such file or directory\)'
expect_line missing_module_file_nothing_written_said "$case_dir/console.log" '^flasher: nothing was written'
nothing_written missing_module_file_writes_nothing "$case_dir"

# 3. a module nobody listed: its device never appears, and the flasher names the device
# unlisted NAME MODULE REGEX: the initrd without MODULE (file and config line); hostload must say REGEX
unlisted() {
	local name=$1 left=$2 regex=$3 dir=$tmp/$1
	initrd_without "$dir" "" "$left"
	fresh_board "$dir"
	if flash "$dir"; then not_ok "${name}_fails" "the flash succeeded"; else ok "${name}_fails"; fi
	expect_line "${name}_names_the_device" "$dir/hostload.out" "$regex"
	nothing_written "${name}_writes_nothing" "$dir"
}
unlisted unlisted_nvme nvme "external:0: target 'block:/dev/nvme0n1': /dev/nvme0n1 did not appear within 10 s"
# physmap loads, but its probe asks for cfi_probe by name (request_module), which no modprobe
# answers: no /dev/mtd0
unlisted unlisted_cfi_probe cfi_probe "spi:0: target 'mtd:/dev/mtd0@67108864': /dev/mtd0 did not appear within 10 s"
unlisted unlisted_virtio_console virtio_console 'no virtio-serial driver \(/sys/class/virtio-ports is missing\): virtio_console'

# 4. a module taken out of the tree: mkflashpkg l4t names it and makes nothing
make_tree "$tmp/no-physmap"
rm "$tmp/no-physmap/rootfs/lib/modules/$kver/kernel/drivers/mtd/maps/physmap.ko"
expect_fail tree_without_module_file_named 'module physmap: .*physmap.ko is missing' \
	"$build/bin/mkflashpkg" l4t "$tmp/no-physmap" -o "$tmp/no-physmap-out" --key "$build/keys/demo.key" \
	--profile qemu-virt
sed -i '/physmap.ko:/d' "$tmp/no-physmap/rootfs/lib/modules/$kver/modules.dep"
expect_fail tree_without_module_line_named 'needs module physmap for the QSPI stand-in' \
	"$build/bin/mkflashpkg" l4t "$tmp/no-physmap" -o "$tmp/no-physmap-out" --key "$build/keys/demo.key" \
	--profile qemu-virt
[ ! -e "$tmp/no-physmap-out/package.sfpkg" ] && ok tree_without_module_writes_no_package ||
	not_ok tree_without_module_writes_no_package
finish
