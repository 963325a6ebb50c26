#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Updating a running board, natively (issue 15): a board flashed with slot A and B, running A,
# is updated to B from a package file and over the link, with the real systemd-boot backend
# on an ESP directory. Checked: only slot B's partitions change (slot A, the QSPI and the GPT
# stay byte-identical), B is byte-identical to the new images, chunks slot A holds are copied
# on the board instead of fetched, the new kernel and a trial entry are on the ESP, mark-good
# confirms; hostile packages (other key, other board, older, truncated, another layout, one
# that could only write the running slot) are refused with nothing written; a dropped link resumes,
# and a host gone for good leaves slot B unbootable and slot A untouched.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup
mi=$(dirname "$mk")/mkinitrd

layout() { ab_board_layout "$1" "$2"; } # OUT APP_SIZE
layout board.xml 20971520
layout other.xml 16777216
head -c 600000 /dev/urandom >fw.bin
# system 1 and system 2: 12 MiB of data of which about 1 % differs, a kernel each
# with zero windows, as a file system has them (the ext4 journal of a fresh mkfs): holes
# of the package, which a slot must hold as zeros whatever it held before
head -c 12000000 /dev/urandom >app1.img
dd if=/dev/zero of=app1.img bs=64K seek=16 count=32 conv=notrunc status=none
cp app1.img app2.img
printf 'system 2' | dd of=app2.img bs=1 seek=5000000 conv=notrunc status=none
head -c 100000 /dev/urandom | dd of=app2.img bs=1 seek=9000000 conv=notrunc status=none
# a window where system 2 has zeros and system 1 data
dd if=/dev/zero of=app2.img bs=64K seek=100 count=8 conv=notrunc status=none
head -c 700000 /dev/urandom >kernel1
head -c 700000 /dev/urandom >kernel2
for v in 1 2; do
	"$mi" --bootimg boot$v.img --kernel kernel$v --no-ramdisk \
		--cmdline "console=ttyAMA0 system=$v" >/dev/null
done
"$mk" keygen k >/dev/null
"$mk" keygen other >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
pkg() { # OUT VERSION APP KERNEL [LAYOUT [KEY]]
	"$mk" build -q -o "$1" --layout "${5:-board.xml}" --key "${6:-k}.key" --system-version "$2" \
		--variants variants.txt \
		--file APP_A="$3" --file APP_B="$3" --file KERNEL_A="$4" --file KERNEL_B="$4" \
		--chunk-size 65536
}
pkg v1.sfpkg 1 app1.img boot1.img
pkg v2.sfpkg 2 app2.img boot2.img
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
"$mk" eeprom -o nano.eeprom --part-number "699-13767-0000-300 A.0" --serial 2 >/dev/null

# the board: flashed with system 1 in both slots, then slot B filled with other bytes (as a
# slot holds another system's: the update must make it the new image over every byte of its
# partitions, and copy what slot A holds instead of fetching it)
truncate -s 64M nvme.img
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
"$fl" flash --package v1.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img >flash.log 2>&1 ||
	{ tail flash.log; exit 1; }
part() { # NAME: "offset size" in bytes, from the GPT as sfdisk (util-linux) reads it
	sfdisk --json nvme.img | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == sys.argv[1]: print(p["start"] * 512, p["size"] * 512)' "$1"
}
read -r b_off b_size < <(part APP_b)
read -r kb_off kb_size < <(part B_kernel)
junk() { # OFFSET SIZE: 0x5a over the range
	head -c "$2" /dev/zero | tr '\0' '\132' | dd of=nvme.img bs=64K seek="$1" oflag=seek_bytes \
		conv=notrunc status=none
}
junk "$b_off" "$b_size"
junk "$kb_off" "$kb_size"
read -r a_off a_size < <(part APP)
read -r ka_off ka_size < <(part A_kernel)
# the ESP a first flash leaves (the ESP contract: slot A G=2, slot B G=1, both confirmed)
mkdir -p esp/loader/entries esp/selfflash/slot-a esp/selfflash/slot-b
printf 'timeout 0\neditor no\n' >esp/loader/loader.conf
for s in a b; do
	S=$(tr ab AB <<<"$s") g=$([ "$s" = a ] && echo 2 || echo 1) r=$([ "$s" = a ] && echo APP || echo APP_b)
	cp kernel1 esp/selfflash/slot-$s/Image
	printf 'title      selfflash slot %s, system version 1\nsort-key   selfflash\nversion    %s\nlinux      /selfflash/slot-%s/Image\noptions    root=PARTLABEL=%s console=ttyAMA0 system=1\n# selfflash system-version 1\n' \
		"$S" "$g" "$s" "$r" >esp/loader/entries/selfflash-slot-$s.conf
