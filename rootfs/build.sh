#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the demo system that gets flashed onto the QEMU board: the slot firmware (AAVMF), a
# stand-in BCT and version file for QSPI, an ESP laid out by the systemd-boot slot backend's
# rules (systemd-boot, a kernel and a boot-counted loader entry per slot), a boot image of the
# kernel for A_kernel/B_kernel, and ONE ext4 rootfs for both slots (APP and APP_b), whose
# /sbin/init finds its slot from the partition it booted from, confirms it with selfflash and
# runs what the host asks (rootfs/demo-init.c; the NIC for https updates: demo-net.c).
# Deterministic: the same inputs give the same bytes (fixed ids, SOURCE_DATE_EPOCH times);
# needs no root, mounts nothing. rootfs/layout/*.xml name the files it writes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<'TXT'
usage: rootfs/build.sh [options] OUTDIR

  --kernel IMAGE       arm64 kernel Image with the EFI stub (default: build/kernel/Image)
  --firmware FILE      UEFI firmware for both QSPI slots
                       (default: /usr/share/qemu-efi-aarch64/QEMU_EFI.fd)
  --systemd-boot FILE  the boot manager for the ESP
                       (default: /usr/lib/systemd/boot/efi/systemd-bootaa64.efi)
  --flasher FILE       the selfflash binary for the board, installed as /usr/sbin/selfflash
                       (default: build/board/init)
  --pubkey FILE        the key packages must be signed with, as /etc/selfflash/pubkey.pem
                       (default: build/keys/demo.pub, the demo key `make` creates)
  --mkinitrd FILE      the tool that writes the kernel's boot image (default: build/bin/mkinitrd)
  --ca FILE            trust anchors (PEM) for updates over https://, as /etc/selfflash/ca.pem
                       and `ca` in selfflash.conf (make: build/keys/ca.pem, the demo CA);
                       without it the system takes updates from files and links only
  --system-version N   the system's version, in /etc/selfflash/system-version, printed at
                       boot and named in the ESP's entries (default 1)
  --broken             a system whose init never confirms its slot (no mark-good): an update
                       to it must roll back by itself
  --filler MIB         MIB of incompressible bytes in /var/lib/filler, drawn from the system
                       version (tests: an update between two versions then has that much to
                       fetch and write; default 0)

Writes OUTDIR/uefi.fd, bct.bin, version.txt (QSPI) and esp.img, boot.img (the kernel as an
Android boot image v0, for A_kernel and B_kernel), app.ext4 (the rootfs of both slots) (disk).
SOURCE_DATE_EPOCH (default 1672531200) sets every timestamp.
TXT
}

kernel=$here/../build/kernel/Image
firmware=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
sdboot=/usr/lib/systemd/boot/efi/systemd-bootaa64.efi
flasher=$here/../build/board/init
pubkey=$here/../build/keys/demo.pub
mkinitrd=$here/../build/bin/mkinitrd
ca= system_version=1 broken=0 filler=0
out=
need_arg() { [ $# -ge 2 ] || { echo "rootfs: $1 needs a value" >&2; usage >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) need_arg "$@"; kernel=$2; shift 2 ;;
	--firmware) need_arg "$@"; firmware=$2; shift 2 ;;
	--systemd-boot) need_arg "$@"; sdboot=$2; shift 2 ;;
	--flasher) need_arg "$@"; flasher=$2; shift 2 ;;
	--pubkey) need_arg "$@"; pubkey=$2; shift 2 ;;
	--mkinitrd) need_arg "$@"; mkinitrd=$2; shift 2 ;;
	--ca) need_arg "$@"; ca=$2; shift 2 ;;
	--system-version) need_arg "$@"; system_version=$2; shift 2 ;;
	--broken) broken=1; shift ;;
	--filler) need_arg "$@"; filler=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "rootfs: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*) [ -z "$out" ] || { echo "rootfs: one OUTDIR expected, got '$out' and '$1'" >&2; exit 2; }
	   out=$1; shift ;;
	esac
done
[ -n "$out" ] || { usage >&2; exit 2; }
# a u64 in decimal, as the package manifest and the loader entries carry it
if ! [[ "$filler" =~ ^([0-9]|[1-3][0-9]|40)$ ]]; then
	echo "rootfs: --filler '$filler': expected 0 to 40 (MiB; the rootfs partition holds 64)" >&2
	exit 2
