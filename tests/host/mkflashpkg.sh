#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkflashpkg as a user runs it: keys that openssl reads and writes, layouts (NVIDIA's own when
# ../shared/fixtures is present), build -> show -> verify, sparse inputs, hostile inputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
mk=$(pwd)/$build/bin/mkflashpkg
fixtures=${SELFFLASH_FIXTURES:-../shared/fixtures/nvidia-l4t-r35.3.1}
fixtures=$(cd "$fixtures" 2>/dev/null && pwd || echo "$fixtures")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# ---- keys and openssl ------------------------------------------------------------------
"$mk" keygen dev >/dev/null
if [ "$(stat -c %a dev.key)" = 600 ]; then ok keygen_private_key_mode_0600; else not_ok keygen_private_key_mode_0600; fi
expect_fail keygen_never_overwrites 'File exists' "$mk" keygen dev
if openssl ec -in dev.key -pubout -out dev.openssl.pub 2>/dev/null && cmp -s dev.pub dev.openssl.pub; then
	ok openssl_reads_our_private_key_and_agrees_on_public
else
	not_ok openssl_reads_our_private_key_and_agrees_on_public
fi
openssl ecparam -genkey -name prime256v1 -noout -out ossl.key 2>/dev/null
openssl ec -in ossl.key -pubout -out ossl.pub 2>/dev/null

cat >demo.xml <<'XML'
<?xml version="1.0"?>
<partition_layout version="01.00.0000">
  <device type="spi" instance="0" sector_size="512" num_sectors="131072">
    <partition name="BCT" type="boot_config_table"><size>1048576</size></partition>
    <partition name="A_uefi" type="data"><size>4194304</size><filename>UEFIFILE</filename><align_boundary>65536</align_boundary></partition>
    <partition name="B_uefi" type="data"><size>4194304</size><filename>UEFIFILE</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="8388608">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="esp" type="data"><size>33554432</size><filename>esp.img</filename>
      <partition_type_guid>C12A7328-F81F-11D2-BA4B-00A0C93EC93B</partition_type_guid></partition>
    <partition name="APP" type="data"><size>APPSIZE</size><filename>APPFILE</filename><align_boundary>1048576</align_boundary></partition>
    <partition name="UDA" type="data"><size></size><allocation_attribute>0x808</allocation_attribute></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
head -c 1500000 /dev/urandom >uefi.bin
head -c 8192 /dev/urandom >bct.bin
truncate -s 16M esp.img
printf 'hello from the esp' | dd of=esp.img bs=1 seek=3000000 conv=notrunc 2>/dev/null

# ---- layout ----------------------------------------------------------------------------
"$mk" layout demo.xml >layout.txt
expect_line layout_prints_offset_and_hex layout.txt '^spi:0 +A_uefi +1048576 \(0x100000\) +4194304 \(0x400000\) +slot=A file=UEFIFILE$'
expect_line layout_unresolved_placeholder layout.txt '^nvme:0 +APP +34603008 \(0x2100000\) +unresolved\(APPSIZE\)'
expect_line layout_unknown_after_unresolved layout.txt '^nvme:0 +UDA +\? '
expect_line layout_secondary_gpt_at_end layout.txt '^spi:0 +secondary_gpt +67091968 \(0x3ffbe00\) +16896 \(0x4200\) +at-end$'
"$mk" layout --set APPSIZE=0x10000000 demo.xml >layout2.txt
expect_line layout_set_resolves_and_fills layout2.txt '^nvme:0 +UDA +303038464 \(0x12100000\) +3991911936 \(0xedefbe00\) +fill-to-end$'

