#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test program and counts its case lines ("ok", "not ok", "skip"). A program that
# exits non-zero without reporting a failed case counts as one failure itself. Ends with the
# summary line "N passed, N failed, N skipped". A program that runs longer than
# TEST_TIMEOUT seconds (default 1200) is stopped and counts as failed: a hang must not stall CI.
# Usage: tests/run.sh [--unit-only] BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/.."

unit_only=0
if [ "${1:-}" = --unit-only ]; then unit_only=1; shift; fi
build=${1:-build}
logs=$build/test-logs
mkdir -p "$logs"

programs=("$build"/tests/test_* "$build"/tests/san/test_* "$build"/tests/tsan/test_*)
if [ "$unit_only" = 0 ]; then
	programs+=(tests/host/*.sh tests/fuzz/run.sh tests/e2e/*.sh)
fi

limit=${TEST_TIMEOUT:-1200}
passed=0 failed=0 skipped=0
for prog in "${programs[@]}"; do
	[ -x "$prog" ] || [ "${prog%.sh}" != "$prog" ] || continue
	name=${prog#"$build"/}
	log=$logs/$(echo "$name" | tr '/' '_').log
	start=$(date +%s)
	if [ "${prog%.sh}" != "$prog" ]; then
		BUILD=$build timeout -k 10 "$limit" bash "$prog" >"$log" 2>&1
	elif [ "${prog#"$build"/tests/tsan/}" != "$prog" ]; then
		# without address-space randomisation: TSan's fixed shadow layout can clash with it
		timeout -k 10 "$limit" setarch "$(uname -m)" -R "$prog" >"$log" 2>&1
	else
		timeout -k 10 "$limit" "$prog" >"$log" 2>&1
	fi
	rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok $name (stopped after ${limit} s: it hung)" >>"$log"
	fi
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^skip ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $name (exited $rc without reporting a failed case)" >>"$log"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	printf '%-40s %3d passed, %d failed, %d skipped (%ds)\n' "$name" "$p" "$f" "$s" \
		"$(($(date +%s) - start))"
	grep '^skip ' "$log" | sed 's/^/    /'
	if [ "$f" -ne 0 ]; then
		echo "---- $log"
		tail -n 40 "$log"
		echo "----"
	fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
