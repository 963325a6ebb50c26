#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The link end to end with the real binaries on the host: hostload serves a package over a unix
# socket, the host-built flasher flashes file targets from it. The results must be identical to
# a flash from the package file; over a link slowed to 5 MB/s its progress must show a rate, an
# ETA and the averages; ten cuts at random points and a host that dies and is restarted
# must still end with identical targets, re-sending under 5 % of the package (what the host
# sent before a cut is still taken by the board); a board failure
# must become hostload's exit status; hostile command lines are refused.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
relay=$(pwd)/${BUILD:-build}/bench/relay # the rate-limiting relay make bench uses
native_setup

cat >board.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="BCT" type="boot_config_table"><size>262144</size></partition>
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="131072">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>33554432</size><filename>APPFILE</filename></partition>
    <partition name="APP_b" type="data"><size>16777216</size><allocation_attribute>0x808</allocation_attribute></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 700000 /dev/urandom >fw.bin
head -c 8192 /dev/urandom >bct.bin
truncate -s 32M app.img
head -c 12000000 /dev/urandom | dd of=app.img bs=1M seek=2 conv=notrunc status=none
"$mk" keygen k >/dev/null
"$mk" keygen other >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
"$mk" build -q -o board.sfpkg --layout board.xml --key k.key --variants variants.txt \
	--file FWFILE=fw.bin --file BCT=bct.bin --replicate BCT=16384 --file APPFILE=app.img
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1424321012345
pkg_size=$(stat -c %s board.sfpkg)

fresh_targets() {
	head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
	head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img
}
flash() { # source args (--package P | --link L) and extra flasher args
	"$fl" flash "$@" --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img
}
sums() { sha256sum qspi.img nvme.img | cut -d' ' -f1 | tr '\n' ' '; }
json_field() { # file event field
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e=json.loads(l)
    if e["event"]==sys.argv[2]: v=e[sys.argv[3]]
print(v)' "$@"
}

# the reference: the same package flashed from the file
fresh_targets
flash --package board.sfpkg >ref.log 2>&1
want=$(sums)

# 1. a clean flash over the link
fresh_targets
"$hl" serve --link unix:host.sock --log board.log --timeout 120 board.sfpkg >serve1.out 2>&1 &
pids+=($!)
await_socket host.sock
if flash --link unix:host.sock >fl1.log 2>&1 && wait "${pids[-1]}"; then
	ok flash_over_unix_socket_succeeds
else
	not_ok flash_over_unix_socket_succeeds "$(tail -5 fl1.log serve1.out)"
fi
if [ "$(sums)" = "$want" ]; then ok link_flash_identical_to_file_flash; else not_ok link_flash_identical_to_file_flash; fi
expect_line "hostload reports the board's success" serve1.out 'hostload: board 1424321012345 .*: SUCCESS: done:'
expect_line "the board's log is saved on the host" board.log 'flasher: done: .* read back and verified'
expect_line "hostload prints the average rates" serve1.out \
	'^hostload: average over [0-9.]* s: written .* at .*/s, link .* at .*/s$'

# 1b. the same over a link slowed to 5 MB/s (a relay): the progress a user sees mid-flash
fresh_targets
"$hl" serve --json --link unix:host.sock --log slow.log --timeout 120 board.sfpkg >slow.json \
	2>slow.err &
pids+=($!)
await_socket host.sock
"$relay" --rate 5000000 slow.sock host.sock >relay.out 2>&1 &
pids+=($!)
await_socket slow.sock
if flash --link unix:slow.sock >fl1b.log 2>&1 && wait "${pids[-2]}"; then
	ok flash_over_a_slow_link_succeeds
else
	not_ok flash_over_a_slow_link_succeeds "$(tail -5 fl1b.log slow.err)"
