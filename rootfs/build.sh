#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the demo system that gets flashed onto the QEMU board: the slot firmware (AAVMF), a
# stand-in BCT and version file for QSPI, an ESP (systemd-boot, the kernel, one loader entry
# per slot) and one ext4 rootfs per slot whose /sbin/init reports the slot that booted.
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

Writes OUTDIR/uefi.fd, bct.bin, version.txt (QSPI) and esp.img, app_a.ext4, app_b.ext4
(disk). SOURCE_DATE_EPOCH (default 1672531200) sets every timestamp.
TXT
}

kernel=$here/../build/kernel/Image
firmware=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
sdboot=/usr/lib/systemd/boot/efi/systemd-bootaa64.efi
out=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--firmware) firmware=$2; shift 2 ;;
	--systemd-boot) sdboot=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "rootfs: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*) [ -z "$out" ] || { echo "rootfs: one OUTDIR expected, got '$out' and '$1'" >&2; exit 2; }
	   out=$1; shift ;;
	esac
done
[ -n "$out" ] || { usage >&2; exit 2; }

# Sizes and ids. The sizes must fit the partitions of rootfs/layout/demo_disk.xml (esp, APP,
# APP_b: 64 MiB each) and demo_qspi.xml (A_/B_cpu-bootloader 3.5 MiB, BCT 1 MiB).
ESP_MIB=64
APP_MIB=64
FIRMWARE_MAX=$((3584 * 1024))
ESP_VOLUME_ID=5E1FF1A5
declare -A APP_UUID=([A]=5e1ff1a5-0a00-4000-8000-00000000000a [B]=5e1ff1a5-0b00-4000-8000-00000000000b)
declare -A APP_HASH_SEED=([A]=5e1ff1a5-0a00-4000-8000-0000000000a5 [B]=5e1ff1a5-0b00-4000-8000-0000000000b5)
declare -A APP_LABEL=([A]=APP [B]=APP_b)
declare -A APP_FILE=([A]=app_a.ext4 [B]=app_b.ext4)
# what each loader entry hands the kernel; the rootfs is found by its GPT partition name
# (init/do_mounts.c of 6.1 resolves PARTLABEL=), so no initrd is needed
CMDLINE_COMMON="rootfstype=ext4 rootwait ro console=ttyAMA0 panic=-1"

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
for f in "$kernel" "$firmware" "$sdboot"; do
	[ -f "$f" ] || { echo "rootfs: $f: no such file (kernel: make; the others: make deps)" >&2; exit 1; }
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
	"$here/demo-init.c"

# ---- one ext4 rootfs per slot ------------------------------------------------------------
# mke2fs -d takes owner and ctime from the source files (1.47.0 has no SOURCE_DATE_EPOCH
# support), so debugfs sets them afterwards; it also adds /dev/console, which the kernel opens
# for init before devtmpfs is mounted and which needs no root to create this way.
make_app() { # SLOT
	local slot=$1 tree=$work/tree_$1 img=$work/${APP_FILE[$1]} cmds=$work/debugfs_$1 p
	mkdir -p "$tree/sbin" "$tree/etc" "$tree/dev" "$tree/proc" "$tree/sys"
	cp "$work/init" "$tree/sbin/init"
	echo "$slot" >"$tree/etc/slot"
	settle_tree "$tree"
	chmod 0755 "$tree/sbin/init"
	truncate -s "${APP_MIB}M" "$img"
	mke2fs -q -F -t ext4 -b 4096 -L "${APP_LABEL[$slot]}" -U "${APP_UUID[$slot]}" \
		-E "hash_seed=${APP_HASH_SEED[$slot]},root_owner=0:0" -d "$tree" "$img"
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
	local log
	log=$(debugfs -w -f "$cmds" "$img" 2>&1) || { echo "$log" >&2; exit 1; }
	# debugfs reports failed requests but still exits 0: anything beyond the echo of each
	# request and mknod's inode number is a failure
	if grep -v -e '^debugfs[ :]' -e '^Allocated inode: [0-9]*$' -e '^$' <<<"$log" | grep -q .; then
		echo "rootfs: debugfs on ${APP_FILE[$slot]} said:" >&2
		echo "$log" >&2
		exit 1
	fi
	e2fsck -fn "$img" >"$work/fsck_$slot.log" 2>&1 || {
		echo "rootfs: ${APP_FILE[$slot]} fails e2fsck -fn:" >&2
		cat "$work/fsck_$slot.log" >&2
		exit 1
	}
}
make_app A
make_app B

# ---- the ESP: systemd-boot, the kernel, one entry per slot ----------------------------------
esp=$work/esp
mkdir -p "$esp/EFI/BOOT" "$esp/loader/entries"
cp "$sdboot" "$esp/EFI/BOOT/BOOTAA64.EFI"
cp "$kernel" "$esp/Image"
cat >"$esp/loader/loader.conf" <<TXT
default slot-a.conf
timeout 0
editor no
TXT
for slot in A B; do
	lower=$(tr 'AB' 'ab' <<<"$slot")
	cat >"$esp/loader/entries/slot-$lower.conf" <<TXT
title   selfflash demo, slot $slot
linux   /Image
options root=PARTLABEL=${APP_LABEL[$slot]} $CMDLINE_COMMON
TXT
done
settle_tree "$esp"
truncate -s "${ESP_MIB}M" "$work/esp.img"
# --invariant fixes the times mkfs.fat would take from the clock; -i the volume id
mkfs.vfat -F 32 -S 512 -s 1 -n ESP --invariant -i "$ESP_VOLUME_ID" "$work/esp.img" >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
for f in EFI/BOOT/BOOTAA64.EFI Image loader/loader.conf loader/entries/slot-a.conf \
	loader/entries/slot-b.conf; do
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

for f in uefi.fd bct.bin version.txt esp.img app_a.ext4 app_b.ext4; do
	mv -f "$work/$f" "$out/$f"
done
