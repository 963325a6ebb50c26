#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The USB path end to end, at the highest level this platform allows: in the QEMU guest,
# dummy_hcd joins a USB host controller and a gadget controller in one kernel. The flasher
# (PID 1) makes the board a USB gadget (configfs, FunctionFS bulk endpoints), and an aarch64
# build of hostload in the same guest serves it the demo package from a second virtio disk over
# real USB bulk transfers through libusb. Mid-flash hostload is stopped for 25 s (Ctrl-Z): it
# keeps the interface and reads nothing, so the board's reads and then its writes must give up
# (not hang), and the flash must finish once hostload goes on. The result must be
# byte-identical to the flash over virtio-serial (make demo).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
root=$(pwd)
build=$(pwd)/${BUILD:-build}
for f in "$build/kernel/Image" "$build/board/hostload" "$build/tests/usb_launcher" \
	"$build/rootfs/esp.img"; do
	if [ ! -e "$f" ]; then
		skip usb_gadget_flash "$f missing (make all rootfs)"
		finish
		exit 0
	fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the reference: the demo package flashed over virtio-serial
if [ ! -f "$build/demo/board.log" ] || ! grep -q 'flasher: done' "$build/demo/board.log"; then
	scripts/demo.sh --build "$build" >"$tmp/demo.out" 2>&1 ||
		{ not_ok usb_reference_flash "$(tail -5 "$tmp/demo.out")"; finish; exit 0; }
fi
want=$(cd "$build/demo" && sha256sum qspi.img nvme.img | cut -d' ' -f1 | tr '\n' ' ')

cd "$tmp"
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
truncate -s 1G nvme.img
cp "$build/demo/demo.sfpkg" pkg.img
truncate -s %512 pkg.img # a disk is whole sectors; the package header says where it ends
cat >flasher.conf <<'CONF'
# the board as a USB gadget; hostload runs on the other side of dummy_hcd in the same guest
link usb-gadget:
pubkey /etc/selfflash/pubkey.pem
target spi mtd:/dev/mtd0@67108864
target nvme block:/dev/nvme0n1
on-failure poweroff
CONF
# run_board NAME CONF STOP_SECONDS TIMEOUT: boots the board with the flasher configured by CONF
# and hostload stopped for STOP_SECONDS mid-flash; NAME.log is its console, rc and took say how
# it ended
run_board() {
	SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o "$1.cpio.gz" --init "$build/tests/usb_launcher" \
		--dir bin --file "bin/flasher=$build/board/init:0755" \
		--file "bin/hostload=$build/board/hostload:0755" \
		--config "$2" --pubkey "$build/keys/demo.pub"
	local start=$(date +%s)
	set +e
	"$root/qemu/run-rcm.sh" --kernel "$build/kernel/Image" --initrd "$1.cpio.gz" \
		--workdir board --qspi qspi.img --disk nvme.img --eeprom "$build/demo/agx.eeprom" \
		--chip-sku D0 --package-disk pkg.img --timeout "$4" \
		--append "selfflash.test-stop-host=$3" >"$1.raw" 2>&1
	rc=$?
	set -e
	took=$(($(date +%s) - start))
	tr -d '\r' <"$1.raw" >"$1.log"
}
run_board console flasher.conf 25 900
if [ "$rc" = 0 ]; then ok "usb_flash_board_exits_in_${took}s"; else not_ok usb_flash_board_exits "exit $rc: $(tail -20 console.log)"; fi
expect_line usb_gadget_bound_to_dummy_udc console.log 'flasher: usb: gadget selfflash \(1d6b:0104, serial 1424321012345\) on UDC dummy_udc'
expect_line usb_hostload_sees_the_board_on_usb console.log '"event":"connected".*"link":"usb:'
expect_line usb_gadget_link_up console.log 'flasher: link: host serves pkg.sfpkg'
# the board's reads or writes give up after the link's idle time (10 s), whichever waits first;
# it takes the link as lost, and once hostload goes on asks again for what had not arrived
expect_line usb_host_stopped_mid_flash console.log '^usb-launcher: hostload stopped for 25 s'
expect_line usb_board_takes_the_link_as_lost console.log \
	'flasher: link: lost \((write failed: USB host has read nothing|no data) for 10000 ms'
expect_line usb_new_hostload_resumes_the_flash console.log '^flasher: link: [1-9][0-9]* reconnects'
expect_line usb_flasher_succeeds console.log '^flasher: SUCCESS'
expect_line usb_hostload_reports_success console.log '"event":"result".*"status":0'
got=$(sha256sum qspi.img nvme.img | cut -d' ' -f1 | tr '\n' ' ')
if [ "$got" = "$want" ]; then
	ok usb_flash_identical_to_virtio_flash
else
	not_ok usb_flash_identical_to_virtio_flash "qspi/nvme differ from build/demo"
fi
grep -E '^(flasher|usb-launcher|hostload):' console.log | tail -n 8 | sed 's/^/    /'

# hostload stopped for good (a debugger, a forgotten Ctrl-Z): the board's HELLO after the first
# reconnect is never taken. Without a limit on writes it would wait for ever; it must give each
# write up after 10 s and fail when its link timeout (20 s here) has passed, powering off as
# configured, with no boot slot changed.
head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
rm -f nvme.img && truncate -s 1G nvme.img
sed 's/^on-failure poweroff$/on-failure poweroff\nlink-timeout 20/' flasher.conf >stuck.conf
run_board stuck stuck.conf 100000 300
if [ "$rc" = 0 ]; then ok "usb_stuck_host_board_powers_off_in_${took}s"; else not_ok usb_stuck_host_board_powers_off "exit $rc after ${took}s: $(tail -20 stuck.log)"; fi
expect_line usb_stuck_host_write_given_up stuck.log \
	'lost \(write failed: USB host has read nothing for 10000 ms|USB host has read nothing for 10000 ms'
expect_line usb_stuck_host_flash_fails stuck.log \
	'^flasher: FAILED: .*link did not come back within 20 s: [^ ]'
grep -E '^(flasher|usb-launcher):' stuck.log | tail -n 5 | sed 's/^/    /'
finish