if [ -d "$fixtures" ]; then
	for f in "$fixtures"/*.xml; do
		name=$(basename "$f" .xml)
		if out=$("$mk" layout "$f" 2>&1); then
			lines=$(($(wc -l <<<"$out") - 1))
			parts=$(grep -c '<partition ' "$f" || true)
			if [ "$lines" = "$parts" ]; then ok "nvidia_layout_$name ($parts partitions)"; else not_ok "nvidia_layout_$name" "$lines lines for $parts partitions"; fi
		else
			not_ok "nvidia_layout_$name" "$out"
		fi
	done
else
	skip nvidia_layouts "no $fixtures"
fi

# ---- build, show, verify ---------------------------------------------------------------
truncate -s 256M app.img
head -c 2000000 /dev/urandom | dd of=app.img bs=1M seek=100 conv=notrunc 2>/dev/null
"$mk" build -q -o demo.sfpkg --layout demo.xml --key dev.key --set APPSIZE=0x10000000 \
	--file UEFIFILE=uefi.bin --file APPFILE=app.img --file BCT=bct.bin --replicate BCT=16384
"$mk" show demo.sfpkg >show.txt
expect_line show_names_key show.txt "^signature: ECDSA P-256, key id [0-9a-f]{16}$"
expect_line show_replicated_bct show.txt '^  partition BCT .* replicated header-first$'
expect_line show_esp_guid show.txt 'type-guid C12A7328-F81F-11D2-BA4B-00A0C93EC93B'
expect_line show_sparse_app show.txt '^    image: 268435456 bytes, 2097152 in 2 chunks'
if "$mk" verify --pubkey dev.pub demo.sfpkg >verify.txt; then ok verify_roundtrip; else not_ok verify_roundtrip "$(cat verify.txt)"; fi
expect_fail verify_other_key 'signed by another key' "$mk" verify --pubkey ossl.pub demo.sfpkg
# --codec: zstd (the default) and zlib each build, name their chunks and verify (decoded)
cp app.img app-text.img
{ yes 'compressible text for both codecs' || true; } | head -c 3000000 | dd of=app-text.img bs=1M seek=200 conv=notrunc 2>/dev/null
for codec in zstd zlib; do
	"$mk" build -q -o "c-$codec.sfpkg" --codec "$codec" --layout demo.xml --key dev.key \
		--set APPSIZE=0x10000000 --file UEFIFILE=uefi.bin --file APPFILE=app-text.img --file BCT=bct.bin
	"$mk" show --chunks "c-$codec.sfpkg" >"c-$codec.txt"
	expect_line "show_${codec}_chunks" "c-$codec.txt" " stored [0-9]+ $codec sha256 "
	if "$mk" verify --pubkey dev.pub "c-$codec.sfpkg" >/dev/null; then ok "verify_$codec"; else not_ok "verify_$codec"; fi
done
expect_fail codec_unknown "codec 'xz': expected zstd, zstd:LEVEL \(1\.\.19\) or zlib" \
	"$mk" build -o x.sfpkg --codec xz --layout demo.xml --key dev.key
expect_fail codec_level_past_19 "codec 'zstd:20': expected zstd, zstd:LEVEL \(1\.\.19\) or zlib" \
	"$mk" build -o x.sfpkg --codec zstd:20 --layout demo.xml --key dev.key
# zstd:LEVEL: a higher level stores real executables in fewer bytes, and still verifies
cp app.img app-elf.img
{ find /usr/bin -maxdepth 1 -type f -size +100k | sort | head -n 40 | xargs cat || true; } |
	head -c 4000000 | dd of=app-elf.img bs=1M seek=200 conv=notrunc 2>/dev/null
for level in 1 19; do
	"$mk" build -q -o "l$level.sfpkg" --codec "zstd:$level" --layout demo.xml --key dev.key \
		--set APPSIZE=0x10000000 --file UEFIFILE=uefi.bin --file APPFILE=app-elf.img --file BCT=bct.bin
done
if [ "$(stat -c %s l19.sfpkg)" -lt "$(stat -c %s l1.sfpkg)" ] &&
	"$mk" verify --pubkey dev.pub l19.sfpkg >/dev/null; then
	ok "zstd_level_19_smaller_than_1_$(stat -c %s l19.sfpkg)_vs_$(stat -c %s l1.sfpkg)"
else
	not_ok zstd_level_19_smaller_than_1 "$(stat -c %s l19.sfpkg) vs $(stat -c %s l1.sfpkg)"
fi
expect_fail verify_needs_key 'usage' "$mk" verify demo.sfpkg

# a package signed with an openssl key; openssl checks our signature over header || manifest
"$mk" build -q -o ossl.sfpkg --layout demo.xml --key ossl.key --set APPSIZE=0x10000000 \
	--file UEFIFILE=uefi.bin --file APPFILE=app.img --no-file BCT
if "$mk" verify --pubkey ossl.pub ossl.sfpkg >/dev/null; then ok openssl_key_signs_packages; else not_ok openssl_key_signs_packages; fi
msize=$(od -An -t u8 -j 24 -N 8 ossl.sfpkg | tr -d ' ')
siglen=$(od -An -t u4 -j 64 -N 4 ossl.sfpkg | tr -d ' ')
{
	dd if=ossl.sfpkg bs=64 count=1 status=none
	dd if=ossl.sfpkg iflag=skip_bytes,count_bytes skip=192 count="$msize" status=none
} >signed.bin
dd if=ossl.sfpkg iflag=skip_bytes,count_bytes skip=72 count="$siglen" status=none >sig.der
if openssl dgst -sha256 -verify ossl.pub -signature sig.der signed.bin >/dev/null 2>&1; then
	ok openssl_verifies_package_signature
else
	not_ok openssl_verifies_package_signature
fi

# same inputs, same package (ECDSA per RFC 6979 is deterministic)
"$mk" build -q -o again.sfpkg --layout demo.xml --key ossl.key --set APPSIZE=0x10000000 \
	--file UEFIFILE=uefi.bin --file APPFILE=app.img --no-file BCT
if cmp -s ossl.sfpkg again.sfpkg; then ok build_is_deterministic; else not_ok build_is_deterministic; fi

# chunks are worked on by N threads, written in order: the same package for every N
same=1
for jobs in 1 3 8; do
	"$mk" build -q -o jobs.sfpkg --layout demo.xml --key dev.key --set APPSIZE=0x10000000 \
		--file UEFIFILE=uefi.bin --file APPFILE=app.img --file BCT=bct.bin --replicate BCT=16384 \
		--jobs "$jobs"
	cmp -s demo.sfpkg jobs.sfpkg || { same=0; echo "  --jobs $jobs differs from the default" >&2; }
done
if [ "$same" = 1 ]; then ok build_same_bytes_for_every_jobs; else not_ok build_same_bytes_for_every_jobs; fi
expect_fail jobs_zero_refused "--jobs '0': expected 1..256" \
	"$mk" build -o x.sfpkg --layout demo.xml --key dev.key --jobs 0
expect_fail jobs_not_a_number_refused "--jobs 'many': expected 1..256" \
	"$mk" build -o x.sfpkg --layout demo.xml --key dev.key --jobs many
"$mk" --help >help.txt
expect_line help_names_jobs help.txt '\[-j\|--jobs N\]'

# ---- the rootfs's own version file (anti-rollback on a tegra board's first mark-good) ------
# A first-flashed tegra slot's version is recorded from /etc/selfflash/system-version of the
# running system: an APP image given as ext4 must say the package's --system-version.
mkdir -p vtree/etc/selfflash
echo 3 >vtree/etc/selfflash/system-version
mke2fs -q -F -t ext4 -d vtree app3.ext4 16M >/dev/null 2>&1
mke2fs -q -F -t ext4 appnone.ext4 16M >/dev/null 2>&1
vbuild() { # IMAGE [options]: build the demo layout with IMAGE as APP
	local img=$1
	shift
	"$mk" build -o v.sfpkg --layout demo.xml --key dev.key --set APPSIZE=0x10000000 \
		--file UEFIFILE=uefi.bin --file APPFILE="$img" --no-file BCT "$@"
}
if vbuild app3.ext4 --system-version 3 >v3.out 2>v3.err && grep -q 'APP .*system-version says 3, as --system-version' v3.out &&
	! grep -q . v3.err; then
	ok ext4_rootfs_saying_the_version_accepted
else
	not_ok ext4_rootfs_saying_the_version_accepted "$(cat v3.out v3.err)"
fi
rm -f v.sfpkg
expect_fail ext4_rootfs_saying_another_version_refused \
	"partition APP: app3.ext4's /etc/selfflash/system-version says 3, but --system-version is 4" \
	vbuild app3.ext4 --system-version 4
[ ! -e v.sfpkg ] && [ ! -e v.sfpkg.tmp ] && ok mismatching_version_writes_no_package ||
	not_ok mismatching_version_writes_no_package
if vbuild appnone.ext4 --system-version 3 >vnone.out 2>vnone.err &&
	grep -q 'warning: partition APP: appnone.ext4 has no /etc/selfflash/system-version' vnone.err &&
	grep -q 'first update is refused unless given --allow-downgrade' vnone.err &&
	grep -q 'Add the file to the rootfs (one line: 3)' vnone.err; then
	ok ext4_rootfs_without_version_file_warned
else
	not_ok ext4_rootfs_without_version_file_warned "$(cat vnone.out vnone.err)"
fi
# without --system-version the package has no anti-rollback: nothing is read, nothing said
if vbuild app3.ext4 >vno.out 2>vno.err && ! grep -q system-version vno.out vno.err &&
	vbuild appnone.ext4 >vno.out 2>vno.err && ! grep -q system-version vno.out vno.err; then
	ok rootfs_version_not_read_without_system_version
else
	not_ok rootfs_version_not_read_without_system_version "$(cat vno.out vno.err)"
fi
# A systemd-boot board's version is its ESP loader entries' system-version line: an ESP image
# (FAT, read with mtools) whose selfflash entries say another number is refused, one without
# the line warned about, a FAT image without selfflash entries left alone.
espv() { # IMAGE SLOT-A-LINE SLOT-B-LINE: a FAT ESP with both slots' entries
	rm -f "$1"
	mkfs.vfat -C "$1" 4096 >/dev/null
	MTOOLS_SKIP_CHECK=1 mmd -i "$1" ::/loader ::/loader/entries
	printf 'title slot a\nlinux /selfflash/slot-a/Image\n%b' "$2" |
		MTOOLS_SKIP_CHECK=1 mcopy -i "$1" - ::/loader/entries/selfflash-slot-a.conf
	printf 'title slot b\nlinux /selfflash/slot-b/Image\n%b' "$3" |
		MTOOLS_SKIP_CHECK=1 mcopy -i "$1" - ::/loader/entries/selfflash-slot-b.conf
}
if command -v mkfs.vfat >/dev/null && command -v mcopy >/dev/null; then
	espv esp3.vfat '# selfflash system-version 3\n' '# selfflash system-version 3\n'
	if vbuild app3.ext4 --system-version 3 --file esp.img=esp3.vfat >e3.out 2>e3.err &&
		grep -q 'esp .*selfflash-slot-a.conf says 3, as --system-version' e3.out &&
		grep -q 'esp .*selfflash-slot-b.conf says 3, as --system-version' e3.out && ! grep -q . e3.err; then
		ok esp_entries_saying_the_version_accepted
	else
		not_ok esp_entries_saying_the_version_accepted "$(cat e3.out e3.err)"
	fi
	espv esp2.vfat '# selfflash system-version 3\n' 'version 9\n# selfflash system-version 2\n'
	rm -f v.sfpkg
	expect_fail esp_entry_saying_an_older_version_refused \
		"partition esp: esp2.vfat's loader/entries/selfflash-slot-b.conf says system version 2, but --system-version is 3" \
		vbuild app3.ext4 --system-version 3 --file esp.img=esp2.vfat
	[ ! -e v.sfpkg ] && ok esp_mismatch_writes_no_package || not_ok esp_mismatch_writes_no_package
	espv espnone.vfat '' 'options quiet\n'
	if vbuild app3.ext4 --system-version 3 --file esp.img=espnone.vfat >en.out 2>en.err &&
		[ "$(grep -c "warning: partition esp: espnone.vfat's loader/entries/selfflash-slot-.\.conf has no" en.err)" = 2 ] &&
		grep -q 'add the line saying 3' en.err; then
		ok esp_entries_without_version_warned
	else
		not_ok esp_entries_without_version_warned "$(cat en.out en.err)"
	fi
	rm -f espbare.vfat
	mkfs.vfat -C espbare.vfat 4096 >/dev/null
	if vbuild app3.ext4 --system-version 3 --file esp.img=espbare.vfat >eb.out 2>eb.err &&
		! grep -q 'esp ' eb.out && ! grep -q . eb.err; then
		ok fat_image_without_selfflash_entries_not_checked
	else
		not_ok fat_image_without_selfflash_entries_not_checked "$(cat eb.out eb.err)"
	fi
	rm -f esp3.vfat esp2.vfat espnone.vfat espbare.vfat
else
	skip esp_entries_version "mkfs.vfat or mtools is not installed (make deps)"
fi
rm -f app3.ext4 appnone.ext4 v.sfpkg

# ---- a 2 GiB sparse image with 200 MiB of data ----------------------------------------
cat >big.xml <<'XML'
<partition_layout>
  <device type="nvme" instance="0" sector_size="512" num_sectors="8388608">
    <partition name="APP" type="data"><size>2147483648</size><filename>big.img</filename></partition>
  </device>
</partition_layout>
XML
truncate -s 2G big.img
for at in 0 500 1100 1900; do
	head -c $((50 * 1024 * 1024)) /dev/urandom | dd of=big.img bs=1M seek=$at conv=notrunc 2>/dev/null
done
start=$(date +%s)
"$mk" build -q -o big.sfpkg --layout big.xml --key dev.key
size=$(stat -c %s big.sfpkg)
limit=$((200 * 1024 * 1024 + 1024 * 1024))
if [ "$size" -le "$limit" ]; then
	ok "sparse_2GiB_with_200MiB_packs_to_$((size / 1024 / 1024))MiB_in_$(($(date +%s) - start))s"
else
	not_ok sparse_2GiB_with_200MiB "package is $size bytes"
fi
rm -f big.img big.sfpkg

# ---- hostile inputs: one clear line, non-zero exit, no output --------------------------
sed 's|<size>1048576</size>|<size>1048576</size><bogus/>|' demo.xml >unknown.xml
expect_fail xml_unknown_element 'unknown element <bogus> in partition BCT' "$mk" layout unknown.xml
expect_fail placeholder_without_file 'no file for UEFIFILE' \
	"$mk" build -o x.sfpkg --layout demo.xml --key dev.key --set APPSIZE=0x10000000 --file APPFILE=app.img --no-file BCT
expect_fail unresolved_size 'size APPSIZE is unresolved' \
	"$mk" build -o x.sfpkg --layout demo.xml --key dev.key --file UEFIFILE=uefi.bin --file APPFILE=app.img --no-file BCT
head -c 5000000 /dev/urandom >huge.bin
expect_fail file_larger_than_partition 'partition A_uefi: file huge.bin is 5000000 bytes, partition holds 4194304' \
	"$mk" build -o x.sfpkg --layout demo.xml --key dev.key --set APPSIZE=0x10000000 --file UEFIFILE=huge.bin --file APPFILE=app.img --no-file BCT
expect_fail replicate_unknown_partition 'no partition named NOPE' \
	"$mk" build -o x.sfpkg --layout demo.xml --key dev.key --set APPSIZE=0x10000000 --file UEFIFILE=uefi.bin --file APPFILE=app.img --no-file BCT --replicate NOPE=16384
expect_fail build_needs_key 'no signing key' \
	"$mk" build -o x.sfpkg --layout demo.xml --set APPSIZE=0x10000000 --file UEFIFILE=uefi.bin --file APPFILE=app.img --no-file BCT
expect_fail bad_set 'expected KEY=VALUE' "$mk" layout --set APPSIZE demo.xml
if [ ! -e x.sfpkg ] && [ ! -e x.sfpkg.tmp ]; then ok failed_builds_leave_nothing; else not_ok failed_builds_leave_nothing; fi
head -c 100 demo.sfpkg >short.sfpkg
expect_fail truncated_package 'shorter than its 192-byte header' "$mk" verify --pubkey dev.pub short.sfpkg
cp demo.sfpkg bad.sfpkg
at=$(($(stat -c %s bad.sfpkg) - 10))
byte=$(od -An -t u1 -j "$at" -N 1 bad.sfpkg | tr -d ' ')
printf "\\$(printf %03o $((byte ^ 0xff)))" | dd of=bad.sfpkg bs=1 seek="$at" conv=notrunc status=none
expect_fail corrupt_chunk 'partition APP, chunk [0-9]+: stored bytes corrupt' "$mk" verify --pubkey dev.pub bad.sfpkg
expect_fail unknown_command "unknown command 'frobnicate'" "$mk" frobnicate
finish
