#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hostload's Tegra paths from the command line, without hardware: `rcm --usb --dry-run` prints
# the plan for a bundle (every transfer of DESIGN.md section 6, in order, with the chunking), a
# broken bundle is refused naming the file, --kernel/--initrd swap the blob's boot image (the
# dry run shows the blob that would be sent), `list` says no board is in recovery mode, and
# `rcm --qemu` refuses what it cannot boot. (Every transfer is checked against a simulated
# recovery-mode device in tests/unit/test_rcm_tegra.c.)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
hl=$(pwd)/${BUILD:-build}/bin/hostload
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

mkdir bundle
nvda() { { printf NVDA; head -c $(($2 - 4)) /dev/urandom; } >"bundle/$1"; }
head -c 1024 /dev/urandom >bundle/br_bct_BR.bct
nvda mb1_t234_prod_aligned_sigheader.bin.encrypt 40000
nvda psc_bl1_t234_prod_aligned_sigheader.bin.encrypt 32768
nvda mb1_bct_MB1_sigheader.bct.encrypt 9000
head -c 5000 /dev/urandom >bundle/mem_rcm_sigheader.bct.encrypt
# a blob as tegrahost lays it out (DESIGN.md section 6): entries 43 (UEFI), 45 (a boot image),
# 46 (kernel DTB), payloads back to back from 0x450, digest = SHA-512 of 0x48..0x450
python3 - <<'PY'
import hashlib, struct, os
page = 2048
img = b"ANDROID!" + struct.pack("<10I", 100, 0x10008000, 50, 0x11000000, 0, 0x10f00000,
                                0x10000100, page, 0, 0)
img = img.ljust(page, b"\0") + b"K" * 100
img = img.ljust(2 * page, b"\0") + b"R" * 50
img = img.ljust(3 * page, b"\0")
payloads = [(43, os.urandom(70000)), (45, img), (46, os.urandom(3000))]
table, off = b"", 0x450
for t, p in payloads:
    table += struct.pack("<4I", t, off, 0, len(p))
    off += len(p)
rest = (b"salt" + struct.pack("<I", len(payloads)) + table).ljust(0x450 - 0x48, b"\0")
blob = b"blob" + b"\0" * 4 + hashlib.sha512(rest).digest() + rest
open("bundle/blob.bin", "wb").write(blob + b"".join(p for _, p in payloads))
PY

if "$hl" rcm --usb --bundle bundle --dry-run >plan.txt 2>&1; then ok dry_run_succeeds; else not_ok dry_run_succeeds "$(tail -3 plan.txt)"; fi
expect_line dry_run_names_the_board plan.txt 'Jetson AGX Orin 64GB \(0955:7023\)'
expect_line dry_run_reads_the_uid_by_get_descriptor_first plan.txt \
	'^CTRL IN +130 bytes +bmRequestType 0x80 bRequest 6 wValue 0x0303 wIndex 0, 5000 ms'
if [ "$(grep -m1 -n '^CTRL' plan.txt | cut -d: -f1)" -lt "$(grep -m1 -n '^OUT' plan.txt | cut -d: -f1)" ]; then
	ok dry_run_uid_before_any_file
else
	not_ok dry_run_uid_before_any_file
fi
# 40000 bytes of MB1: 16384 + 16384 + 7232; 32768 of PSC BL1: two pieces; never a
# zero-length packet or a status read (section 6 step 4)
if [ "$(grep -c '^OUT .* mb1 mb1_t234' plan.txt)" = 3 ] &&
	grep -Eq '^OUT +7232 bytes +mb1 mb1_t234.* @32768' plan.txt &&
	[ "$(grep -c '^OUT .* psc_bl1 psc_bl1_t234' plan.txt)" = 2 ] &&
	! grep -q 'zero-length\|status' plan.txt; then
	ok dry_run_chunks_16KiB_without_zlp_or_status
else
	not_ok dry_run_chunks_16KiB_without_zlp_or_status
fi
if awk '/^OUT/ && $2 > 16384 { bad = 1 } END { exit bad }' plan.txt; then
	ok dry_run_no_piece_over_16KiB
else
	not_ok dry_run_no_piece_over_16KiB
