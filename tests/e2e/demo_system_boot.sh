#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo system boots the way the QEMU board boots after a flash: rootfs/build.sh's outputs
# are laid out on the host by rootfs/layout/*.xml (QSPI image, GPT disk), then
# qemu/run-normal.sh runs AAVMF from QSPI offset 0, systemd-boot from the ESP, the kernel,
# and the rootfs of the default slot, whose init reports the slot. Also: the build is
# reproducible, mkflashpkg packages and verifies both layouts, and switching the loader's
# default entry boots slot B.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
kernel=$build/kernel/Image
mkflashpkg=$build/bin/mkflashpkg

missing=()
[ -f "$kernel" ] || missing+=("$kernel (make)")
[ -x "$mkflashpkg" ] || missing+=("$mkflashpkg (make)")
for tool in qemu-system-aarch64 mkfs.vfat mcopy mke2fs sfdisk aarch64-linux-musl-gcc; do
	command -v "$tool" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$tool" >/dev/null ||
		missing+=("$tool (make deps)")
done
for f in /usr/share/qemu-efi-aarch64/QEMU_EFI.fd /usr/lib/systemd/boot/efi/systemd-bootaa64.efi; do
	[ -f "$f" ] || missing+=("$f (make deps)")
done
if [ "${#missing[@]}" -gt 0 ]; then
	skip demo_system_boot "missing: ${missing[*]}"
	exit 0
fi
export PATH=$PATH:/sbin:/usr/sbin MTOOLS_SKIP_CHECK=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the build, twice: same bytes despite another clock second and umask -----------------
rootfs/build.sh --kernel "$kernel" "$tmp/out"
sleep 1
(umask 077 && rootfs/build.sh --kernel "$kernel" "$tmp/again")
differ=()
for f in uefi.fd bct.bin version.txt esp.img app_a.ext4 app_b.ext4; do
	cmp -s "$tmp/out/$f" "$tmp/again/$f" || differ+=("$f")
done
if [ "${#differ[@]}" = 0 ]; then ok build_is_reproducible; else not_ok build_is_reproducible "differ: ${differ[*]}"; fi
out=$tmp/out
echo "# sizes: $(cd "$out" && for f in *; do printf '%s %s (%s KiB used) ' "$f" "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)"; done)"

# ---- mkflashpkg takes both layouts and the files they name -------------------------------
"$mkflashpkg" keygen "$tmp/key" >/dev/null
for dev in qspi disk; do
	extra=()
	[ "$dev" = qspi ] && extra=(--replicate BCT=16384)
	if msg=$("$mkflashpkg" build -q -o "$tmp/$dev.sfpkg" --layout "rootfs/layout/demo_$dev.xml" \
		--dir "$out" --key "$tmp/key.key" "${extra[@]}" 2>&1) &&
		msg=$("$mkflashpkg" verify --pubkey "$tmp/key.pub" "$tmp/$dev.sfpkg" 2>&1); then
		ok "${dev}_layout_packages_and_verifies"
	else
		not_ok "${dev}_layout_packages_and_verifies" "$msg"
	fi
done

# ---- lay the files out as the flasher would, by the layouts' offsets ---------------------
# `mkflashpkg layout` prints: DEVICE NAME OFFSET (HEX) SIZE (HEX) NOTES... [file=NAME]
layout_rows() { # XML -> "name offset size file" per partition
	"$mkflashpkg" layout "$1" | awk 'NR > 1 {
		f = "-"; for (i = 7; i <= NF; i++) if ($i ~ /^file=/) f = substr($i, 6)
		print $2, $3, $5, f }'
}
layout_rows rootfs/layout/demo_qspi.xml >"$tmp/qspi.rows"
layout_rows rootfs/layout/demo_disk.xml >"$tmp/disk.rows"

# QSPI: erased NOR (0xFF), each file at its partition's offset (one BCT copy is enough here)
head -c $((64 << 20)) /dev/zero | tr '\0' '\377' >"$tmp/qspi.img"
while read -r name offset size file; do
	[ "$file" != - ] || continue
	dd if="$out/$file" of="$tmp/qspi.img" bs=64K seek="$offset" oflag=seek_bytes conv=notrunc \
		status=none
done <"$tmp/qspi.rows"
if [ "$(awk '$2 == 0 { print $4 }' "$tmp/qspi.rows")" = uefi.fd ] &&
	cmp -s -n "$(stat -c %s "$out/uefi.fd")" "$out/uefi.fd" "$tmp/qspi.img"; then
	ok qspi_slot_a_firmware_at_offset_0
