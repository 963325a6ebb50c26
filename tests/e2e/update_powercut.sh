#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Power cuts during updates on the QEMU board (issue 15): the board is flashed (slot A,
# system 1), then booted again and again with "selfflash update virtio:selfflash.link" to
# systems 2 and 3 in turn (16 MiB apart), and QEMU is killed (SIGKILL: the power goes, the guest's unwritten caches are
# lost) at CUTS moments: random ones over the whole update, and ones just after the target
# slot was disarmed, after its kernel was installed (arming under way) and after it was armed.
# Every boot after a cut must come up on a complete slot: the slot it reports holds exactly
# the system version it reports, byte for byte (checked on the disk image before that boot).
# Then an update without a cut succeeds and its slot boots and confirms itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
cuts=${CUTS:-20}

missing=()
for f in "$build/kernel/Image" "$build/bin/mkflashpkg" "$build/bin/hostload" "$build/board/init" \
	"$build/keys/demo.key" "$build/rootfs/app.ext4"; do
	[ -e "$f" ] || missing+=("$f (make all rootfs)")
done
for tool in qemu-system-aarch64 sfdisk; do
	command -v "$tool" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$tool" >/dev/null ||
		missing+=("$tool (make deps)")
done
if [ "${#missing[@]}" -gt 0 ]; then
	skip update_powercut "missing: ${missing[*]}"
	exit 0
fi
export PATH=$PATH:/sbin:/usr/sbin
root=$(pwd)
work=$(mktemp -d)
hostload_pid=
cleanup() {
	[ -z "$hostload_pid" ] || kill "$hostload_pid" 2>/dev/null || true
	pkill -9 -f "file=$work/nvme.img" 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# ---- the board, flashed with system 1; system 2 packaged for the same layout ----------------
if ! scripts/demo.sh --build "$build" --out "$work" --timeout 300 >"$work/flash.out" 2>&1; then
	not_ok update_powercut_flash "$(tail -n 5 "$work/flash.out")"
	exit 0
fi
cd "$work"
# systems 2 and 3 differ in 16 MiB (--filler), so that every update has that much to fetch
# and write and the cuts fall among real writes; the updates alternate between them
for v in 2 3; do
	"$root/rootfs/build.sh" --kernel "$root/$build/kernel/Image" \
		--flasher "$root/$build/board/init" --mkinitrd "$root/$build/bin/mkinitrd" \
		--pubkey "$root/$build/keys/demo.pub" --system-version $v --filler 16 v$v >v$v.log 2>&1
	"$root/$build/bin/mkflashpkg" build -q -o v$v.sfpkg --layout "$root/rootfs/layout/demo.xml" \
		--dir v$v --key "$root/$build/keys/demo.key" --replicate BCT=16384 --system-version $v
done
declare -A app=([1]="$root/$build/rootfs/app.ext4" [2]=v2/app.ext4 [3]=v3/app.ext4)
part() { # NAME: "offset size" in bytes, from the GPT as sfdisk reads it
	sfdisk --json nvme.img | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == sys.argv[1]: print(p["start"] * 512, p["size"] * 512)' "$1"
}
declare -A offset
read -r offset[A] _ < <(part APP)
read -r offset[B] _ < <(part APP_b)
# which system version slot S holds completely: 1, 2, or "none"
holds() {
	local v len
	for v in 1 2 3; do
		len=$(stat -c %s "${app[$v]}")
		if cmp -s -n "$len" "${app[$v]}" <(dd if=nvme.img iflag=skip_bytes,count_bytes \
			skip="${offset[$1]}" count="$len" status=none); then
			echo "$v"
			return
		fi
	done
	echo none
}

# one power-on with the update command (to system $pkg_version, a downgrade allowed: the
# updates alternate between 2 and 3); $1 how it ends: "random MAX_S" (a cut at a random
# moment within MAX_S seconds of the command's start), "line TEXT" (a cut when the console
# shows TEXT), "none". Sets seen (the slot and version the boot reported), outcome.
boots=0
run() {
	local mode=$1 arg=${2:-} console t0 started=
	boots=$((boots + 1))
	console=$(printf 'boot-%02d.console' "$boots")
	rm -f link.sock
	"$root/$build/bin/hostload" serve --link unix:link.sock --timeout 300 --log "$console.host" \
		"v$pkg_version.sfpkg" >"$console.hostload" 2>&1 &
	hostload_pid=$!
	await_socket link.sock
	"$root/qemu/run-normal.sh" --qspi "$work/qspi.img" --disk "$work/nvme.img" \
		--eeprom agx.eeprom --chip-sku D0 --link link.sock --command "update virtio:selfflash.link --allow-downgrade" --timeout 300 \
		--log "$console" >/dev/null 2>&1 &
	local qemu=$!
	local delay=
	[ "$mode" != random ] || delay=$(python3 -c "import random; print(f'{random.uniform(0, $arg):.3f}')")
	outcome=finished
	while kill -0 "$qemu" 2>/dev/null; do
		if [ -z "$started" ] && grep -q "running the host's command" "$console" 2>/dev/null; then
			started=$(date +%s.%N)
		fi
		if [ -n "$started" ] &&
			{ { [ "$mode" = random ] && python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $started >= $delay else 1)"; } ||
			  { [ "$mode" = line ] && grep -q -- "$arg" "$console"; }; }; then
			# the power goes: QEMU (its command line names this disk) is killed at once
			if pkill -9 -f "file=$work/nvme.img"; then
				outcome="cut ($mode${arg:+ $arg}${delay:+, after ${delay} s})"
			else
				outcome="not cut: no QEMU with file=$work/nvme.img to kill"
			fi
			break
		fi
		sleep 0.02
	done
	wait "$qemu" 2>/dev/null || true
	kill "$hostload_pid" 2>/dev/null || true
	wait "$hostload_pid" 2>/dev/null || true
	hostload_pid=
	if [ "$outcome" = finished ] && [ -n "$started" ]; then
		update_s=$(python3 -c "print($(date +%s.%N) - $started)")
	fi
	seen=$(tr -d '\r' <"$console" | grep -o 'booted slot . (system version [0-9]*)' | head -n1 || true)
}

# a boot reports "slot S (system version V)": slot S must hold exactly system V
check_boot() { # WHAT HOLD_A HOLD_B
	local slot version
	slot=$(sed -n 's/^booted slot \(.\) .*/\1/p' <<<"$seen")
	version=$(sed -n 's/.*system version \([0-9]*\))/\1/p' <<<"$seen")
	local hold=$2
	[ "$slot" = B ] && hold=$3
	if [ -n "$slot" ] && [ "$hold" = "$version" ]; then
		return 0
	fi
	echo "  $1: booted '${seen:-nothing}', slot A held ${2}, slot B held ${3}" >&2
	return 1
}

# the first update, uncut: how long an update takes here
hold_a=$(holds A) hold_b=$(holds B)
pkg_version=2
run none
if check_boot "first boot" "$hold_a" "$hold_b" && [ -n "${update_s:-}" ]; then
	ok update_powercut_uncut_update_finishes
else
	not_ok update_powercut_uncut_update_finishes "$(tail -n 5 "$(printf 'boot-%02d.console' "$boots")")"
	exit 0
fi
window=$(python3 -c "print(f'{$update_s:.2f}')")
echo "  an update takes about $window s from the command's start to the reboot"

# the cuts; each following boot is checked before it starts the next update
# (an update that ends before its moment comes, or one with little to write, is not a cut:
# the loop goes on until CUTS cuts fell inside updates, at most 2 x CUTS boots)
bad=0 real_cuts=0 i=0
while [ "$real_cuts" -lt "$cuts" ] && [ "$i" -lt $((2 * cuts)) ]; do
	i=$((i + 1))
	hold_a=$(holds A) hold_b=$(holds B)
	pkg_version=$((2 + i % 2))
	case $((i % 7)) in
	1) run line "disarmed" ;;
	2) run line "installed" ;;
	3) run line "armed" ;;
	*) run random "$(python3 -c "print(f'{0.9 * $window:.3f}')")" ;;
	esac
	if ! check_boot "boot $boots (before attempt $i)" "$hold_a" "$hold_b"; then
		bad=$((bad + 1))
	fi
	case "$outcome" in cut*) real_cuts=$((real_cuts + 1)) ;; esac
	echo "  $i: $seen, update to $pkg_version; $outcome; then slot A holds $(holds A), slot B $(holds B)"
