#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hostload's Tegra paths from the command line, without hardware: `rcm --usb --dry-run` prints
# the plan for a bundle (every transfer, in order, with the chunking and zero-length packets),
# a broken bundle is refused naming the file, `list` says no board is in recovery mode, and
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
head -c 1024 /dev/urandom >bundle/br_bct_BR.bct
head -c 40000 /dev/urandom >bundle/mb1_t234_prod_aligned_sigheader.bin.encrypt
head -c 32768 /dev/urandom >bundle/psc_bl1_t234_prod_aligned_sigheader.bin.encrypt
head -c 9000 /dev/urandom >bundle/mb1_bct_MB1_sigheader.bct.encrypt
head -c 5000 /dev/urandom >bundle/mem_rcm_sigheader.bct.encrypt
head -c 3000000 /dev/urandom >bundle/blob.bin

if "$hl" rcm --usb --bundle bundle --dry-run >plan.txt 2>&1; then ok dry_run_succeeds; else not_ok dry_run_succeeds "$(tail -3 plan.txt)"; fi
expect_line dry_run_names_the_board plan.txt 'Jetson AGX Orin 64GB \(0955:7023\)'
expect_line dry_run_reads_the_uid_first plan.txt '^IN +16 bytes +chip UID'
# 40000 bytes of MB1: 16384 + 16384 + 7232, no zero-length packet; 32768 of PSC BL1: two
# pieces and a zero-length packet (a multiple of 512)
if [ "$(grep -c '^OUT .* mb1 mb1_t234' plan.txt)" = 3 ] &&
	grep -Eq '^OUT +7232 bytes +mb1 mb1_t234.* @32768' plan.txt &&
	! grep -q 'zero-length packet: end of mb1 ' plan.txt &&
	grep -q 'zero-length packet: end of psc_bl1' plan.txt; then
	ok dry_run_chunks_16KiB_and_zlp_only_on_512_multiples
else
	not_ok dry_run_chunks_16KiB_and_zlp_only_on_512_multiples
fi
order=$(grep -o 'sending [a-z_0-9]*' plan.txt | awk '{print $2}' | tr '\n' ' ')
if [ "$order" = "bct_br mb1 psc_bl1 bct_mb1 bct_mem blob " ]; then
	ok dry_run_sends_in_tegraflash_order
else
	not_ok dry_run_sends_in_tegraflash_order "got: $order"
fi
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