else
	not_ok qspi_slot_a_firmware_at_offset_0 "layout: $(head -n 1 "$tmp/qspi.rows")"
fi

# disk: 1 GiB like the layout's device, GPT with the layout's names, images at their offsets
make_disk() { # IMAGE ESP_IMAGE
	local img=$1 esp=$2 name offset size file src
	rm -f "$img"
	truncate -s 1G "$img"
	{
		echo "label: gpt"
		echo "unit: sectors"
		while read -r name offset size file; do
			[ "$file" != - ] || continue
			echo "start=$((offset / 512)), size=$((size / 512)), type=$([ "$name" = esp ] && echo U || echo L), name=\"$name\""
		done <"$tmp/disk.rows"
	} | sfdisk -q "$img"
	while read -r name offset size file; do
		[ "$file" != - ] || continue
		src=$out/$file
		[ "$file" != esp.img ] || src=$esp
		dd if="$src" of="$img" bs=1M seek="$offset" oflag=seek_bytes conv=notrunc,sparse \
			status=none
	done <"$tmp/disk.rows"
}

boot() { # NAME DISK -> console in $tmp/NAME.console; prints the seconds it took
	local name=$1 disk=$2 rc start
	start=$(date +%s%N)
	set +e
	qemu/run-normal.sh --qspi "$tmp/qspi.img" --disk "$disk" --timeout 120 \
		--log "$tmp/$name.raw" >/dev/null 2>&1
	rc=$?
	set -e
	# the serial console ends lines with CR LF, and firmware paints with escape sequences
	tr -d '\r' <"$tmp/$name.raw" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' >"$tmp/$name.console"
	sed 's/^/    board: /' "$tmp/$name.console" >&2
	if [ "$rc" = 0 ]; then ok "${name}_qemu_exits_on_its_own"; else not_ok "${name}_qemu_exits_on_its_own" "exit status $rc (124: timed out)"; fi
	local ms=$((($(date +%s%N) - start) / 1000000))
	echo "# $name: power-on to power-off took $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
}

expect_no_line() { # NAME FILE REGEX
	if grep -Eq -- "$3" "$2"; then not_ok "$1" "a line matches /$3/ in $2"; else ok "$1"; fi
}

cp "$out/esp.img" "$tmp/esp_a.img"
make_disk "$tmp/disk_a.img" "$tmp/esp_a.img"
boot slot_a "$tmp/disk_a.img"
c=$tmp/slot_a.console
expect_line slot_a_firmware_boots_from_nvme "$c" '^BdsDxe: starting .*NVMe'
expect_line slot_a_kernel_from_efi_stub "$c" '^EFI stub: Booting Linux Kernel'
expect_line slot_a_init_reports_slot_a "$c" '^selfflash-demo: booted slot A$'
expect_line slot_a_cmdline_from_loader_entry "$c" \
	'^selfflash-demo: cmdline: root=PARTLABEL=APP rootfstype=ext4 rootwait ro console=ttyAMA0 panic=-1$'
expect_line slot_a_powers_off "$c" 'reboot: Power down'

# slot B: the same disk but loader.conf's default is slot B's entry
cp "$out/esp.img" "$tmp/esp_b.img"
mtype -i "$tmp/esp_b.img" ::/loader/loader.conf | sed 's/^default .*/default slot-b.conf/' \
	>"$tmp/loader.conf"
mcopy -o -i "$tmp/esp_b.img" "$tmp/loader.conf" ::/loader/loader.conf
if cmp -s "$tmp/esp_a.img" "$tmp/esp_b.img"; then
	not_ok esp_b_default_entry_edited "editing loader.conf changed nothing"
else
	ok esp_b_default_entry_edited
fi
make_disk "$tmp/disk_b.img" "$tmp/esp_b.img"
boot slot_b "$tmp/disk_b.img"
c=$tmp/slot_b.console
expect_line slot_b_init_reports_slot_b "$c" '^selfflash-demo: booted slot B$'
expect_no_line slot_b_not_slot_a "$c" 'booted slot A'
expect_line slot_b_cmdline_from_loader_entry "$c" '^selfflash-demo: cmdline: root=PARTLABEL=APP_b '
expect_line slot_b_powers_off "$c" 'reboot: Power down'
finish
