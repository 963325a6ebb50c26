#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer target over its checked-in seed corpus, then mutates for a bounded time
# (FUZZ_SECONDS, default 20 per target). New inputs go to a scratch corpus, not into git.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
seconds=${FUZZ_SECONDS:-20}
for target in manifest layout frame sparse; do
	bin=$build/fuzz/fuzz_$target
	work=$build/fuzz/corpus-$target
	mkdir -p "$work"
	if "$bin" -runs=0 tests/fuzz/corpus/$target >"$build/fuzz/$target-seeds.log" 2>&1; then
		ok "fuzz_${target}_seed_corpus"
	else
		not_ok "fuzz_${target}_seed_corpus" "$(tail -n 20 "$build/fuzz/$target-seeds.log")"
	fi
	if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"$work" tests/fuzz/corpus/$target >"$build/fuzz/$target.log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz/$target.log" | grep -o '[0-9]*$' || echo '?')
		ok "fuzz_${target}_${seconds}s_${runs}_runs"
	else
		not_ok "fuzz_${target}" "$(grep -A 30 'ERROR\|crash\|deadly' "$build/fuzz/$target.log" | head -n 40)"
	fi
done
finish