fi
if ! [[ "$system_version" =~ ^(0|[1-9][0-9]{0,18})$ ]]; then
	echo "rootfs: --system-version '$system_version': expected a decimal number below 10^19" >&2
	exit 2
fi

# Sizes and ids. The sizes must fit the partitions of rootfs/layout/demo_disk.xml (esp, APP,
# APP_b: 64 MiB each; A_kernel, B_kernel: 16 MiB) and demo_qspi.xml (A_/B_cpu-bootloader
# 3.5 MiB, BCT 1 MiB).
ESP_MIB=64
APP_MIB=64
KERNEL_PART_MAX=$((16 * 1024 * 1024))
FIRMWARE_MAX=$((3584 * 1024))
ESP_VOLUME_ID=5E1FF1A5
# one image for both slots: its ids say nothing about the slot (the init asks the GPT)
APP_UUID=5e1ff1a5-0a00-4000-8000-00000000000a
APP_HASH_SEED=5e1ff1a5-0a00-4000-8000-0000000000a5
APP_LABEL=selfflash-demo
# slot -> its rootfs partition (NVIDIA's names), as the loader entries' root=PARTLABEL= says
declare -A APP_PART=([a]=APP [b]=APP_b)
# the first flash: both slots confirmed, slot A the newer install (ESP contract: A G=2, B G=1)
declare -A FIRST_GENERATION=([a]=2 [b]=1)
# what the boot image hands the kernel; the slot backend puts root=PARTLABEL=<slot's APP>
# before it. The rootfs is found by its GPT partition name (init/do_mounts.c of 6.1 resolves
# PARTLABEL=), so no initrd is needed.
BOOT_CMDLINE="rootfstype=ext4 rootwait ro console=ttyAMA0 panic=-1"

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1672531200}
# FAT cannot store times before 1980, and e2fsprogs treats E2FSPROGS_FAKE_TIME=0 as "now"
if ! [[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]] || [ "$SOURCE_DATE_EPOCH" -lt 315532800 ]; then
	echo "rootfs: SOURCE_DATE_EPOCH is '$SOURCE_DATE_EPOCH'; expected seconds since 1970, at least 315532800 (1980)" >&2
	exit 2
fi
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
export TZ=UTC LC_ALL=C MTOOLS_SKIP_CHECK=1
umask 022

cc=${A64_CC:-aarch64-linux-musl-gcc}
need() { # COMMAND PACKAGE
	command -v "$1" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$1" >/dev/null || {
		echo "rootfs: $1 not found; it comes with the package $2 (run: make deps)" >&2
		exit 1
	}
}
need "$cc" musl-dev:arm64
need mkfs.vfat dosfstools
need mmd mtools
need mcopy mtools
need mke2fs e2fsprogs
need debugfs e2fsprogs
need e2fsck e2fsprogs
export PATH=$PATH:/sbin:/usr/sbin
[ -z "$ca" ] || [ -f "$ca" ] || { echo "rootfs: --ca $ca: no such file (make makes build/keys/ca.pem)" >&2; exit 1; }
for f in "$kernel" "$flasher" "$pubkey" "$mkinitrd"; do
	[ -f "$f" ] || { echo "rootfs: $f: no such file (run: make all)" >&2; exit 1; }
done
for f in "$firmware" "$sdboot"; do
	[ -f "$f" ] || { echo "rootfs: $f: no such file (run: make deps)" >&2; exit 1; }
done
fw_size=$(stat -c %s "$firmware")
[ "$fw_size" -le "$FIRMWARE_MAX" ] || {
	echo "rootfs: $firmware is $fw_size bytes; the cpu-bootloader slots hold $FIRMWARE_MAX" >&2
	exit 1
}

