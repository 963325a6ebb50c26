#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots the QEMU "Jetson-like" board the normal way, as after a flash: no -kernel; the QSPI
# image on pflash unit 0, so the firmware at its offset 0 (AAVMF) runs, finds the ESP on the
# NVMe disk and starts systemd-boot, which boots the kernel of the first loader entry.
# The console is this terminal (or stdout); QEMU exits when the board powers off or reboots.
# The running system's selfflash finds what the RCM boot gives the flasher: the module EEPROM
# in fw_cfg, the link to hostload as the virtio-serial port selfflash.link; and the demo
# system's init runs the fw_cfg file opt/selfflash/command (--command) before it reboots.
set -euo pipefail

usage() {
	cat <<'TXT'
usage: qemu/run-normal.sh --qspi FILE --disk FILE [options]

  --qspi FILE        the QSPI image (exactly 64 MiB, one QEMU flash bank); UEFI firmware at 0
  --disk FILE        the NVMe disk image (GPT with the ESP and the rootfs slots)
  --vars FILE        UEFI variable store on pflash unit 1 (64 MiB), kept across boots;
                     created from /usr/share/AAVMF/AAVMF_VARS.fd if missing. Without it the
                     firmware keeps its variables in RAM and forgets them at power-off.
  --eeprom FILE      the module EEPROM image, as fw_cfg opt/selfflash/eeprom (what
                     `hostload rcm --eeprom` passes; selfflash identifies the board by it)
  --chip-sku SKU     the chip SKU (such as D0), as fw_cfg opt/selfflash/chip_sku
  --link SOCKET      the virtio-serial port selfflash.link, connected to the unix socket
                     SOCKET as a client that reconnects (hostload serve --link unix:SOCKET
                     listens there; start it first)
  --net              a virtio-net NIC (PCI) on QEMU user networking: the guest is 10.0.2.15/24
                     (the demo init sets it), the host 10.0.2.2, where a connection reaches
                     the host's 127.0.0.1 (an update server there: --command "update
                     https://updates.selfflash.test:PORT/..."; the demo system's /etc/hosts
                     names 10.0.2.2 so); nothing reaches the guest from outside
  --command TEXT     what the demo system's init runs with /usr/sbin/selfflash before it
                     reboots, split on spaces (fw_cfg opt/selfflash/command), such as
                     "update virtio:selfflash.link"
  --log FILE         also write the console to FILE
  --timeout SECONDS  stop QEMU after this long and fail (default 0: no limit)
TXT
}

qspi= disk= vars= log= timeout=0 eeprom= chip_sku= link= command= net=0
need_arg() { [ $# -ge 2 ] || { echo "run-normal: $1 needs a value" >&2; usage >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	--qspi) need_arg "$@"; qspi=$2; shift 2 ;;
	--disk) need_arg "$@"; disk=$2; shift 2 ;;
	--vars) need_arg "$@"; vars=$2; shift 2 ;;
	--eeprom) need_arg "$@"; eeprom=$2; shift 2 ;;
	--chip-sku) need_arg "$@"; chip_sku=$2; shift 2 ;;
	--link) need_arg "$@"; link=$2; shift 2 ;;
	--command) need_arg "$@"; command=$2; shift 2 ;;
	--net) net=1; shift ;;
	--log) need_arg "$@"; log=$2; shift 2 ;;
	--timeout) need_arg "$@"; timeout=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-normal: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for v in qspi disk; do
	[ -n "${!v}" ] || { echo "run-normal: --$v is required" >&2; usage >&2; exit 2; }
done
for f in "$qspi" "$disk" ${eeprom:+"$eeprom"}; do
	[ -f "$f" ] || { echo "run-normal: $f: no such file" >&2; exit 1; }
done
[ -z "$link" ] || [ -S "$link" ] || {
	echo "run-normal: --link $link: no socket there; start hostload serve --link unix:$link first" >&2
	exit 1
}
[[ "$timeout" =~ ^[0-9]+$ ]] || { echo "run-normal: --timeout '$timeout': expected whole seconds" >&2; exit 2; }
# QEMU's option syntax: a comma inside a value is written twice
qemu_value() { printf '%s' "${1//,/,,}"; }

bank_size=$((64 * 1024 * 1024)) # each of the virt machine's two flash banks
actual=$(stat -c %s "$qspi")
[ "$actual" = "$bank_size" ] || {
	echo "run-normal: $qspi is $actual bytes; QEMU's flash bank needs exactly $bank_size" >&2
	exit 1
}

args=(
	-M virt,acpi=off -cpu cortex-a57 -m 1024 -smp 2 -nographic -no-reboot
	-drive "if=pflash,unit=0,format=raw,file=$qspi"
	-drive "if=none,id=nvme0,format=raw,file=$disk"
)
if [ "$net" = 1 ]; then
	# the disk first in the firmware's boot order (QEMU's bootorder file): AAVMF would
	# otherwise try PXE and HTTP boot on the NIC before the ESP; no option ROM (romfile=):
	# the firmware needs none, and QEMU would otherwise want iPXE's efi-virtio.rom
	args+=(-device nvme,serial=selfflash0,drive=nvme0,bootindex=0
		-netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile=)
else
	# no network: nothing for AAVMF to try a network boot on
	args+=(-device nvme,serial=selfflash0,drive=nvme0 -nic none)
fi
if [ -n "$eeprom" ]; then
	args+=(-fw_cfg "name=opt/selfflash/eeprom,file=$(qemu_value "$eeprom")")
fi
if [ -n "$chip_sku" ]; then
	args+=(-fw_cfg "name=opt/selfflash/chip_sku,string=$(qemu_value "$chip_sku")")
fi
if [ -n "$command" ]; then
	args+=(-fw_cfg "name=opt/selfflash/command,string=$(qemu_value "$command")")
fi
if [ -n "$link" ]; then
	# QEMU is the client and reconnects, as in `hostload rcm --qemu` (host-loader/boot/boot_qemu.c)
	args+=(-device virtio-serial-device
		-chardev "socket,id=link,path=$(qemu_value "$link"),reconnect=1"
		-device virtserialport,chardev=link,name=selfflash.link)
fi
if [ -n "$vars" ]; then
	if [ ! -e "$vars" ]; then
		template=/usr/share/AAVMF/AAVMF_VARS.fd
		[ -f "$template" ] || { echo "run-normal: $template missing (package qemu-efi-aarch64; run: make deps)" >&2; exit 1; }
		cp --sparse=always "$template" "$vars"
	fi
	actual=$(stat -c %s "$vars")
	[ "$actual" = "$bank_size" ] || {
		echo "run-normal: $vars is $actual bytes; QEMU's flash bank needs exactly $bank_size" >&2
		exit 1
	}
	args+=(-drive "if=pflash,unit=1,format=raw,file=$vars")
fi

run=(qemu-system-aarch64 "${args[@]}")
if [ "$timeout" != 0 ]; then
	# unattended: nothing to type, and QEMU must not wait for a terminal
	run=(timeout --foreground -k 5 "$timeout" "${run[@]}")
	exec </dev/null
fi
if [ -z "$log" ]; then
	exec "${run[@]}"
fi
"${run[@]}" 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
