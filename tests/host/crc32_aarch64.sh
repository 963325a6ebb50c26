#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CRC-32 unit test built for the board (static aarch64 musl) under qemu-aarch64-static,
# whose default CPU has the ARMv8 CRC32 instructions: the ARMv8 backend must be the one chosen
# and must pass every case; SELFFLASH_CRC32=portable must fall back to zlib.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
bin=${BUILD:-build}/board/test_crc32
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
board_test_check crc32_aarch64 "$bin" || { finish; exit 1; }
board_test_run "$bin" "$tmp" aarch64 armv8-crc32
expect_line aarch64_uses_armv8_crc32 "$tmp/aarch64.out" '^# crc32 backend: armv8-crc32$'
for case in known_answers mebibyte_patterns every_length_and_alignment random_pieces_against_zlib; do
	expect_line "aarch64_armv8_${case}_ran" "$tmp/aarch64.out" "^ok test_${case}_armv8-crc32\$"
done
board_test_run "$bin" "$tmp" aarch64_forced_portable portable SELFFLASH_CRC32=portable
expect_line aarch64_forced_portable_uses_zlib "$tmp/aarch64_forced_portable.out" '^# crc32 backend: portable$'
finish