mkdir -p "$out"
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fixed times and modes for everything below DIR, whatever the umask and clock were
settle_tree() {
	find "$1" -type d -exec chmod 0755 {} +
	find "$1" -type f -exec chmod 0644 {} +
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# ---- the init: static, stripped, no paths or times inside --------------------------------
"$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Os -static -s -o "$work/init" \
	"$here/demo-init.c" "$here/demo-net.c"

# ---- the rootfs, one image for both slots -------------------------------------------------
# mke2fs -d takes owner and ctime from the source files (1.47.0 has no SOURCE_DATE_EPOCH
# support), so debugfs sets them afterwards; it also adds /dev/console, which the kernel opens
# for init before devtmpfs is mounted and which needs no root to create this way.
tree=$work/tree img=$work/app.ext4 cmds=$work/debugfs.cmds
mkdir -p "$tree/sbin" "$tree/usr/sbin" "$tree/etc/selfflash" "$tree/boot/efi" "$tree/dev" \
	"$tree/proc" "$tree/sys" "$tree/run" "$tree/tmp"
cp "$work/init" "$tree/sbin/init"
cp "$flasher" "$tree/usr/sbin/selfflash"
cp "$pubkey" "$tree/etc/selfflash/pubkey.pem"
echo "$system_version" >"$tree/etc/selfflash/system-version"
# The update server of the demo is the QEMU host (10.0.2.2 in QEMU user networking, where the
# init routes to), under a name in a domain reserved for tests (RFC 2606): TLS checks a
# certificate's DNS name, never an IP address, so the board must reach the host by a name.
printf '127.0.0.1\tlocalhost\n10.0.2.2\tupdates.selfflash.test\n' >"$tree/etc/hosts"
[ "$broken" = 0 ] || echo "this system never confirms its slot (rootfs/build.sh --broken)" \
	>"$tree/etc/selfflash/broken"
if [ "$filler" != 0 ]; then
	mkdir -p "$tree/var/lib"
	python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(int(sys.argv[1])).randbytes(int(sys.argv[2]) << 20))' \
		"$system_version" "$filler" >"$tree/var/lib/filler"
fi
# selfflash on the running board (update, mark-good, status): the QEMU board of
# qemu/run-normal.sh, whose EEPROM and chip SKU QEMU passes through fw_cfg as in RCM mode.
# Only the disk is a target: in a normal boot the firmware owns the QSPI (AAVMF keeps the
# flash from the OS), and writing QSPI from a running system must be an explicit choice.
cat >"$tree/etc/selfflash/selfflash.conf" <<'CONF'
# selfflash on the demo system (QEMU board): updates go into the slot that is not running
pubkey /etc/selfflash/pubkey.pem
eeprom /sys/firmware/qemu_fw_cfg/by_name/opt/selfflash/eeprom/raw
chip-sku D0
target nvme block:/dev/nvme0n1
slot-backend systemd-boot
esp /boot/efi
boot-tries 3
CONF
if [ -n "$ca" ]; then
	cp "$ca" "$tree/etc/selfflash/ca.pem"
	printf '# https:// update servers must have a certificate from this CA\nca /etc/selfflash/ca.pem\n' \
		>>"$tree/etc/selfflash/selfflash.conf"
fi
settle_tree "$tree"
chmod 0755 "$tree/sbin/init" "$tree/usr/sbin/selfflash"
chmod 1777 "$tree/tmp"
truncate -s "${APP_MIB}M" "$img"
mke2fs -q -F -t ext4 -b 4096 -L "$APP_LABEL" -U "$APP_UUID" \
	-E "hash_seed=$APP_HASH_SEED,root_owner=0:0" -d "$tree" "$img"
{
	printf 'cd /dev\nmknod console c 5 1\ncd /\nsif /dev/console mode 020600\n'
	(cd "$tree" && find . | sort | sed -e 's|^\.||' -e 's|^$|/|'
	 echo /dev/console
	 echo /lost+found) | while IFS= read -r p; do
		printf 'sif "%s" uid 0\nsif "%s" gid 0\n' "$p" "$p"
		for field in atime mtime ctime crtime; do
			printf 'sif "%s" %s @%s\n' "$p" "$field" "$SOURCE_DATE_EPOCH"
		done
	done
} >"$cmds"
log=$(debugfs -w -f "$cmds" "$img" 2>&1) || { echo "$log" >&2; exit 1; }
# debugfs reports failed requests but still exits 0: anything beyond the echo of each
# request and mknod's inode number is a failure
if grep -v -e '^debugfs[ :]' -e '^Allocated inode: [0-9]*$' -e '^$' <<<"$log" | grep -q .; then
	echo "rootfs: debugfs on app.ext4 said:" >&2
	echo "$log" >&2
	exit 1
