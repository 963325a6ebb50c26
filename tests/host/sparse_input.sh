#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Android sparse images as mkflashpkg input, made by the distribution's own img2simg: a package
# from the sparse image is no larger than one from the raw image, the native flasher writes
# partitions byte-identical to the raw images, and hostile sparse files are refused with
# nothing written.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
if ! command -v img2simg >/dev/null; then
	skip sparse_input "img2simg is not installed (Debian package android-sdk-libsparse-utils)"
	exit 0
fi
native_setup

cat >board.xml <<'XML'
<partition_layout>
  <device type="nvme" instance="0" sector_size="512" num_sectors="163840">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>33554432</size><filename>APPFILE</filename><align_boundary>1048576</align_boundary></partition>
    <partition name="DATA" type="data"><size>16777216</size><filename>DATAFILE</filename></partition>
    <partition name="small" type="data"><size>1048576</size><filename>SMALLFILE</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
# APP: random data, text, a repeated 4-byte pattern (img2simg makes it a FILL chunk), holes
truncate -s 24M app.img
head -c 3000000 /dev/urandom | dd of=app.img bs=1M seek=2 conv=notrunc status=none
{ yes selfflash-sparse || true; } | head -c 1000000 | dd of=app.img bs=1M seek=8 conv=notrunc status=none
printf '\xde\xad\xbe\xef%.0s' $(seq 1 65536) | dd of=app.img bs=1M seek=12 conv=notrunc status=none
head -c 5000 /dev/urandom | dd of=app.img bs=4096 seek=6000 conv=notrunc status=none
# DATA: an ext4 file system with a few files
mkdir fs
head -c 700000 /dev/urandom >fs/blob
{ yes 'an ext4 file' || true; } | head -c 200000 >fs/text
if mkfs.ext4 -q -F -E root_owner=0:0 -d fs data.img 16M >mkfs.log 2>&1; then
	have_ext4=1
else
	have_ext4=0
	head -c 2000000 /dev/urandom >data.img
	truncate -s 16M data.img
fi
# small: one block of data in a 1 MiB partition
head -c 4096 /dev/urandom >small.img

for f in app data small; do img2simg "$f.img" "$f.simg"; done
if [ "$(od -An -tx4 -N4 app.simg | tr -d ' ')" = ed26ff3a ]; then
	ok img2simg_wrote_sparse_images
else
	not_ok img2simg_wrote_sparse_images "app.simg starts with $(od -An -tx1 -N4 app.simg)"
fi

"$mk" keygen k >/dev/null
build_pkg() { # OUT APP DATA SMALL [extra args]
	local out=$1 app=$2 data=$3 small=$4
	shift 4
	"$mk" build -o "$out" --layout board.xml --key k.key --file APPFILE="$app" \
		--file DATAFILE="$data" --file SMALLFILE="$small" \
		--zero-holes APP --zero-holes DATA --zero-holes small "$@"
}
if build_pkg raw.sfpkg app.img data.img small.img >raw.log 2>&1 &&
	build_pkg sparse.sfpkg app.simg data.simg small.simg >sparse.log 2>&1; then
	ok build_from_sparse_images
else
	not_ok build_from_sparse_images "$(cat raw.log sparse.log)"
fi
sed 's/^/    /' raw.log sparse.log
raw_size=$(stat -c %s raw.sfpkg 2>/dev/null || echo 0)
sparse_size=$(stat -c %s sparse.sfpkg 2>/dev/null || echo 0)
if [ "$sparse_size" -gt 0 ] && [ "$sparse_size" -le "$raw_size" ]; then
	ok "sparse_package_no_larger_than_raw_${sparse_size}_vs_${raw_size}_bytes"
else
	not_ok sparse_package_no_larger_than_raw "sparse $sparse_size bytes, raw $raw_size bytes"
fi
# the same bytes in, the same chunks out, and signing is deterministic: the same package
if cmp -s raw.sfpkg sparse.sfpkg; then
	ok sparse_and_raw_packages_identical
else
	not_ok sparse_and_raw_packages_identical "$(diff <("$mk" show --chunks raw.sfpkg) <("$mk" show --chunks sparse.sfpkg) | head -10)"
fi
if "$mk" verify --pubkey k.pub sparse.sfpkg >verify.log 2>&1; then ok sparse_package_verifies; else not_ok sparse_package_verifies "$(cat verify.log)"; fi

# --replicate copies the expanded image, not the sparse file
cat >nor.xml <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="BCT" type="boot_config_table"><size>262144</size></partition>
  </device>
