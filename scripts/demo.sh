#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole promise in one run (make demo): build the demo package from rootfs/'s system, boot
# the QEMU board in RCM mode into the selfflash initrd with `hostload rcm --qemu`, let it flash
# its QSPI and disk over the link, then boot the board normally (QSPI on pflash unit 0, no
# -kernel) from what was written, and print a summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<'TXT'
usage: scripts/demo.sh [--build DIR] [--out DIR] [--keep] [--json FILE] [--timeout S]
                       [--sequential]

  --build DIR   the build directory (default: build)
  --out DIR     where the board's images, the package and the logs go (default: BUILD/demo)
  --keep        flash the board images already in the output directory (a reflash) instead
                of new ones
  --json FILE   hostload's events as JSON lines into FILE instead of a progress bar
  --timeout S   limit for each boot (default 600)
  --sequential  the flasher writes the QSPI, then the disk (default: both at once)

Needs `make all rootfs` first (make demo does that): the demo system in BUILD/rootfs and the
demo key in BUILD/keys (demo.key signs the package; the system trusts demo.pub for updates).
Writes to the output directory: demo.sfpkg, agx.eeprom, flasher.cpio.gz, qspi.img, nvme.img,
and the logs.
TXT
}

build=$here/build out= keep=0 json= timeout=600 parallel=on
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$(cd "$2" && pwd); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--json) json=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--sequential) parallel=off; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
demo=${out:-$build/demo} rootfs=$build/rootfs key=$build/keys/demo
for f in "$build/bin/mkflashpkg" "$build/bin/mkinitrd" "$build/bin/hostload" "$build/board/init" \
	"$build/selfflash.cpio.gz" "$key.key" "$key.pub" \
	"$build/kernel/Image" "$rootfs/esp.img" "$rootfs/app.ext4" "$rootfs/boot.img"; do
	[ -e "$f" ] || { echo "demo: $f is missing: run 'make all rootfs' first" >&2; exit 1; }
done
mkdir -p "$demo"
demo=$(cd "$demo" && pwd)
cd "$demo"
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }

t0=$(now)
"$build/bin/mkflashpkg" build -q -o demo.sfpkg --layout "$here/rootfs/layout/demo.xml" \
	--dir "$rootfs" --key "$key.key" --replicate BCT=16384
"$build/bin/mkflashpkg" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" \
	--serial 1424321012345 >/dev/null
cat >flasher.conf <<'CONF'
# the QEMU board in RCM mode: the package comes from hostload over the virtio-serial link
link virtio:selfflash.link
pubkey /etc/selfflash/pubkey.pem
target spi mtd:/dev/mtd0@67108864
target nvme block:/dev/nvme0n1
on-failure poweroff
CONF
echo "parallel $parallel" >>flasher.conf
SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o flasher.cpio.gz --init "$build/board/init" \
	--config flasher.conf --pubkey "$key.pub"
if [ "$keep" = 0 ] || [ ! -f qspi.img ] || [ ! -f nvme.img ]; then
	# a board as it leaves the factory: erased QSPI, empty disk
	head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
	rm -f nvme.img
	truncate -s 1G nvme.img
fi
t1=$(now)

echo "demo: flashing the QEMU board over the link (console in $demo/flash-console.log)"
rm -f board.log
args=(rcm --qemu --kernel "$build/kernel/Image" --initrd flasher.cpio.gz --qspi qspi.img
	--disk nvme.img --eeprom agx.eeprom --chip-sku D0 --console flash-console.log
	--log board.log --timeout "$timeout")
rc=0
if [ -n "$json" ]; then
	"$build/bin/hostload" "${args[@]}" --json demo.sfpkg >"$json" || rc=$?
else
	"$build/bin/hostload" "${args[@]}" demo.sfpkg || rc=$?
fi
t2=$(now)
if [ "$rc" != 0 ]; then
	echo "demo: the flash failed (hostload exit status $rc); see $demo/board.log and" \
		"$demo/flash-console.log" >&2
	exit 1
fi

echo "demo: booting the board from what was flashed (console in $demo/boot-console.log)"
# the EEPROM and chip SKU as in RCM mode: the running system's selfflash identifies the board
"$here/qemu/run-normal.sh" --qspi qspi.img --disk nvme.img --eeprom agx.eeprom --chip-sku D0 \
	--timeout "$timeout" --log boot-console.log >/dev/null 2>&1 || true
t3=$(now)
marker=$(tr -d '\r' <boot-console.log |
	grep -o 'selfflash-demo: booted slot [AB] (system version [0-9?]*)' | head -n1 || true)

done_line=$(grep -o 'flasher: done: .*' board.log | tail -n1 || true)
nor=$(sed -n 's/.*NOR blocks compared \([0-9]*\), erased \([0-9]*\), written \([0-9]*\);.*/\1 compared, \2 erased, \3 written/p' <<<"$done_line")
sent=$(sed -n 's/^hostload: sent \([0-9]*\) bytes of a \([0-9]*\)-byte package.*/\1 of a \2-byte package/p' board.log | tail -n1)
echo
echo "selfflash demo summary"
echo "  build inputs (package, initrd)   $(secs "$t0" "$t1") s"
echo "  RCM boot + flash over the link   $(secs "$t1" "$t2") s"
echo "  normal boot from flashed system  $(secs "$t2" "$t3") s"
steps=$(sed -n 's/^flasher: time per step: //p' board.log | tail -n1)
echo "  flasher steps (on the board)     ${steps:-?}"
echo "  bytes sent                       ${sent:-?}"
delta=$(sed -n 's/^flasher: delta: //p' board.log | tail -n1)
echo "  found on the board (delta)       ${delta:-?}"
echo "  QSPI blocks                      ${nor:-?}"
echo "  flasher initrd                   $(stat -c %s flasher.cpio.gz) bytes"
# what a factory signs off: the same commit builds the same bytes (tests/host/reproducible.sh)
sha() { sha256sum <"$1" | cut -d' ' -f1; }
echo "  flasher binary sha256            $(sha "$build/board/init")"
echo "  flasher initrd sha256            $(sha "$build/selfflash.cpio.gz") (selfflash.cpio.gz)"
echo "  demo initrd sha256               $(sha flasher.cpio.gz) (+ this build's demo key, config)"
echo "  package                          $(stat -c %s demo.sfpkg) bytes"
echo "  boot marker                      ${marker:-NOT SEEN}"
[ -n "$marker" ] || { echo "demo: the flashed board did not report its slot; see $demo/boot-console.log" >&2; exit 1; }
