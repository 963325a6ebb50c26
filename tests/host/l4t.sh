#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkflashpkg l4t on Linux_for_Tegra trees shaped like NVIDIA's (tests/l4t/make_tree.py: R35.3.1,
# R36.3, R36.4, the rootfs as NVIDIA's tar and as its sparse image): one command gives package,
# kernel, initrd and bundle; the package flashes natively onto a NOR file and a disk file, and
# what lands there is what NVIDIA's images say (tests/l4t/check_flash.py); the initrd holds the
# modules in load order and the flasher's settings; hostload takes the bundle (dry run). And
# what is missing is named with what makes it, nothing written: an index, a module (file or
# modules.dep line), a bundle for another module. Without ../shared/fixtures: skipped, visibly.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
root=$(pwd)
mk=$root/$build/bin/mkflashpkg
fl=$root/$build/bin/flasher
hl=$root/$build/bin/hostload
gen=$root/tests/l4t/make_tree.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

set +e
python3 "$gen" --release r36.4 --out probe 2>probe.err >/dev/null
rc=$?
set -e
if [ "$rc" -eq 77 ]; then
	skip l4t "$(cat probe.err)"
	finish
	exit 0
fi
rm -rf probe
"$mk" keygen k >/dev/null
# the generated trees are for an AGX Orin 64GB devkit module: 3701 SKU 0000 (TNSPEC)
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0000-500 M.0" --serial 1 >/dev/null

# flash_tree NAME RELEASE STRIDE [generator options]: generate, convert, flash, compare
flash_tree() {
	local name=$1 release=$2 stride=$3 t out
	shift 3
	t=$tmp/$name/Linux_for_Tegra
	out=$tmp/$name/out
	mkdir -p "$tmp/$name"
	python3 "$gen" --release "$release" --out "$t" "$@" >/dev/null
	if "$mk" l4t "$t" -o "$out" --key k.key ${BUNDLE_OPTS:-} \
		${SYSTEM_VERSION:+--system-version "$SYSTEM_VERSION"} >"$tmp/$name.log" 2>&1; then
		ok "${name}_one_command_makes_everything"
	else
		not_ok "${name}_one_command_makes_everything" "$(tail -n 5 "$tmp/$name.log")"
		return
	fi
	for f in package.sfpkg Image initrd.cpio.gz; do
		[ -s "$out/$f" ] || not_ok "${name}_made_$f" "$out/$f missing"
	done
	cmp -s "$out/Image" "$t/kernel/Image" && ok "${name}_kernel_is_the_trees" ||
		not_ok "${name}_kernel_is_the_trees" "Image differs from kernel/Image"
	"$mk" verify --pubkey k.pub "$out/package.sfpkg" >/dev/null 2>&1 &&
		ok "${name}_package_signed_and_whole" || not_ok "${name}_package_signed_and_whole"

	# the initrd: every module in the config's order, each in the initrd, deps first
	zcat "$out/initrd.cpio.gz" | cpio -i --quiet -D "$tmp/$name/initrd" --make-directories 2>/dev/null ||
		{ mkdir -p "$tmp/$name/initrd" && (cd "$tmp/$name/initrd" && zcat "$out/initrd.cpio.gz" | cpio -i --quiet -d); }
	local conf=$tmp/$name/initrd/etc/selfflash/flasher.conf missing=0 m
	while read -r key path; do
		[ "$key" = module ] || continue
		[ -f "$tmp/$name/initrd$path" ] || missing=$((missing + 1))
	done <"$conf"
	[ "$missing" = 0 ] && grep -q '^target spi mtd:/dev/mtd0$' "$conf" &&
		grep -q '^target external block:/dev/nvme0n1$' "$conf" && grep -q '^link usb-gadget:$' "$conf" &&
		ok "${name}_initrd_holds_modules_and_settings" ||
		not_ok "${name}_initrd_holds_modules_and_settings" "$missing modules missing; $(cat "$conf")"
	# modules.dep order: mtd before the QSPI flash driver, libcomposite before usb_f_fs
	m=$(grep -n '^module' "$conf" | tr '\n' ' ')
	if [[ "$m" =~ /mtd\.ko.*/(spi-nor|qspi_mtd)\.ko ]] && { ! grep -q libcomposite "$conf" ||
		[[ "$m" =~ libcomposite\.ko.*usb_f_fs\.ko ]]; }; then
		ok "${name}_modules_in_load_order"
	else
		not_ok "${name}_modules_in_load_order" "$m"
	fi

	# flash natively: the QSPI as a 64 MiB NOR file, the disk as a sparse file of its size
	local disk_bytes
	disk_bytes=$(awk -F', ' 'END { printf "%.0f\n", $3 + $4 }' "$t/tools/kernel_flash/images/external/flash.idx")
	truncate -s "$disk_bytes" "$tmp/$name/disk.img"
	python3 -c "import sys; open(sys.argv[1], 'wb').write(b'\xff' * (64 << 20))" "$tmp/$name/qspi.img"
	if "$fl" flash --package "$out/package.sfpkg" --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target spi=nor-file:"$tmp/$name/qspi.img":65536 --target external=block:"$tmp/$name/disk.img" \
		>"$tmp/$name.flash" 2>&1; then
		ok "${name}_flashes"
	else
		not_ok "${name}_flashes" "$(tail -n 5 "$tmp/$name.flash")"
		return
	fi
	# a tegra board records a first-flashed slot's version from its rootfs's own file
	if [ -n "${SYSTEM_VERSION:-}" ]; then
		grep -q "^rootfs: /etc/selfflash/system-version added: $SYSTEM_VERSION " "$tmp/$name.log" &&
			grep -q "^rootfs APP .*system-version put in" "$tmp/$name.log" &&
			ok "${name}_says_it_puts_the_version_file_in" ||
			not_ok "${name}_says_it_puts_the_version_file_in" "$(grep -i version "$tmp/$name.log")"
	fi
	python3 "$root/tests/l4t/check_flash.py" "$t" "$tmp/$name/qspi.img" "$tmp/$name/disk.img" "$stride" \
		${SYSTEM_VERSION:-} |
		sed "s/^ok /ok ${name}_/; s/^not ok /not ok ${name}_/" >"$tmp/$name.check" || true
	cat "$tmp/$name.check"
	failures=$((failures + $(grep -c '^not ok' "$tmp/$name.check" || true)))

	if [ -d "$out/rcm-bundle" ]; then
		"$hl" rcm --usb --bundle "$out/rcm-bundle" --kernel "$out/Image" --initrd "$out/initrd.cpio.gz" \
			--dry-run >"$tmp/$name.rcm" 2>&1 &&
			ok "${name}_hostload_takes_the_bundle" ||
			not_ok "${name}_hostload_takes_the_bundle" "$(tail -n 3 "$tmp/$name.rcm")"
	fi
	rm -f "$tmp/$name/disk.img" "$tmp/$name/qspi.img"
}