done
cat >board.conf <<CONF
pubkey $tmp/k.pub
eeprom $tmp/agx.eeprom
chip-sku D0
target spi nor-file:$tmp/qspi.img:65536
target nvme block:$tmp/nvme.img
slot-backend systemd-boot
esp $tmp/esp
boot-tries 3
efivars $tmp/sdvars
CONF
sdboot_vars sdvars # systemd-boot booted slot A's entry
sel() { "$fl" "$1" --config board.conf --root-partition "$2" "${@:3}"; }
state() { sha256sum nvme.img qspi.img | cut -d' ' -f1 | tr '\n' ' '; find esp -type f | sort | xargs sha256sum | sha256sum | cut -c1-16; }
bytes_at() { dd if=nvme.img iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none; } # OFFSET LEN
region() { cmp -s -n "$3" <(bytes_at "$2" "$3") "$1"; } # FILE OFFSET LEN: FILE's bytes are there
# FILE OFFSET SIZE: the partition at OFFSET is FILE padded with zeros to SIZE, byte for byte
whole() { cmp <(bytes_at "$2" "$3") <(cat "$1"; head -c $(($3 - $(stat -c %s "$1"))) /dev/zero); }

before=$(state)
if sel update APP v2.sfpkg --dry-run >dry.log 2>&1 && grep -q 'write (slot being updated)' dry.log &&
	grep -q 'APP .*read only (running slot)' dry.log && [ "$(state)" = "$before" ]; then
	echo "ok dry_run_prints_plan_writes_nothing"
else
	echo "not ok dry_run_prints_plan_writes_nothing ($(tail -n 3 dry.log))"
fi

# hostile or unfit packages: refused, nothing written
refused() { # NAME EXPECTED_MESSAGE ARGS...
	local name=$1 want=$2
	shift 2
	if ! sel update "$@" >"$name.log" 2>&1 && grep -q -- "$want" "$name.log" &&
		[ "$(state)" = "$before" ]; then
		echo "ok refused_${name}_nothing_written"
	else
		echo "not ok refused_${name}_nothing_written ($(tail -n 2 "$name.log"))"
	fi
}
pkg otherkey.sfpkg 2 app2.img boot2.img board.xml other
refused other_key "key" APP otherkey.sfpkg
head -c 300000 v2.sfpkg >truncated.sfpkg
refused truncated "truncated\|size\|short" APP truncated.sfpkg
pkg layout.sfpkg 2 app2.img boot2.img other.xml
refused other_layout "layout changed" APP layout.sfpkg
# a package with nothing for slot B: it could only write the running slot
"$mk" build -q -o aonly.sfpkg --layout board.xml --key k.key --system-version 2 \
	--variants variants.txt --file APP_A=app2.img --file KERNEL_A=boot2.img \
	--no-file APP_B --no-file KERNEL_B --chunk-size 65536
refused needs_running_slot "nothing for slot B" APP aonly.sfpkg
sed "s|agx.eeprom|nano.eeprom|" board.conf >nano.conf
if ! "$fl" update --config nano.conf --root-partition APP v2.sfpkg >nano.log 2>&1 &&
	[ "$(state)" = "$before" ]; then
	echo "ok refused_other_board_nothing_written"
else
	echo "not ok refused_other_board_nothing_written ($(tail -n 2 nano.log))"
fi
refused not_a_slot "is no slot" esp v2.sfpkg

# the update: only slot B changes; what slot A holds is copied, not fetched
a_sum=$(bytes_at "$a_off" "$a_size" | sha256sum)
qspi_sum=$(sha256sum <qspi.img)
gpt_sum=$(bytes_at 0 1048576 | sha256sum)
if sel update APP v2.sfpkg >update.log 2>&1; then
	echo "ok update_to_b_succeeds"
else
	echo "not ok update_to_b_succeeds ($(tail -n 3 update.log))"
fi
if whole app2.img "$b_off" "$b_size" && whole boot2.img "$kb_off" "$kb_size" &&
	[ "$(bytes_at "$a_off" "$a_size" | sha256sum)" = "$a_sum" ] &&
	[ "$(sha256sum <qspi.img)" = "$qspi_sum" ] && [ "$(bytes_at 0 1048576 | sha256sum)" = "$gpt_sum" ]; then
	echo "ok only_slot_b_written_slot_a_qspi_gpt_untouched"
