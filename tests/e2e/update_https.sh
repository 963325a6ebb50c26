#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The QEMU board, booted into its system, updates itself from an https:// URL served on the
# host (issue 16): the board is flashed (scripts/demo.sh, slot A, system 1), then booted with
# qemu/run-normal.sh --net and "selfflash update https://updates.selfflash.test:PORT/v2.sfpkg"
# while lighttpd (mod_openssl) serves system 2 on a free port of 127.0.0.1, which the board
# reaches as 10.0.2.2 through QEMU user networking. The board's NIC must be up and its clock
# (from the RTC) within a minute of the host's.
# First with a server certificate for another name, signed by the same demo CA: the update
# fails on the board saying the certificate "is not for updates.selfflash.test", nothing is
# armed (the ESP's loader entries are unchanged) and the next boot is slot A again. That next
# boot runs the update against a server with the right certificate; the boot after it is
# slot B with system 2, which confirms itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
export PATH=$PATH:/sbin:/usr/sbin MTOOLS_SKIP_CHECK=1

missing=()
for f in "$build/kernel/Image" "$build/bin/mkflashpkg" "$build/bin/hostload" "$build/board/init" \
	"$build/keys/demo.key" "$build/keys/ca.pem" "$build/keys/ca.key" "$build/keys/updates.pem" \
	"$build/rootfs/app.ext4"; do
	[ -e "$f" ] || missing+=("$f (make all rootfs)")
done
for tool in qemu-system-aarch64 sfdisk mdir debugfs openssl lighttpd; do
	command -v "$tool" >/dev/null || missing+=("$tool (make deps)")
done
if [ "${#missing[@]}" -gt 0 ]; then
	skip update_https "missing: ${missing[*]}"
	exit 0