# --system-version: the tar's ext4 gets /etc/selfflash/system-version, and nothing else
SYSTEM_VERSION=7 flash_tree r36_4_ab_tar r36.4 16384 --ab
flash_tree r36_3_sparse r36.3 16384 --ab --sparse-rootfs
BUNDLE_OPTS=--no-bundle flash_tree r35_3_1_tar r35.3.1 65536

# a tar that already says another version is refused (the board would record that one)
python3 "$gen" --release r36.4 --out vtar >/dev/null
vdir=vtar/tools/kernel_flash/images/external
vfile=$(sed -n 's/^APP_ext=//p' "$vdir/flash.cfg")
mkdir -p vextra/etc/selfflash
echo 6 >vextra/etc/selfflash/system-version
cp "$vdir/$vfile" vtar.tar
tar --owner=0 --group=0 -rf vtar.tar -C vextra ./etc/selfflash/system-version
expect_fail tar_saying_another_version_refused \
	"system-version says 6, --system-version 7: a tegra board would record 6" \
	"$mk" l4t vtar -o vtar-out --key k.key --rootfs vtar.tar --system-version 7

# R35 makes no RCM bundle offline: named, with the live rcmboot that makes one
python3 "$gen" --release r35.3.1 --out r35 >/dev/null
expect_fail r35_without_bundle_names_the_rcmboot 'flash.sh --rcm-boot jetson-agx-orin-devkit' \
	"$mk" l4t r35 -o r35-out --key k.key
[ ! -e r35-out ] && ok r35_without_bundle_writes_nothing || not_ok r35_without_bundle_writes_nothing