fi
kill "${pids[-1]}" 2>/dev/null || true
if [ "$(sums)" = "$want" ]; then ok slow_link_identical_targets; else not_ok slow_link_identical_targets; fi
# mid-flash: a rate over the last seconds and a finite ETA; at the end: the averages
if progress=$(python3 - slow.json <<'PY'
import json, math, sys
events = [json.loads(l) for l in open(sys.argv[1])]
mid = [e for e in events if e["event"] == "progress" and 0 < e["done"] < e["total"]
       and e["rate"] > 0 and e["link_rate"] > 0 and 0 <= e["eta"] < 3600]
res = [e for e in events if e["event"] == "result"][-1]
assert mid, "no progress event with a rate and an ETA"
assert res["avg_rate"] > 0 and res["avg_link_rate"] > 0 and res["done"] == res["total"]
assert math.isclose(res["avg_link_rate"], res["bytes_sent"] / res["seconds"], rel_tol=0.01)
e = mid[len(mid) // 2]
print(f"{len(mid)}_events_eg_{e['rate'] / 1e6:.1f}_MBps_eta_{e['eta']:.1f}_s_link_"
      f"{e['link_rate'] / 1e6:.1f}_MBps_avg_{res['avg_link_rate'] / 1e6:.1f}_MBps")
PY
); then
	ok "slow_link_progress_shows_rate_and_eta_${progress}"
else
	not_ok slow_link_progress_shows_rate_and_eta "$(tail -3 slow.json)"
fi

# 2. ten cuts at random points, in the middle of frames, during one flash
fresh_targets
"$hl" serve --json --link unix:host.sock --log cuts.log --timeout 120 --test-cuts 10 \
	--test-cut-seed 42 --test-cut-after $((pkg_size / 12)) board.sfpkg >cuts.json 2>cuts.err &
pids+=($!)
await_socket host.sock
if flash --link unix:host.sock >fl2.log 2>&1 && wait "${pids[-1]}"; then
	ok flash_survives_ten_cuts
else
	not_ok flash_survives_ten_cuts "$(tail -5 fl2.log cuts.err)"
fi
if [ "$(sums)" = "$want" ]; then ok ten_cuts_identical_targets; else not_ok ten_cuts_identical_targets; fi
conns=$(json_field cuts.json result connections)
sent=$(json_field cuts.json result bytes_sent)
if [ "$conns" -ge 11 ]; then ok "cut_run_used_${conns}_connections"; else not_ok cut_run_connections "$conns"; fi
# everything re-sent (cut-off frames, the manifest re-read to check the package) under 5 %
extra=$(python3 -c "print(round(100.0 * ($sent - $pkg_size) / $pkg_size, 2))")
if python3 -c "import sys; sys.exit(0 if $sent < 1.05 * $pkg_size else 1)"; then
	ok "ten_cuts_resent_${extra}_percent_of_the_package"
else
	not_ok ten_cuts_resent_under_5_percent "sent $sent for $pkg_size bytes"
fi
if grep -q '"event":"progress"' cuts.json && grep -q '"event":"link-down"' cuts.json &&
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' cuts.json; then
	ok json_events_one_per_line_with_progress_and_link_down
else
	not_ok json_events_one_per_line_with_progress_and_link_down
fi

# 3. the host dies in the middle and is started again: the board resumes with the new one
fresh_targets
"$hl" serve --link unix:host.sock --log restart.log --timeout 120 \
	--test-exit-after $((pkg_size / 2)) board.sfpkg >restart1.out 2>&1 &
first=$!
pids+=($first)
await_socket host.sock
flash --link unix:host.sock --link-timeout 60 >fl3.log 2>&1 &
board=$!
pids+=($board)
rc1=0
wait "$first" || rc1=$?
rm -f host.sock
"$hl" serve --link unix:host.sock --log restart.log --timeout 120 board.sfpkg >restart2.out 2>&1 &
second=$!
pids+=($second)
if [ "$rc1" = 4 ] && wait "$board" && wait "$second"; then
	ok flash_resumes_with_a_restarted_host
else
	not_ok flash_resumes_with_a_restarted_host "first host $rc1; $(tail -5 fl3.log restart2.out)"
fi
if [ "$(sums)" = "$want" ]; then ok host_restart_identical_targets; else not_ok host_restart_identical_targets; fi
sent2=$(sed -n 's/^hostload: sent \([0-9]*\) bytes.*/\1/p' restart2.out)
if [ -n "$sent2" ] && [ "$sent2" -lt $((pkg_size * 6 / 10)) ]; then
	ok "restarted_host_sent_only_the_rest_${sent2}_bytes"
else
	not_ok restarted_host_sent_only_the_rest "sent ${sent2:-?} of $pkg_size"
fi

# 4. the board fails (a package signed by another key): hostload exits 1 with the reason
fresh_targets
before=$(sums)
"$mk" build -q -o bad.sfpkg --layout board.xml --key other.key --variants variants.txt \
	--file FWFILE=fw.bin --file BCT=bct.bin --file APPFILE=app.img
"$hl" serve --link unix:host.sock --log bad.log --timeout 60 bad.sfpkg >bad.out 2>&1 &
pids+=($!)
await_socket host.sock
flash --link unix:host.sock >fl4.log 2>&1 || true
rc=0
wait "${pids[-1]}" || rc=$?
if [ "$rc" = 1 ] && grep -q 'FAILED: package is signed by another key' bad.out; then
	ok board_failure_is_hostload_exit_status_1
else
	not_ok board_failure_is_hostload_exit_status_1 "rc $rc: $(tail -3 bad.out)"
fi
if [ "$(sums)" = "$before" ]; then ok refused_package_wrote_nothing; else not_ok refused_package_wrote_nothing; fi

# 5. hostile or mistaken command lines
expect_exit "unknown command" 2 'unknown command' "$hl" fly board.sfpkg
expect_exit "no package" 2 'usage: hostload serve' "$hl" serve --link unix:x.sock
expect_exit "not a package" 3 'not a selfflash package' "$hl" serve --link unix:x.sock fw.bin
expect_exit "bad link spec" 3 "expected unix:PATH" "$hl" serve --timeout 1 --link carrier:1 board.sfpkg
expect_exit "board link spec" 2 "expected unix:PATH" "$fl" flash --link nowhere --allow-unsigned \
	--eeprom agx.eeprom
expect_exit "host never there" 1 'no host on unix:' "$fl" flash --link unix:none.sock \
	--link-timeout 1 --allow-unsigned --eeprom agx.eeprom --target spi=nor-file:qspi.img:65536
finish
