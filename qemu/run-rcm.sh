#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Starts the QEMU "Jetson-like" board in RCM mode: the given kernel and initrd, the QSPI
# image on pflash unit 1 (unit 0 would make QEMU boot from flash), an NVMe disk, a
# virtio-serial port named selfflash.link on a unix socket, and optionally the module EEPROM
# through fw_cfg. The console is this terminal (or stdout); QEMU exits when the board powers
# off or reboots (-no-reboot).
set -euo pipefail

usage() {
	cat <<'TXT'
usage: qemu/run-rcm.sh --kernel IMAGE --initrd INITRD --workdir DIR [options]

  --kernel IMAGE     arm64 kernel Image
  --initrd INITRD    the selfflash initrd
  --workdir DIR      where the board's images live; created if missing:
                       DIR/qspi.img (64 MiB, erased: 0xFF) and DIR/nvme.img (1 GiB, sparse)
  --qspi FILE        use FILE as the QSPI image instead (must be exactly 64 MiB)
  --disk FILE        use FILE as the NVMe disk instead
  --link PATH        unix socket for the link (default DIR/link.sock; QEMU listens)
  --eeprom FILE      module EEPROM image, fed through fw_cfg as opt/selfflash/eeprom
  --chip-sku SKU     chip SKU (FUSE_SKU_INFO, e.g. D0), fed as opt/selfflash/chip_sku
  --package-disk F   attach F read-only as a virtio disk (/dev/vda): a package for a host
                     side running inside the guest (the USB test)
  --append TEXT      extra kernel command line
  --timeout SECONDS  stop QEMU after this long and fail (default 0: no limit)
TXT
}

kernel= initrd= workdir= qspi= disk= link= eeprom= chip_sku= append= timeout=0 package_disk=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--qspi) qspi=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--link) link=$2; shift 2 ;;
	--eeprom) eeprom=$2; shift 2 ;;
	--chip-sku) chip_sku=$2; shift 2 ;;
	--package-disk) package_disk=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-rcm: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for v in kernel initrd workdir; do
	[ -n "${!v}" ] || { echo "run-rcm: --$v is required" >&2; usage >&2; exit 2; }
done
for f in "$kernel" "$initrd"; do
	[ -f "$f" ] || { echo "run-rcm: $f: no such file" >&2; exit 1; }
done

mkdir -p "$workdir"
qspi=${qspi:-$workdir/qspi.img}
disk=${disk:-$workdir/nvme.img}
link=${link:-$workdir/link.sock}
qspi_size=$((64 * 1024 * 1024))
if [ ! -e "$qspi" ]; then
	# an erased NOR reads 0xFF
	head -c "$qspi_size" /dev/zero | tr '\0' '\377' >"$qspi"
fi
actual=$(stat -c %s "$qspi")
[ "$actual" = "$qspi_size" ] || {
	echo "run-rcm: $qspi is $actual bytes; QEMU's flash bank needs exactly $qspi_size" >&2
	exit 1
}
[ -e "$disk" ] || truncate -s 1G "$disk"
rm -f "$link"

args=(
	-M virt -cpu cortex-a57 -m 1024 -smp 2 -nographic -no-reboot -nic none
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyAMA0 panic=-1 quiet $append"
	-drive "if=pflash,unit=1,format=raw,file=$qspi"
	-drive "if=none,id=nvme0,format=raw,file=$disk"
	-device nvme,serial=selfflash0,drive=nvme0
	-device virtio-serial-device
	-chardev "socket,id=link,path=$link,server=on,wait=off"
	-device virtserialport,chardev=link,name=selfflash.link
)
if [ -n "$eeprom" ]; then
	[ -f "$eeprom" ] || { echo "run-rcm: $eeprom: no such file" >&2; exit 1; }
	args+=(-fw_cfg "name=opt/selfflash/eeprom,file=$eeprom")
fi

if [ -n "$package_disk" ]; then
	[ -f "$package_disk" ] || { echo "run-rcm: $package_disk: no such file" >&2; exit 1; }
	args+=(-drive "if=none,id=pkg,format=raw,readonly=on,file=$package_disk"
		-device virtio-blk-device,drive=pkg)
fi

if [ -n "$chip_sku" ]; then
	args+=(-fw_cfg "name=opt/selfflash/chip_sku,string=$chip_sku")
fi

if [ "$timeout" != 0 ]; then
	exec timeout --foreground -k 5 "$timeout" qemu-system-aarch64 "${args[@]}" </dev/null
fi
exec qemu-system-aarch64 "${args[@]}"