else
	echo "not ok only_slot_b_written_slot_a_qspi_gpt_untouched"
fi
read -r zeroed cheaply < <(sed -n 's/.*; \([0-9]*\) zeroed (\([0-9]*\) by the device).*/\1 \2/p' update.log)
# at least the windows and both tails; nearly all of it without writing zeros
least=$((b_size - 12000000 + 40 * 65536 + kb_size - $(stat -c %s boot2.img)))
if [ "${zeroed:-0}" -ge "$least" ] && [ "$((cheaply * 10))" -ge "$((zeroed * 9))" ]; then
	echo "ok holes_and_tails_zeroed_by_the_device ($zeroed zeroed, $cheaply by the device)"
else
	echo "not ok holes_and_tails_zeroed_by_the_device ('$zeroed': $(grep zeroed update.log))"
fi
copied=$(sed -n 's/.* \([0-9]*\) copied on the board.*/\1/p' update.log)
fetched=$(sed -n 's/.*done: \([0-9]*\) bytes fetched.*/\1/p' update.log)
if [ -n "$copied" ] && [ "$copied" -gt 8000000 ] && [ "$fetched" -lt 2000000 ]; then
	echo "ok chunks_in_slot_a_copied_not_fetched ($copied copied, $fetched fetched)"
else
	echo "not ok chunks_in_slot_a_copied_not_fetched (copied '$copied', fetched '$fetched')"
fi
entry=$(ls esp/loader/entries/ | grep 'selfflash-slot-b' || true)
if cmp -s esp/selfflash/slot-b/Image kernel2 && cmp -s esp/selfflash/slot-a/Image kernel1 &&
	[ "$entry" = "selfflash-slot-b+3.conf" ] &&
	grep -q 'options *root=PARTLABEL=APP_b console=ttyAMA0 system=2' "esp/loader/entries/$entry" &&
	grep -q 'system-version 2' "esp/loader/entries/$entry" && [ -f esp/loader/entries/selfflash-slot-a.conf ]; then
	echo "ok trial_entry_and_kernel_on_esp"
else
	echo "not ok trial_entry_and_kernel_on_esp (entries: $(ls esp/loader/entries))"
fi
if sel status APP >status1.log 2>&1 && grep -q 'other slot B: on trial, 3 tries left, system version 2' status1.log; then
	echo "ok status_shows_armed_trial"
else
	echo "not ok status_shows_armed_trial ($(cat status1.log))"
fi
# the board reboots into B (systemd-boot renames the entry on the try)
mv esp/loader/entries/selfflash-slot-b+3.conf esp/loader/entries/selfflash-slot-b+2-1.conf
sdboot_vars sdvars selfflash-slot-b+3.conf
# an update from B while it is on trial would overwrite A, the slot the board falls back to
before=$(sha256sum nvme.img; ls esp/loader/entries)
if ! sel update APP_b v2.sfpkg >trial.log 2>&1 &&
	grep -q 'running slot B is on trial, not confirmed.*selfflash mark-good' trial.log &&
	[ "$(sha256sum nvme.img; ls esp/loader/entries)" = "$before" ]; then
	echo "ok update_from_trial_slot_refused"
else
	echo "not ok update_from_trial_slot_refused ($(tail -n 2 trial.log))"
fi
# B confirms itself
if sel mark-good APP_b >good.log 2>&1 && [ -f esp/loader/entries/selfflash-slot-b.conf ] &&
	sel status APP_b >status2.log 2>&1 && grep -q 'running slot B (APP_b): good, system version 2' status2.log; then
	echo "ok mark_good_confirms_b"
else
	echo "not ok mark_good_confirms_b ($(cat good.log status2.log))"
fi

# running B (system 2): system 1 is older: refused unless allowed
before=$(state)
refused older "older than the installed 2" APP_b v1.sfpkg
if sel update APP_b v1.sfpkg --allow-downgrade >down.log 2>&1 && whole app1.img "$a_off" "$a_size"; then
	echo "ok downgrade_when_allowed"
else
	echo "not ok downgrade_when_allowed ($(tail -n 2 down.log))"
fi