fi
root=$(pwd)
work=$(mktemp -d)
lighttpd_pid=
stop_lighttpd() {
	[ -z "$lighttpd_pid" ] || { kill "$lighttpd_pid" 2>/dev/null || true; wait "$lighttpd_pid" 2>/dev/null || true; }
	lighttpd_pid=
}
cleanup() {
	stop_lighttpd
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# lighttpd_start CERT: https on a new free port ($port) with CERT.pem/CERT.key, serving www/
lighttpd_start() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$1.conf" <<CONF
server.document-root = "$work/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$work/$1.err"
server.modules += ( "mod_openssl", "mod_accesslog" )
ssl.engine = "enable"
ssl.pemfile = "$2.pem"
ssl.privkey = "$2.key"
accesslog.filename = "$work/$1.access"
accesslog.format = "%h \\"%r\\" %>s %b"
mimetype.assign = ( "" => "application/octet-stream" )
CONF
	lighttpd -tt -f "$1.conf" >"$1.out" 2>&1 || return 1
	lighttpd -D -f "$1.conf" >>"$1.out" 2>&1 &
	lighttpd_pid=$!
	for _ in $(seq 100); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# the test's own certificates: the demo CA's right one, and one for another name by it
scripts_ca=$root/scripts/demo-ca.sh
"$scripts_ca" --issue other.selfflash.test wrong-name "$root/$build/keys"
mkdir www
if ! lighttpd_start probe "$root/$build/keys/updates"; then
	skip update_https "lighttpd cannot serve https (lighttpd-mod-openssl missing? make deps): $(tail -n 1 probe.out)"
	exit 0
fi
stop_lighttpd
# the flashed system must be the one that trusts this CA (make rootfs passes --ca)
if ! cmp -s <(debugfs -R "cat /etc/selfflash/ca.pem" "$root/$build/rootfs/app.ext4" 2>/dev/null) \
	"$root/$build/keys/ca.pem"; then
	not_ok update_https_rootfs_trusts_demo_ca "$build/rootfs/app.ext4 has no /etc/selfflash/ca.pem equal to $build/keys/ca.pem (make rootfs)"
	exit 0
fi

# ---- the board, flashed with system 1; system 2 packaged for the same layout ----------------
t0=$(date +%s)
if ! "$root/scripts/demo.sh" --build "$root/$build" --out "$work" --timeout 300 >flash.out 2>&1; then
	not_ok update_https_flash "$(tail -n 5 flash.out)"
	exit 0
fi
"$root/rootfs/build.sh" --kernel "$root/$build/kernel/Image" --flasher "$root/$build/board/init" \
	--mkinitrd "$root/$build/bin/mkinitrd" --pubkey "$root/$build/keys/demo.pub" \
	--ca "$root/$build/keys/ca.pem" --system-version 2 v2 >v2.log 2>&1
"$root/$build/bin/mkflashpkg" build -q -o www/v2.sfpkg --layout "$root/rootfs/layout/demo.xml" \
	--dir v2 --key "$root/$build/keys/demo.key" --replicate BCT=16384 --system-version 2
echo "  flashed and built system 2 in $(($(date +%s) - t0)) s"

boots=0 console=
boot() { # [run-normal options...]: one power-on; its console (CR removed) in $console
	boots=$((boots + 1))
	console=$(printf 'boot-%02d.console' "$boots")
	"$root/qemu/run-normal.sh" --qspi qspi.img --disk nvme.img --eeprom agx.eeprom \
		--chip-sku D0 --timeout 120 --log "$console.raw" "$@" >/dev/null 2>&1 || true
	tr -d '\r' <"$console.raw" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' >"$console"
}
seen() { grep -o 'booted slot . (system version [0-9?]*)' "$console" | head -n1 || true; }
entries() { # the ESP's loader entry files, as the firmware sees them
	local esp
	esp=$(sfdisk --json nvme.img | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "esp": print(p["start"] * 512)')
	mdir -b -i "nvme.img@@$esp" ::/loader/entries | sed 's|.*/||' | sort | tr '\n' ' '
}
before=$(entries)

# ---- a server whose certificate is for another name: refused, nothing armed ----------------
lighttpd_start wrong "$work/wrong-name"
url=https://updates.selfflash.test:$port/v2.sfpkg
t1=$(date +%s)
boot --net --command "update $url"
stop_lighttpd
# the board's clock (what certificate dates are checked against) within a minute of the host's
board_clock=$(sed -n 's/^selfflash-demo: clock: \(.*\) UTC (set from the RTC)$/\1/p' "$console")
clock_off=$(python3 -c 'import datetime, sys, time
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
print(int(abs(time.time() - t.timestamp())))' "${board_clock:-1970-01-01 00:00:00}")
if grep -q '^selfflash-demo: network: .* up as 10.0.2.15/24' "$console" && [ "$clock_off" -lt 60 ]; then
	ok "update_https_board_has_network_and_clock (clock $board_clock UTC, ${clock_off} s from the host's)"
else
	not_ok update_https_board_has_network_and_clock "$(grep -E 'network|clock' "$console" | head -n 3)"
fi
if grep -q 'is not for updates.selfflash.test' "$console" &&
	grep -Eq '^selfflash-demo: command finished: exit status [1-9]' "$console"; then
	ok "update_https_wrong_name_refused ($(($(date +%s) - t1)) s)"
else
	not_ok update_https_wrong_name_refused "$(grep -E 'FAILED|command finished' "$console" | head -n 3)"
fi
after=$(entries)
if [ "$after" = "$before" ]; then
	ok "update_https_wrong_name_nothing_armed (entries: $after)"
else
	not_ok update_https_wrong_name_nothing_armed "loader entries were '$before', now '$after'"
fi

# ---- the right certificate: the boot after the refusal is slot A and installs system 2 ------
lighttpd_start good "$root/$build/keys/updates"
url=https://updates.selfflash.test:$port/v2.sfpkg
t2=$(date +%s)
boot --net --command "update $url"
stop_lighttpd
if [ "$(seen)" = "booted slot A (system version 1)" ]; then
	ok update_https_after_refusal_still_slot_a
else
	not_ok update_https_after_refusal_still_slot_a "booted '$(seen)'"
fi
served=$(awk '{ b += ($NF == "-" ? 0 : $NF) } END { printf "%d bytes in %d requests", b, NR }' good.access)
if grep -q '^selfflash-demo: command finished: exit status 0$' "$console"; then
	ok "update_https_update_succeeds ($(($(date +%s) - t2)) s; lighttpd sent $served; $(grep -o 'delta: .*' "$console" | tail -n1))"
else
	not_ok update_https_update_succeeds "$(grep -E 'FAILED|command finished' "$console" | head -n 3)"
fi

# ---- the new slot boots with system 2 and confirms itself ----------------------------------
boot
if [ "$(seen)" = "booted slot B (system version 2)" ] &&
	grep -q '^selfflash-demo: mark-good: slot B confirmed' "$console"; then
	ok update_https_slot_b_boots_system_2_and_confirms
else
	not_ok update_https_slot_b_boots_system_2_and_confirms "booted '$(seen)'; $(grep -o 'mark-good: .*' "$console" | head -n1)"
fi
echo "  $boots boots after the flash; $(($(date +%s) - t0)) s in all"
finish
