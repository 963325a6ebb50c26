#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delta re-flash end to end (issue 14): hostload serves over a unix socket, the host-built
# flasher flashes NOR and disk files. An identical re-flash sends at most 2 % of the package
# and writes nothing; an image changed in about 1 % of its bytes sends at most 3 %; a target
# whose bytes differ in one byte of one chunk gets that chunk fetched and written (disk and
# NOR); the targets are byte-identical to a flash without delta after each; --no-delta sends
# everything again.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup

cat >board.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="BCT" type="boot_config_table"><size>262144</size></partition>
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>FWFILE</filename></partition>
    <partition name="vars" type="data"><size>262144</size><filename>vars.bin</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="131072">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>50331648</size><filename>APPFILE</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 700000 /dev/urandom >fw.bin
head -c 8192 /dev/urandom >bct.bin
head -c 200000 /dev/urandom >vars.bin
# 40 MiB of data in 48 MiB: random, and text that compresses
truncate -s 48M app.img
head -c 30000000 /dev/urandom | dd of=app.img bs=1M seek=1 conv=notrunc status=none
python3 -c 'import sys; sys.stdout.write("".join(f"line {i} of a text file\n" for i in range(500000))[:10000000])' |
	dd of=app.img bs=1M seek=34 conv=notrunc status=none
"$mk" keygen k >/dev/null
# 64 KiB chunks: a change costs what it touches, at the granularity of a small image
build_pkg() { # OUT APP_IMAGE
	"$mk" build -q -o "$1" --layout board.xml --key k.key --file FWFILE=fw.bin --file BCT=bct.bin \
		--replicate BCT=16384 --file APPFILE="$2" --chunk-size 65536
}
build_pkg board.sfpkg app.img
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null

fresh_targets() {
	head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
	head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img
}
flash() { # source args and extra flasher args
	"$fl" flash "$@" --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img
}
sums() { sha256sum qspi.img nvme.img | cut -d' ' -f1 | tr '\n' ' '; }
# reference: what a flash without delta leaves, for package $1
reference() {
	fresh_targets
	flash --package "$1" --no-delta >"ref-$1.log" 2>&1
	sums
}
# over_link NAME PKG [flasher args]: one flash over the link; sets sent (bytes hostload sent)
over_link() {
	local name=$1 pkg=$2
	shift 2
	rm -f host.sock
	"$hl" serve --json --link unix:host.sock --log "$name.board.log" --timeout 120 "$pkg" \
		>"$name.json" 2>"$name.err" &
	pids+=($!)
	await_socket host.sock
	if ! flash --link unix:host.sock "$@" >"$name.log" 2>&1 || ! wait "${pids[-1]}"; then
		echo "  $name: $(tail -n 3 "$name.log" "$name.err")" >&2
		sent=-1
		return 1
	fi
	sent=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "result": print(e["bytes_sent"])' "$name.json")
}
percent() { python3 -c "print(round(100.0 * $1 / $2, 2))"; }
size=$(stat -c %s board.sfpkg)
want=$(reference board.sfpkg)

# a first flash onto empty targets fetches everything
fresh_targets
over_link first board.sfpkg || true
if [ "$sent" -ge "$size" ] && [ "$(sums)" = "$want" ]; then
	ok "first_flash_sends_the_package ($(percent "$sent" "$size") %)"
else
	not_ok first_flash_sends_the_package "sent $sent of $size"
fi

# identical re-flash: the manifest travels, nothing else; nothing is written
before=$(sums)
over_link identical board.sfpkg || true
p=$(percent "$sent" "$size")
if [ "$sent" -ge 0 ] && python3 -c "import sys; sys.exit(0 if $sent <= 0.02 * $size else 1)"; then
	ok "identical_reflash_sends_${p}_percent"
else
	not_ok identical_reflash_sends_at_most_2_percent "sent $sent of $size ($p %)"
fi
if [ "$(sums)" = "$before" ] &&
	grep -Eq '^flasher: done: 0 bytes written, .*erased 0, written 0;' identical.log; then
	ok identical_reflash_writes_nothing
else
	not_ok identical_reflash_writes_nothing "$(grep 'flasher: done' identical.log)"
fi
expect_line identical_reflash_finds_every_chunk identical.log '^flasher: delta: [0-9]+ chunks .* already in place, 0 .* copied on the board, 0 fetched'

# about 1 % of the image's data changed: 4 scattered 100 KB pieces
cp app.img app2.img
for at in 3 11 19 37; do
	head -c 100000 /dev/urandom | dd of=app2.img bs=1M seek="$at" conv=notrunc status=none
done
build_pkg board2.sfpkg app2.img
size2=$(stat -c %s board2.sfpkg)
want2=$(reference board2.sfpkg)
# back to what the first package left, then update to the changed one
fresh_targets
flash --package board.sfpkg >/dev/null 2>&1
over_link changed board2.sfpkg || true
p=$(percent "$sent" "$size2")
if [ "$sent" -ge 0 ] && python3 -c "import sys; sys.exit(0 if $sent <= 0.03 * $size2 else 1)"; then
	ok "one_percent_change_sends_${p}_percent"
else
	not_ok one_percent_change_sends_at_most_3_percent "sent $sent of $size2 ($p %)"
fi
if [ "$(sums)" = "$want2" ]; then ok changed_image_byte_identical; else not_ok changed_image_byte_identical; fi

# one byte differs on the disk, inside the data of one chunk: that chunk is fetched and
# written, nothing else
printf 'X' | dd of=nvme.img bs=1 seek=$((1048576 + 5 * 1048576 + 4321)) conv=notrunc status=none
over_link onebyte board2.sfpkg || true
if [ "$(sums)" = "$want2" ] &&
	grep -Eq '^flasher: delta: .* 1 fetched' onebyte.log &&
	grep -Eq '^flasher: APP +[0-9]+ bytes: 65536 written' onebyte.log; then
	ok one_changed_disk_byte_gets_its_chunk_fetched_and_written
else
	not_ok one_changed_disk_byte_gets_its_chunk_fetched_and_written \
		"$(grep -E 'delta|APP ' onebyte.log)"
fi
# the same on NOR (a bit cleared, as NOR can): only that erase block is erased and written
vars_at=$(awk '$1 == "plan:" && $3 == "vars" {print $5}' "ref-board2.sfpkg.log")
printf '\000' | dd of=qspi.img bs=1 seek=$((vars_at + 70000)) conv=notrunc status=none
over_link norbyte board2.sfpkg || true
if [ "$(sums)" = "$want2" ] && grep -Eq '^flasher: delta: .* 1 fetched' norbyte.log &&
	grep -Eq '^flasher: vars .* erased 1, written 1;' norbyte.log; then
	ok one_changed_nor_byte_gets_its_block_rewritten
else
	not_ok one_changed_nor_byte_gets_its_block_rewritten "$(grep -E 'delta|vars ' norbyte.log)"
fi

# without delta everything travels again
over_link nodelta board2.sfpkg --no-delta || true
if [ "$sent" -ge "$size2" ] && [ "$(sums)" = "$want2" ]; then
	ok no_delta_sends_everything
else
	not_ok no_delta_sends_everything "sent $sent of $size2"
fi
finish