fi
# the one read between the stages: MB1's version (96 asked, 68 expected), after the reopen
ins=$(grep -c '^IN ' plan.txt)
if [ "$ins" = 1 ] && grep -Eq '^IN +96 bytes +MB1 version and last_boot_error' plan.txt &&
	[ "$(grep -n '^--- close' plan.txt | cut -d: -f1)" -lt "$(grep -n '^IN ' plan.txt | cut -d: -f1)" ] &&
	[ "$(grep -n '^IN ' plan.txt | cut -d: -f1)" -lt "$(grep -n 'bct_mem mem_rcm' plan.txt | grep OUT | head -1 | cut -d: -f1)" ]; then
	ok dry_run_reads_mb1_version_once_between_stages
else
	not_ok dry_run_reads_mb1_version_once_between_stages "$(grep -n '^IN\|^---' plan.txt)"
fi
order=$(grep -o 'sending [a-z_0-9]*' plan.txt | awk '{print $2}' | tr '\n' ' ')
if [ "$order" = "bct_br mb1 psc_bl1 bct_mb1 bct_mem blob " ]; then
	ok dry_run_sends_in_tegraflash_order
else
	not_ok dry_run_sends_in_tegraflash_order "got: $order"
fi

# the payload swap: the blob sent carries the new boot image, the other entries unchanged
head -c 300000 /dev/urandom >Image
head -c 100000 /dev/urandom >initrd
if "$hl" rcm --usb --bundle bundle --dry-run --kernel Image --initrd initrd \
	--cmdline 'console=ttyTCU0 selfflash' >swap.txt 2>&1; then
	ok dry_run_swap_succeeds
else
	not_ok dry_run_swap_succeeds "$(tail -3 swap.txt)"
fi
# boot image: 2048 + 301056 (300000 padded) + 100352 (100000 padded) = 403456 bytes;
# blob: 0x450 + 70000 + 403456 + 3000
expect_line swap_shows_new_kernel_entry swap.txt \
	'entry  1  type 45  offset +71104  size +403456  kernel: boot image v0, kernel 300000, ramdisk 100000 bytes, cmdline "console=ttyTCU0 selfflash"'
expect_line swap_moves_the_following_entry swap.txt 'entry  2  type 46  offset +474560  size +3000'
expect_line swap_keeps_the_first_entry swap.txt 'entry  0  type 43  offset +1104  size +70000'
expect_line swap_recomputes_the_digest swap.txt 'digest matches'
expect_line swap_sends_the_new_blob swap.txt '^OUT +16384 bytes +blob blob.bin \(kernel swapped\) @0'
blob_bytes=$(grep '^OUT .* blob blob.bin' swap.txt | awk '{ s += $2 } END { print s }')
if [ "$blob_bytes" = $((1104 + 70000 + 403456 + 3000)) ]; then
	ok swap_sends_every_byte_of_the_new_blob
else
	not_ok swap_sends_every_byte_of_the_new_blob "$blob_bytes bytes"
fi
expect_exit "swap refuses a missing initrd" 2 'go together' \
	"$hl" rcm --usb --bundle bundle --dry-run --kernel Image
cp bundle/blob.bin blob.good
head -c 100 blob.good >bundle/blob.bin
expect_exit "swap refuses a short blob" 3 'shorter than its 0x450-byte header' \
	"$hl" rcm --usb --bundle bundle --dry-run --kernel Image --initrd initrd
cp blob.good bundle/blob.bin

printf 'XXXX' | dd of=bundle/psc_bl1_t234_prod_aligned_sigheader.bin.encrypt conv=notrunc status=none
expect_exit "file without NVDA refused before sending" 3 'expected "NVDA"' \
	"$hl" rcm --usb --bundle bundle --dry-run
nvda psc_bl1_t234_prod_aligned_sigheader.bin.encrypt 32768
expect_exit "xavier bundle refused for orin files" 3 'T194' \
	"$hl" rcm --usb --bundle bundle --dry-run --product 0x7019
rm bundle/mb1_bct_MB1_sigheader.bct.encrypt
expect_exit "missing bundle file named" 3 'mb1_bct_MB1_sigheader.bct.encrypt' \
	"$hl" rcm --usb --bundle bundle --dry-run
expect_exit "rcm needs a backend" 2 'usage: hostload rcm' "$hl" rcm board.sfpkg
expect_exit "no board in recovery mode" 0 'no device in recovery mode found' "$hl" list
truncate -s 1M small-qspi.img
: >Image
: >initrd
expect_exit "qemu qspi must be 64 MiB" 3 'needs exactly 67108864' \
	"$hl" rcm --qemu --boot-only --kernel Image --initrd initrd --qspi small-qspi.img \
	--disk small-qspi.img
finish