</partition_layout>
XML
head -c 8192 /dev/urandom >bct.bin
img2simg bct.bin bct.simg
if "$mk" build -q -o bct_raw.sfpkg --layout nor.xml --key k.key --file BCT=bct.bin --replicate BCT=16384 &&
	"$mk" build -q -o bct_sparse.sfpkg --layout nor.xml --key k.key --file BCT=bct.simg --replicate BCT=16384 &&
	cmp -s bct_raw.sfpkg bct_sparse.sfpkg; then
	ok replicated_sparse_image_same_package
else
	not_ok replicated_sparse_image_same_package
fi

"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
# a disk with old contents everywhere: holes must be written as zeros to match
head -c $((80 * 1024 * 1024)) /dev/zero | tr '\0' 'Z' >nvme.img
if "$fl" flash --package sparse.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target nvme=block:nvme.img >flash.log 2>&1; then
	ok flash_sparse_package
else
	not_ok flash_sparse_package "$(tail -5 flash.log)"
fi
# partition offsets as the flasher placed them
offset_of() { sed -n "s/^plan: nvme:0 \+$1 \+offset \+\([0-9]\+\) .*/\1/p" flash.log; }
same_at() { cmp -s -n "$3" "$4" <(dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none); }
for part in APP:app DATA:data small:small; do
	name=${part%%:*} file=${part#*:}.img
	at=$(offset_of "$name")
	if [ -n "$at" ] && same_at nvme.img "$at" "$(stat -c %s "$file")" "$file"; then
		ok "partition_${name}_byte_identical_to_raw_image"
	else
		not_ok "partition_${name}_byte_identical_to_raw_image" "offset '${at}': $(grep -E '^plan' flash.log | head -8)"
	fi
done
if [ "$have_ext4" = 1 ]; then
	at=$(offset_of DATA)
	dd if=nvme.img of=flashed_data.img iflag=skip_bytes,count_bytes skip="$at" count=$((16 * 1024 * 1024)) status=none
	if e2fsck -fn flashed_data.img >fsck.log 2>&1; then ok flashed_ext4_checks_clean; else not_ok flashed_ext4_checks_clean "$(tail -3 fsck.log)"; fi
else
	skip flashed_ext4_checks_clean "mkfs.ext4 -d failed: $(head -c 200 mkfs.log)"
fi

# ---- hostile sparse files: refused, naming the problem, nothing written ---------------------
refused() { # NAME REGEX SPARSE_FILE_FOR_APP
	rm -f bad.sfpkg bad.sfpkg.tmp
	expect_fail "$1" "$2" build_pkg bad.sfpkg "$3" data.img small.img
	if [ -e bad.sfpkg ] || [ -e bad.sfpkg.tmp ]; then not_ok "$1_leaves_nothing"; fi
}
# patch FILE OFFSET HEXBYTES: writes bytes in place
poke() { printf "$(sed 's/\(..\)/\\x\1/g' <<<"$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
cp app.simg truncated.simg
truncate -s $(($(stat -c %s app.simg) - 100)) truncated.simg
refused sparse_truncated_refused 'chunk [0-9]+.* runs? past the end of the file' truncated.simg
cp app.simg badtype.simg
poke badtype.simg 28 c5ca
refused sparse_unknown_chunk_type_refused 'chunk 0: unknown type 0xcac5' badtype.simg
cp app.simg badblock.simg
poke badblock.simg 12 02100000
refused sparse_block_size_refused 'block size 4098, expected a non-zero multiple of 4' badblock.simg
cp app.simg badhdr.simg
poke badhdr.simg 8 1800
refused sparse_file_header_size_refused 'file header size 24, expected at least 28' badhdr.simg
cp app.simg badtotal.simg
poke badtotal.simg 16 01180000
refused sparse_block_total_refused 'cover 6144 blocks, the header says 6145' badtotal.simg
cp app.simg badcrc.simg
poke badcrc.simg 24 01000000
refused sparse_image_crc_refused 'image CRC-32 is 0x[0-9a-f]{8}, the file header says 0x00000001' badcrc.simg
# 24 MiB does not fit the 1 MiB partition
rm -f bad.sfpkg
expect_fail sparse_image_larger_than_partition_refused \
	'partition small: Android sparse image app.simg expands to 25165824 bytes, partition holds 1048576' \
	build_pkg bad.sfpkg app.img data.img app.simg
if [ ! -e bad.sfpkg ] && [ ! -e bad.sfpkg.tmp ]; then ok refused_builds_leave_nothing; else not_ok refused_builds_leave_nothing; fi
finish