# over the link through a slow relay (so that the cut falls mid-update): the relay dies once
# slot A's entry is gone (disarmed, writing under way) and comes back: the update resumes
relay=$(dirname "$mk")/../bench/relay
serve() { # PKG LOG
	rm -f host.sock
	"$hl" serve --link unix:host.sock --log "$2" --timeout 120 "$1" >"$2.out" 2>&1 &
	pids+=($!)
	hl_pid=$!
	await_socket host.sock
}
start_relay() {
	rm -f in.sock
	"$relay" --rate 1M in.sock host.sock 2>>relay.err &
	pids+=($!)
	relay_pid=$!
	await_socket in.sock
}
disarmed() { # SLOT: waits up to 20 s until the slot's entry is gone
	for _ in $(seq 400); do
		ls esp/loader/entries | grep -q "selfflash-slot-$1" || return 0
		sleep 0.05
	done
	return 1
}
# system 3: 3 MB that neither slot holds, so that the update has to fetch them
cp app1.img app3.img
head -c 3000000 /dev/urandom | dd of=app3.img bs=1 seek=2000000 conv=notrunc status=none
pkg v3.sfpkg 3 app3.img boot2.img
serve v3.sfpkg hl1.log
start_relay
sel update APP_b unix:in.sock --link-timeout 30 >link.log 2>&1 &
up=$!
disarmed a || true
sleep 0.5
kill "$relay_pid" 2>/dev/null || true
wait "$relay_pid" 2>/dev/null || true
sleep 1
start_relay
if wait "$up" && whole app3.img "$a_off" "$a_size" && grep -q 'reconnects' link.log; then
	echo "ok link_drop_resumed"
else
	echo "not ok link_drop_resumed ($(tail -n 3 link.log))"
fi
kill "$relay_pid" "$hl_pid" 2>/dev/null || true

# a host gone for good: the update gives up; the target slot (A) stays unbootable, the
# running slot (B) untouched
sel mark-good APP >/dev/null 2>&1 || true
b_sum=$(bytes_at "$b_off" "$b_size" | sha256sum)
cp app1.img app4.img
head -c 3000000 /dev/urandom | dd of=app4.img bs=1 seek=6000000 conv=notrunc status=none
pkg v4.sfpkg 4 app4.img boot1.img
serve v4.sfpkg hl3.log
start_relay
sel update APP_b unix:in.sock --link-timeout 2 >gone.log 2>&1 &
up=$!
disarmed a || true
sleep 0.5
kill "$relay_pid" "$hl_pid" 2>/dev/null || true
if ! wait "$up" && ! ls esp/loader/entries | grep -q 'selfflash-slot-a' &&
	[ "$(bytes_at "$b_off" "$b_size" | sha256sum)" = "$b_sum" ] &&
	[ -f esp/loader/entries/selfflash-slot-b.conf ] &&
	sel status APP_b >status3.log 2>&1 && grep -q 'slot A is not bootable' status3.log; then
	echo "ok host_gone_target_unbootable_running_untouched"
else
	echo "not ok host_gone_target_unbootable_running_untouched ($(tail -n 2 gone.log); $(ls esp/loader/entries))"
fi

# the tegra backend on the same board: the T234 variables in an efivarfs-like directory
mkdir efivars
var() { # NAME VALUE: attributes 0x07, then a u32
	python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<II", 7, int(sys.argv[1])))' "$2" \
		>"efivars/$1-781e084c-a330-417c-b678-38e696380cb9"
}
var BootChainFwCurrent 1
var RootfsRedundancyLevel 1
var RootfsRetryCountMax 3
var RootfsStatusSlotA 0
var RootfsStatusSlotB 0
# slot B confirmed with system version 3 (the record an update and mark-good leave)
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<IIIQ", 7, 3, 1, 3))' \
	>efivars/SelfflashSlotB-2a812345-13c3-4ab0-98cd-49fab6d8302e
