#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo system boots the way the QEMU board boots after a flash: rootfs/build.sh's outputs
# are laid out on the host by rootfs/layout/*.xml (QSPI image, GPT disk), then
# qemu/run-normal.sh runs AAVMF from QSPI offset 0, systemd-boot from the ESP, the kernel,
# and the rootfs of the first loader entry, whose init reports the slot. Also: the build is
# reproducible, the ESP keeps to the systemd-boot backend's contract, mkflashpkg packages and
# verifies both layouts, an entry with no tries left (+0-3) makes systemd-boot boot slot B
# from the same image, and the init runs the host's fw_cfg command and reboots; a --broken
# system does not confirm its slot.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
kernel=$build/kernel/Image
mkflashpkg=$build/bin/mkflashpkg

missing=()
[ -f "$kernel" ] || missing+=("$kernel (make)")
[ -x "$mkflashpkg" ] || missing+=("$mkflashpkg (make)")
[ -x "$build/bin/mkinitrd" ] || missing+=("$build/bin/mkinitrd (make)")
[ -x "$build/bin/hostload" ] || missing+=("$build/bin/hostload (make)")
[ -f "$build/board/init" ] || missing+=("$build/board/init (make)")
[ -f "$build/keys/demo.pub" ] || missing+=("$build/keys/demo.pub (make rootfs)")
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
build_rootfs() { # OUTDIR [OPTIONS...]
	local dir=$1
	shift
	rootfs/build.sh --kernel "$kernel" --flasher "$build/board/init" \
		--mkinitrd "$build/bin/mkinitrd" --pubkey "$build/keys/demo.pub" "$@" "$dir"
}
build_rootfs "$tmp/out"
sleep 1
(umask 077 && build_rootfs "$tmp/again")
differ=()
for f in uefi.fd bct.bin version.txt esp.img boot.img app.ext4; do
	cmp -s "$tmp/out/$f" "$tmp/again/$f" || differ+=("$f")
done
if [ "${#differ[@]}" = 0 ]; then ok build_is_reproducible; else not_ok build_is_reproducible "differ: ${differ[*]}"; fi
out=$tmp/out

# ---- what is inside: the userland, the ESP contract, the kernel's boot image ---------------
ext4_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
if cmp -s <(ext4_cat "$out/app.ext4" /usr/sbin/selfflash) "$build/board/init" &&
	cmp -s <(ext4_cat "$out/app.ext4" /etc/selfflash/pubkey.pem) "$build/keys/demo.pub" &&
	[ "$(ext4_cat "$out/app.ext4" /etc/selfflash/system-version)" = 1 ] &&
	ext4_cat "$out/app.ext4" /etc/selfflash/selfflash.conf | grep -q '^slot-backend systemd-boot$' &&
	debugfs -R "stat /boot/efi" "$out/app.ext4" 2>/dev/null | grep -q 'Type: directory' &&
	! debugfs -R "stat /etc/selfflash/broken" "$out/app.ext4" 2>/dev/null | grep -q 'Type:'; then
	ok rootfs_has_selfflash_key_config_and_version
else
	not_ok rootfs_has_selfflash_key_config_and_version
fi
esp_entry() { # SLOT GENERATION PARTITION VERSION: the entry the ESP contract prescribes
	printf '%-10s %s\n' title "selfflash slot ${1^^}, system version $4" sort-key selfflash \
		version "$2" linux "/selfflash/slot-$1/Image" \
		options "root=PARTLABEL=$3 rootfstype=ext4 rootwait ro console=ttyAMA0 panic=-1"
	printf '# selfflash system-version %s\n' "$4"
}
if [ "$(mtype -i "$out/esp.img" ::/loader/loader.conf)" = "$(printf 'timeout 0\neditor no')" ] &&
	[ "$(mtype -i "$out/esp.img" ::/loader/entries/selfflash-slot-a.conf)" = "$(esp_entry a 2 APP 1)" ] &&
	[ "$(mtype -i "$out/esp.img" ::/loader/entries/selfflash-slot-b.conf)" = "$(esp_entry b 1 APP_b 1)" ] &&
	[ "$(mdir -b -i "$out/esp.img" ::/loader/entries | wc -l)" = 2 ] &&
	cmp -s <(mtype -i "$out/esp.img" ::/selfflash/slot-a/Image) "$kernel" &&
	cmp -s <(mtype -i "$out/esp.img" ::/selfflash/slot-b/Image) "$kernel" &&
	! mdir -i "$out/esp.img" ::/selfflash/slot-a/initrd >/dev/null 2>&1; then
	ok esp_follows_the_contract
