#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SHA-256 unit test built for the board (static aarch64 musl) under qemu-aarch64-static,
# whose default CPU has the ARMv8 SHA2 instructions: the ARMv8 backend must be the one chosen
# and must pass every case; SELFFLASH_SHA256=portable must fall back to BearSSL.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
bin=${BUILD:-build}/board/test_sha256
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
board_test_check sha256_aarch64 "$bin" || { finish; exit 1; }
board_test_run "$bin" "$tmp" aarch64 armv8-sha2
expect_line aarch64_uses_armv8_sha2 "$tmp/aarch64.out" '^# sha256 backend: armv8-sha2$'
expect_line aarch64_armv8_cross_check_ran "$tmp/aarch64.out" '^ok test_cross_check_with_bearssl_armv8-sha2$'
board_test_run "$bin" "$tmp" aarch64_forced_portable portable SELFFLASH_SHA256=portable
expect_line aarch64_forced_portable_uses_bearssl "$tmp/aarch64_forced_portable.out" '^# sha256 backend: portable$'
finish
