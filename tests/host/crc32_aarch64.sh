#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CRC-32 unit test built for the board (static aarch64 musl) under qemu-aarch64-static,
# whose default CPU has the ARMv8 CRC32 instructions: the ARMv8 backend must be the one chosen
# and must pass every case; SELFFLASH_CRC32=portable must fall back to zlib.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
bin=$build/board/test_crc32
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$bin" ]; then
	not_ok crc32_aarch64_built "$bin is missing (make $bin)"
	finish
	exit 1
fi
desc=$(file -b "$bin")
case "$desc" in
*"ARM aarch64"*"statically linked"*) ok crc32_aarch64_is_static_aarch64_elf ;;
*) not_ok crc32_aarch64_is_static_aarch64_elf "file says: $desc" ;;
esac

# run NAME EXPECTED_BACKEND [ENV...]: the unit test's cases, relabelled, plus its exit code
run() {
	local name=$1 want=$2 rc=0
	shift 2
	env "$@" qemu-aarch64-static "$bin" --expect-backend "$want" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	sed -n -e "s/^\(ok\|not ok\|skip\) /\1 ${name}:/p" "$tmp/$name.out"
	sed 's/^/  /' "$tmp/$name.err" >&2
	if [ "$rc" -ne 0 ]; then
		not_ok "${name}_exit" "exit code $rc"
	elif ! grep -q '^ok ' "$tmp/$name.out"; then
		not_ok "${name}_exit" "no passing case reported"
	else
		ok "${name}_exit"
	fi
	failures=$((failures + $(grep -c '^not ok ' "$tmp/$name.out" || true)))
}

run aarch64 armv8-crc32
expect_line aarch64_uses_armv8_crc32 "$tmp/aarch64.out" '^# crc32 backend: armv8-crc32$'
for case in known_answers mebibyte_patterns every_length_and_alignment random_pieces_against_zlib; do
	expect_line "aarch64_armv8_${case}_ran" "$tmp/aarch64.out" "^ok test_${case}_armv8-crc32\$"
done
run aarch64_forced_portable portable SELFFLASH_CRC32=portable
expect_line aarch64_forced_portable_uses_zlib "$tmp/aarch64_forced_portable.out" '^# crc32 backend: portable$'
finish