else
	not_ok esp_follows_the_contract "$(mdir -/ -b -i "$out/esp.img" ::)"
fi
ksize=$(stat -c %s "$kernel")
if [ "$(head -c 8 "$out/boot.img")" = 'ANDROID!' ] &&
	[ "$(od -An -tu4 -j8 -N4 "$out/boot.img" | tr -d ' ')" = "$ksize" ] &&
	[ "$(od -An -tu4 -j16 -N4 "$out/boot.img" | tr -d ' ')" = 0 ] &&
	[ "$(dd if="$out/boot.img" bs=1 skip=64 count=512 status=none | tr -d '\0')" = \
		'rootfstype=ext4 rootwait ro console=ttyAMA0 panic=-1' ] &&
	cmp -s <(dd if="$out/boot.img" bs=2048 skip=1 status=none | head -c "$ksize") "$kernel"; then
	ok boot_image_holds_kernel_and_cmdline_no_ramdisk
else
	not_ok boot_image_holds_kernel_and_cmdline_no_ramdisk
fi
# version 7, broken: the same build with another version file, a marker, and entries naming 7
build_rootfs "$tmp/v7" --system-version 7 --broken
if [ "$(ext4_cat "$tmp/v7/app.ext4" /etc/selfflash/system-version)" = 7 ] &&
	debugfs -R "stat /etc/selfflash/broken" "$tmp/v7/app.ext4" 2>/dev/null | grep -q 'Type: regular' &&
	[ "$(mtype -i "$tmp/v7/esp.img" ::/loader/entries/selfflash-slot-a.conf)" = "$(esp_entry a 2 APP 7)" ] &&
	cmp -s "$out/boot.img" "$tmp/v7/boot.img"; then
	ok rootfs_system_version_and_broken
else
	not_ok rootfs_system_version_and_broken
fi
expect_fail rootfs_rejects_bad_version "expected a decimal number" build_rootfs "$tmp/bad" --system-version 1x

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