# ... and with the files a live rcmboot leaves (NVIDIA's default names, no command file)
python3 "$gen" --release r36.4 --out live >/dev/null
mkdir rcmboot
cp live/bootloader/rcmboot_blob/* rcmboot/
rm rcmboot/rcmbootcmd.txt
if "$mk" l4t r35 -o r35-live --key k.key --bundle rcmboot >r35-live.log 2>&1 &&
	grep -q "^./tegrarcm_v2 --chip 0x23 0 --pollbl --download bct_mem mem_rcm_sigheader.bct.encrypt --download blob blob.bin$" \
		r35-live/rcm-bundle/rcmbootcmd.txt &&
	"$hl" rcm --usb --bundle r35-live/rcm-bundle --kernel r35-live/Image --initrd r35-live/initrd.cpio.gz \
		--dry-run >r35-live.rcm 2>&1; then
	ok r35_with_a_live_rcmboots_files
else
	not_ok r35_with_a_live_rcmboots_files "$(tail -n 3 r35-live.log r35-live.rcm 2>/dev/null)"
fi

# a missing index: named with NVIDIA's command, for that release's layout paths
python3 "$gen" --release r36.4 --out noidx --omit tools/kernel_flash/images/external/flash.idx >/dev/null
expect_fail missing_index_names_nvidias_command \
	'ROOTFS_AB=1 ./tools/kernel_flash/l4t_initrd_flash.sh --no-flash' "$mk" l4t noidx -o noidx-out --key k.key
[ ! -e noidx-out ] && ok missing_index_writes_nothing || not_ok missing_index_writes_nothing

# a needed module taken out of the tree: its file, or its modules.dep line
kdir=$(cd "$tmp/r36_4_ab_tar/Linux_for_Tegra/rootfs/lib/modules" && ls)
python3 "$gen" --release r36.4 --out nomod --omit "rootfs/lib/modules/$kdir/kernel/drivers/mtd/spi-nor/spi-nor.ko" >/dev/null
expect_fail missing_module_file_is_named 'module spi_nor: .*spi-nor.ko is missing' \
	"$mk" l4t nomod -o nomod-out --key k.key
sed -i '/spi-nor.ko:/d; /qspi_mtd/d' "nomod/rootfs/lib/modules/$kdir/modules.dep"
expect_fail missing_module_line_is_named 'needs module spi_nor or qspi_mtd for the QSPI flash' \
	"$mk" l4t nomod -o nomod-out --key k.key
[ ! -e nomod-out/package.sfpkg ] && ok missing_module_writes_no_package ||
	not_ok missing_module_writes_no_package

# a bundle for another module (an Orin Nano's DTB in its blob) is refused
python3 "$gen" --release r36.4 --out otherbundle >/dev/null
python3 -c "
import sys; sys.path.insert(0, '$root/tests/l4t')
from dtb import make_dtb, make_blob
open('otherbundle/bootloader/rcmboot_blob/blob.bin', 'wb').write(make_blob([(46,
    make_dtb(['nvidia,p3768-0000+p3767-0005', 'nvidia,p3767-0005', 'nvidia,tegra234']))]))"
expect_fail bundle_for_another_module_refused 'p3767-0005.*images are for module 3701' \
	"$mk" l4t otherbundle -o other-out --key k.key

# names that become settings lines or pasted commands are checked
expect_fail hostile_external_refused 'is not a block device name' \
	"$mk" l4t live -o hx --key k.key --external "$(printf 'nvme0n1\nlink tcp:1')"
expect_fail hostile_board_refused "expected NVIDIA's board configuration name" \
	"$mk" l4t live -o hx --key k.key --board 'x;rm -rf ~'

# NVIDIA's GPT file and the index disagree about a partition: refused, naming both
python3 "$gen" --release r36.4 --out gptdiff >/dev/null
idx=gptdiff/tools/kernel_flash/images/external/flash.idx
awk -F', ' 'BEGIN { OFS = ", " } $2 ~ /:UDA$/ { $4 = $4 - 512 } { print }' "$idx" >"$idx.new"
mv "$idx.new" "$idx"
expect_fail gpt_file_disagreeing_with_index_refused 'puts UDA at LBA .* the two disagree' \
	"$mk" l4t gptdiff -o gptdiff-out --key k.key

# --check reports and writes nothing
python3 "$gen" --release r36.4 --out checkonly >/dev/null
expect_exit check_only_reports 0 'Everything is there' "$mk" l4t checkonly --check
[ ! -e checkonly-out ] && ok check_only_writes_nothing || not_ok check_only_writes_nothing
finish
