#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The flasher on a kernel whose drivers are modules (make kernel-modular), as on a Jetson: the
# initrd carries the .ko files of qemu/flasher-modules.txt and their dependencies, the config
# names them (`module` lines) and the flasher loads them before it looks for any device. The
# QEMU board is flashed over the link in RCM mode with that kernel and boots what was written.
# Then the ways it goes wrong: a module the config names but the initrd lacks stops the flasher
# before it opens a device, naming the module; a module nobody listed leaves its device absent,
# and the flasher names the device (the QSPI when physmap's chip probe is missing, though
# physmap itself loads; the disk; the link).
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
kvers=("$modular"/modules/lib/modules/*)
if [ "${#kvers[@]}" != 1 ] || [ ! -f "${kvers[0]}/modules.dep" ]; then
	not_ok modular_kernel_has_one_module_tree "${kvers[*]}"
	finish
	exit 1
fi
kver=$(basename "${kvers[0]}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The roots the flasher needs on this board, in load order (comments and blank lines dropped).
roots=()
while read -r m _; do roots+=("$m"); done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' qemu/flasher-modules.txt)

# make_flasher_initrd DIR LEAVE_OUT ROOT... : DIR/flasher.cpio.gz and DIR/flasher.conf for the
# QEMU board flashed over the link, carrying each root and what it depends on, resolved with
# kmod's modprobe from the kernel's modules.dep (the initrd has no modprobe: the config names
# each file in load order). LEAVE_OUT (a module name, or "") stays out of the initrd though the
# config still names it. Prints the module names in load order.
make_flasher_initrd() {
	local dir=$1 leave_out=$2 root line path name args=() order=()
	shift 2
	mkdir -p "$dir"
	{
		echo "# the QEMU board in RCM mode, its drivers loaded from the initrd"
		for root in "$@"; do
			while read -r line; do
				case "$line" in "insmod "*) ;; *) continue ;; esac
				path=${line#insmod }
				path=${path%% *}
				name=$(basename "$path" .ko)
				[[ " ${order[*]} " != *" $name "* ]] || continue
				order+=("$name")
				echo "module /lib/modules/$name.ko"
				[ "$name" = "$leave_out" ] || args+=(--module "$path")
			done < <(modprobe -d "$modular/modules" -S "$kver" --show-depends "$root")
		done
		cat <<'CONF'
link virtio:selfflash.link
pubkey /etc/selfflash/pubkey.pem
target spi mtd:/dev/mtd0@67108864
target nvme block:/dev/nvme0n1
on-failure poweroff
CONF
	} >"$dir/flasher.conf"
	SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o "$dir/flasher.cpio.gz" --init "$build/board/init" \
		--config "$dir/flasher.conf" --pubkey "$build/keys/demo.pub" "${args[@]}" >&2
	echo "${order[*]}"
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
	"$build/bin/hostload" rcm --qemu --kernel "$modular/Image" --initrd "$1/flasher.cpio.gz" \
		--qspi "$1/qspi.img" --disk "$1/nvme.img" --eeprom "$tmp/agx.eeprom" --chip-sku D0 \
		--console "$1/console.log" --log "$1/board.log" --timeout 120 \
		"$tmp/demo.sfpkg" >"$1/hostload.out" 2>&1
}

"$build/bin/mkflashpkg" build -q -o "$tmp/demo.sfpkg" --layout rootfs/layout/demo.xml \
	--dir "$build/rootfs" --key "$build/keys/demo.key" --replicate BCT=16384
"$build/bin/mkflashpkg" eeprom -o "$tmp/agx.eeprom" --part-number "699-13701-0005-500 M.0" \
	--serial 1424321012345 >/dev/null

# 1. every module loaded, then the devices seen, the flash, and a normal boot of what it wrote
good=$tmp/good
order=$(make_flasher_initrd "$good" "" "${roots[@]}")
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
make_flasher_initrd "$case_dir" nvme "${roots[@]}" >/dev/null
fresh_board "$case_dir"
if flash "$case_dir"; then not_ok missing_module_file_fails "the flash succeeded"; else ok missing_module_file_fails; fi
expect_line missing_module_file_named_by_hostload "$case_dir/hostload.out" \
	'module nvme\.ko: not in the initrd \(/lib/modules/nvme\.ko: No such file or directory\)'
expect_line missing_module_file_nothing_written_said "$case_dir/console.log" '^flasher: nothing was written'
nothing_written missing_module_file_writes_nothing "$case_dir"

# 3. a module nobody listed: its device never appears, and the flasher names the device
# unlisted NAME ROOT_LEFT_OUT REGEX: the roots without ROOT_LEFT_OUT; hostload must say REGEX
unlisted() {
	local name=$1 left=$2 regex=$3 dir=$tmp/$1 r kept=()
	for r in "${roots[@]}"; do [ "$r" = "$left" ] || kept+=("$r"); done
	make_flasher_initrd "$dir" "" "${kept[@]}" >/dev/null
	fresh_board "$dir"
	if flash "$dir"; then not_ok "${name}_fails" "the flash succeeded"; else ok "${name}_fails"; fi
	expect_line "${name}_names_the_device" "$dir/hostload.out" "$regex"
	nothing_written "${name}_writes_nothing" "$dir"
}
unlisted unlisted_nvme nvme "nvme:0: target 'block:/dev/nvme0n1': /dev/nvme0n1 did not appear within 10 s"
# physmap loads, but its probe asks for cfi_probe by name (request_module), which no modprobe
# answers: no /dev/mtd0
unlisted unlisted_cfi_probe cfi_probe "spi:0: target 'mtd:/dev/mtd0@67108864': /dev/mtd0 did not appear within 10 s"
unlisted unlisted_virtio_console virtio_console 'no virtio-serial driver \(/sys/class/virtio-ports is missing\): virtio_console'
finish