done
# the boot after the last cut, and an update that is left to finish
hold_a=$(holds A) hold_b=$(holds B)
pkg_version=3
run none
check_boot "boot after the last cut" "$hold_a" "$hold_b" || bad=$((bad + 1))
if [ "$bad" = 0 ] && [ "$real_cuts" -ge "$cuts" ]; then
	ok "update_powercut_${cuts}_cuts_every_boot_on_a_complete_slot ($i boots)"
else
	not_ok "update_powercut_${cuts}_cuts_every_boot_on_a_complete_slot" \
		"$bad boots on an incomplete slot; $real_cuts cuts fell inside an update in $i boots"
fi
last=$(printf 'boot-%02d.console' "$boots")
if tr -d '\r' <"$last" | grep -q 'command finished: exit status 0'; then
	ok update_powercut_update_after_cuts_succeeds
else
	not_ok update_powercut_update_after_cuts_succeeds "$(tr -d '\r' <"$last" | grep -E 'FAILED|command finished' | head -n 3)"
fi
# and the slot it armed boots with system 2 and confirms itself
hold_a=$(holds A) hold_b=$(holds B)
rm -f link.sock
boots=$((boots + 1))
console=$(printf 'boot-%02d.console' "$boots")
"$root/qemu/run-normal.sh" --qspi "$work/qspi.img" --disk "$work/nvme.img" --eeprom agx.eeprom \
	--chip-sku D0 --timeout 300 --log "$console" >/dev/null 2>&1 || true
seen=$(tr -d '\r' <"$console" | grep -o 'booted slot . (system version [0-9]*)' | head -n1 || true)
if check_boot "final boot" "$hold_a" "$hold_b" && [[ "$seen" == *"system version 3"* ]] &&
	tr -d '\r' <"$console" | grep -q 'mark-good: slot . confirmed'; then
	ok update_powercut_updated_slot_boots_and_confirms
else
	not_ok update_powercut_updated_slot_boots_and_confirms "booted '${seen:-nothing}'"
fi