boot_args=() # more options for qemu/run-normal.sh
boot() { # NAME DISK -> console in $tmp/NAME.console; prints the seconds it took
	local name=$1 disk=$2 rc start
	start=$(date +%s%N)
	set +e
	qemu/run-normal.sh --qspi "$tmp/qspi.img" --disk "$disk" --timeout 120 \
		--log "$tmp/$name.raw" "${boot_args[@]}" >/dev/null 2>&1
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

esp_clean() { # NAME ESP_IMAGE: the init mounted it read-write; it must come back clean
	if msg=$(fsck.vfat -n "$2" 2>&1); then ok "$1"; else not_ok "$1" "$msg"; fi
}

cp "$out/esp.img" "$tmp/esp_a.img"
make_disk "$tmp/disk_a.img" "$tmp/esp_a.img"
boot slot_a "$tmp/disk_a.img"
c=$tmp/slot_a.console
expect_line slot_a_firmware_boots_from_nvme "$c" '^BdsDxe: starting .*NVMe'
expect_line slot_a_kernel_from_efi_stub "$c" '^EFI stub: Booting Linux Kernel'
expect_line slot_a_init_reports_slot_a "$c" '^selfflash-demo: booted slot A \(system version 1\)$'
expect_line slot_a_cmdline_from_loader_entry "$c" \
	'^selfflash-demo: cmdline: root=PARTLABEL=APP rootfstype=ext4 rootwait ro console=ttyAMA0 panic=-1$'
expect_line slot_a_mounts_the_esp "$c" '^selfflash-demo: ESP /dev/nvme0n1p1 mounted on /boot/efi \(read-only until something must change\)$'
# the clock comes from the RTC (UEFI's GetTime: TLS checks certificate dates against it); a
# boot without qemu/run-normal.sh --net says it has no NIC and goes on
expect_line slot_a_clock_from_rtc "$c" "^selfflash-demo: clock: $(date -u +%Y)-[0-9-]+ [0-9:]+ UTC \(set from the RTC\)$"
expect_line slot_a_says_no_nic "$c" '^selfflash-demo: network: no NIC'
# the verdict depends on whether this selfflash has mark-good yet; that it ran is the init's part
expect_line slot_a_runs_mark_good "$c" '^selfflash-demo: mark-good: (slot A confirmed|FAILED \(exit status [0-9]+\))'
expect_line slot_a_powers_off "$c" 'reboot: Power down'
read -r esp_offset esp_size < <(awk '$1 == "esp" { print $2, $3 }' "$tmp/disk.rows")
dd if="$tmp/disk_a.img" of="$tmp/esp_a_after.img" bs=1M iflag=skip_bytes,count_bytes \
	skip="$esp_offset" count="$esp_size" status=none
esp_clean slot_a_esp_clean_after_boot "$tmp/esp_a_after.img"

# slot B: the same disk, but slot A's entry has no tries left (+0-3: bad), so systemd-boot's
# sort order puts it last and boots slot B, as after an update that never confirmed
cp "$out/esp.img" "$tmp/esp_b.img"
mren -i "$tmp/esp_b.img" ::/loader/entries/selfflash-slot-a.conf \
	::/loader/entries/selfflash-slot-a+0-3.conf
make_disk "$tmp/disk_b.img" "$tmp/esp_b.img"
boot slot_b "$tmp/disk_b.img"
c=$tmp/slot_b.console
expect_line slot_b_init_reports_slot_b "$c" '^selfflash-demo: booted slot B \(system version 1\)$'
expect_no_line slot_b_not_slot_a "$c" 'booted slot A'
expect_line slot_b_cmdline_from_loader_entry "$c" '^selfflash-demo: cmdline: root=PARTLABEL=APP_b '
expect_line slot_b_powers_off "$c" 'reboot: Power down'

# broken, with a command from the host, the link and the EEPROM as an update has them: no
# mark-good; the command runs (selfflash's inventory: it sees the link's port and the EEPROM,
# as the update will); the board reboots (QEMU's -no-reboot turns that into an exit)
cp "$out/esp.img" "$tmp/esp_c.img"
cp "$tmp/v7/app.ext4" "$out/app_broken.ext4"
sed -i 's/ app\.ext4$/ app_broken.ext4/' "$tmp/disk.rows"
make_disk "$tmp/disk_c.img" "$tmp/esp_c.img"
"$mkflashpkg" eeprom -o "$tmp/board.eeprom" --part-number "699-13701-0005-500 M.0" \
	--serial 1424321012345 >/dev/null
"$build/bin/hostload" serve --link "unix:$tmp/link.sock" --timeout 120 --log "$tmp/serve.log" \
	"$tmp/disk.sfpkg" >"$tmp/serve.out" 2>&1 &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
await_socket "$tmp/link.sock" || not_ok hostload_serve_listens "$(cat "$tmp/serve.out")"
boot_args=(--command "--root /" --link "$tmp/link.sock" --eeprom "$tmp/board.eeprom" --chip-sku D0)
boot broken_command "$tmp/disk_c.img"
kill "$serve_pid" 2>/dev/null || true
c=$tmp/broken_command.console
expect_line broken_reports_version_7 "$c" '^selfflash-demo: booted slot A \(system version 7\)$'
expect_line broken_says_so "$c" '^selfflash-demo: this system is deliberately broken: slot A is not confirmed'
expect_no_line broken_runs_no_mark_good "$c" 'mark-good: (slot|FAILED)'
expect_line command_runs "$c" '^selfflash-demo: running the host.s command: /usr/sbin/selfflash --root /$'
expect_line command_sees_the_link_port "$c" '^inventory: port vport[0-9]+p[0-9]+ name=selfflash\.link$'
expect_line command_sees_the_eeprom "$c" '^inventory: eeprom present at /sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw$'
expect_line command_status_reported "$c" '^selfflash-demo: command finished: exit status [0-9]+$'
expect_line command_ends_in_reboot "$c" '^selfflash-demo: rebooting$'
expect_no_line command_does_not_power_off "$c" 'reboot: Power down'
finish