# the rootfs tries register lives in /dev/mem at 0x0C3903A8: a sparse file stands for it
truncate -s $((0x0C391000)) mem.img
mkdir -p sys/class/dmi/id
echo 36.4.3-gcid-38968081 >sys/class/dmi/id/bios_version
sed -e 's/^slot-backend .*/slot-backend tegra/' -e '/^esp /d' -e '/^efivars /d' board.conf >tegra.conf
printf 'efivars %s\nmem-device %s\nsysfs %s\n' "$tmp/efivars" "$tmp/mem.img" "$tmp/sys" >>tegra.conf
sr_rf() { od -An -tx4 -j $((0x0C3903A8)) -N 4 mem.img | tr -d ' '; }
# the firmware set the register up at this boot: magic 0xFACE, chain B, three tries each
printf '\316\372\361\000' | dd of=mem.img bs=1 seek=$((0x0C3903A8)) conv=notrunc status=none
# r35.3.1's launcher loops on a rollback: refused before anything is written, naming the fix
echo 3.1-32827747 >sys/class/dmi/id/bios_version
before=$(sha256sum nvme.img; ls efivars)
if ! "$fl" update --config tegra.conf --root-partition APP_b v4.sfpkg >r35.log 2>&1 &&
	grep -q 'r35.3.1 (from bios_version "3.1-32827747").*r35.4.1 or later' r35.log &&
	[ "$(sha256sum nvme.img; ls efivars)" = "$before" ]; then
	echo "ok tegra_r35_3_1_refused_before_writing"
else
	echo "not ok tegra_r35_3_1_refused_before_writing ($(tail -n 2 r35.log))"
fi
echo 36.4.3-gcid-38968081 >sys/class/dmi/id/bios_version
u32() { python3 -c 'import struct, sys; print(struct.unpack("<I", open(sys.argv[1], "rb").read()[4:8])[0])' \
	"efivars/$1-781e084c-a330-417c-b678-38e696380cb9"; }
if "$fl" update --config tegra.conf --root-partition APP_b v4.sfpkg >tegra.log 2>&1 &&
	[ "$(u32 BootChainFwNext)" = 0 ] && [ "$(u32 RootfsStatusSlotA)" = 0 ] &&
	whole app4.img "$a_off" "$a_size" &&
	"$fl" status --config tegra.conf --root-partition APP_b >tegra-status.log 2>&1 &&
	grep -q 'other slot A: on trial' tegra-status.log && [ "$(sr_rf)" = 00000000 ]; then
	echo "ok tegra_update_requests_chain_a"
else
	echo "not ok tegra_update_requests_chain_a ($(tail -n 3 tegra.log tegra-status.log))"
fi
# the board boots chain A on trial: the firmware took a try and left BootChainFwStatus 0
var BootChainFwCurrent 0
var BootChainFwStatus 0
rm -f efivars/BootChainFwNext-*
printf '\316\372\040\000' | dd of=mem.img bs=1 seek=$((0x0C3903A8)) conv=notrunc status=none
doctor1=0
"$fl" doctor --config tegra.conf --root-partition APP >doctor1.log 2>&1 || doctor1=$?
if [ "$doctor1" = 1 ] && grep -q '^PROBLEM  rootfs tries: this boot is not confirmed: slot A has 2 tries left' doctor1.log &&
	grep -q '^PROBLEM  boot chain: BootChainFwStatus 0 (success) left over' doctor1.log &&
	grep -q '^ok       firmware: r36.4.3 from bios_version' doctor1.log; then
	echo "ok tegra_doctor_names_unconfirmed_boot_and_stale_status"
else
	echo "not ok tegra_doctor_names_unconfirmed_boot_and_stale_status (exit $doctor1: $(cat doctor1.log))"
fi
if "$fl" mark-good --config tegra.conf --root-partition APP >mark.log 2>&1 &&
	[ "$(sr_rf)" = 00000000 ] && [ ! -e efivars/BootChainFwStatus-781e084c-a330-417c-b678-38e696380cb9 ] &&
	grep -q "slot A's tries restored" mark.log &&
	"$fl" doctor --config tegra.conf --root-partition APP >doctor2.log 2>&1 &&
	grep -q '^selfflash doctor: 0 problems$' doctor2.log; then
	echo "ok tegra_mark_good_restores_tries_and_doctor_is_content"
else
	echo "not ok tegra_mark_good_restores_tries_and_doctor_is_content ($(cat mark.log doctor2.log))"
fi
var BootChainFwCurrent 1
# the root says slot A, the firmware says chain B runs: a mix, refused before anything
before=$(sha256sum nvme.img)
if ! "$fl" update --config tegra.conf --root-partition APP v4.sfpkg >mix.log 2>&1 &&
	grep -q 'firmware booted chain B' mix.log && [ "$(sha256sum nvme.img)" = "$before" ]; then
	echo "ok tegra_root_and_chain_disagree_refused"
else
	echo "not ok tegra_root_and_chain_disagree_refused ($(tail -n 2 mix.log))"
fi