fi
e2fsck -fn "$img" >"$work/fsck.log" 2>&1 || {
	echo "rootfs: app.ext4 fails e2fsck -fn:" >&2
	cat "$work/fsck.log" >&2
	exit 1
}

# ---- the kernel partitions' boot image (A_kernel, B_kernel) -------------------------------
# what the flasher reads back from a slot's kernel partition during an update and hands to the
# slot backend, which copies the kernel to the ESP and writes the entry's options line
"$mkinitrd" --no-ramdisk --bootimg "$work/boot.img" --kernel "$kernel" --cmdline "$BOOT_CMDLINE"
boot_size=$(stat -c %s "$work/boot.img")
[ "$boot_size" -le "$KERNEL_PART_MAX" ] || {
	echo "rootfs: boot.img is $boot_size bytes; A_kernel/B_kernel hold $KERNEL_PART_MAX" >&2
	exit 1
}

# ---- the ESP: systemd-boot, a kernel and a loader entry per slot ----------------------------
# The layout is the ESP contract the flasher's systemd-boot backend keeps during updates: no
# `default` in loader.conf (systemd-boot boots the first entry of its sort order: newest
# `version` first, entries with no tries left last), /selfflash/slot-S/Image, and
# /loader/entries/selfflash-slot-S.conf (confirmed; +LEFT[-DONE] while on trial).
esp=$work/esp
mkdir -p "$esp/EFI/BOOT" "$esp/loader/entries" "$esp/selfflash/slot-a" "$esp/selfflash/slot-b"
cp "$sdboot" "$esp/EFI/BOOT/BOOTAA64.EFI"
printf 'timeout 0\neditor no\n' >"$esp/loader/loader.conf"
esp_files=(EFI/BOOT/BOOTAA64.EFI loader/loader.conf)
for slot in a b; do
	cp "$kernel" "$esp/selfflash/slot-$slot/Image"
	{
		printf '%-10s %s\n' title "selfflash slot ${slot^^}, system version $system_version" \
			sort-key selfflash version "${FIRST_GENERATION[$slot]}" \
			linux "/selfflash/slot-$slot/Image" \
			options "root=PARTLABEL=${APP_PART[$slot]} $BOOT_CMDLINE"
		printf '# selfflash system-version %s\n' "$system_version"
	} >"$esp/loader/entries/selfflash-slot-$slot.conf"
	esp_files+=("selfflash/slot-$slot/Image" "loader/entries/selfflash-slot-$slot.conf")
done
settle_tree "$esp"
truncate -s "${ESP_MIB}M" "$work/esp.img"
# --invariant fixes the times mkfs.fat would take from the clock; -i the volume id
mkfs.vfat -F 32 -S 512 -s 1 -n ESP --invariant -i "$ESP_VOLUME_ID" "$work/esp.img" >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/selfflash \
	::/selfflash/slot-a ::/selfflash/slot-b
for f in "${esp_files[@]}"; do
	mcopy -m -i "$work/esp.img" "$esp/$f" "::/$f"
done

# ---- QSPI contents -----------------------------------------------------------------------
cp "$firmware" "$work/uefi.fd"
# A stand-in for the boot BCT: not a Tegra BCT, just recognisable bytes of a realistic size
# that the package replicates into every 16 KiB slot of the BCT partition.
bct_text='selfflash demo BCT (stand-in, not a Tegra BCT)'
{
	printf '%s\n' "$bct_text"
	head -c $((4096 - ${#bct_text} - 1)) /dev/zero | tr '\0' '\132'
} >"$work/bct.bin"
# what NVIDIA's VERFILE is for: which firmware a slot holds
printf '# selfflash demo firmware\nUEFI=%s SHA256=%s\n' "$(basename "$firmware")" \
	"$(sha256sum <"$firmware" | cut -d' ' -f1)" >"$work/version.txt"

for f in uefi.fd bct.bin version.txt esp.img boot.img app.ext4; do
	mv -f "$work/$f" "$out/$f"
done
