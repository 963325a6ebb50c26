#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench's harness on a 64 MiB image (BENCH_QUICK=1, one run each): every section that
# flashes runs to its end and prints its figures. Performance goals are make bench's business,
# not this test's: met or not, a printed figure passes. BENCH=orin is left out: with the
# flasher's timing models its NOR alone is modelled at over a minute per full flash.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

rc=0
start=$(date +%s)
BUILD=$build BENCH_QUICK=1 RUNS=1 BENCH=flash,delta,link,http,boards,fleet,build \
	timeout -k 5 120 bash tests/bench/run.sh >"$out" 2>&1 || rc=$?
took=$(($(date +%s) - start))
sed 's/^/  | /' "$out"
if [ "$rc" = 0 ]; then ok bench_quick_runs; else not_ok bench_quick_runs "exit status $rc"; fi
# its time is told, not asserted: a wall-clock bound fails on a loaded machine, not on slow
# code; the 120 s timeout above is the hard bound (bench_quick_runs fails past it)
echo "  the quick bench took $took s (about a minute on an idle 2-CPU machine)"
# a figure line: name, value, "vs" baseline, ratio, goal with its verdict
fig='^  .+ vs .+ (goal [<>=]+ [^:]+: (met|NOT met)|no goal)$'
expect_line flash_vs_bmaptool_figure "$out" "^  flash incl\. read-back .* vs bmaptool copy .*(met|not measured)$"
expect_line flash_peak_memory_figure "$out" '^  peak memory \(max RSS\), flasher .* goal < 32\.0 MiB: (met|NOT met|not measured)$'
expect_line flash_target_identical "$out" 'target byte-identical to the image after the flash: yes$'
expect_line empty_board_delta_figure "$out" '^  empty board: delta on vs off .* vs delta off .*goal <= 1\.05 x: (met|NOT met)$'
expect_line delta_identical_figure "$out" '^  identical re-flash: bytes sent .* % +goal <= 2 %: (met|NOT met)$'
expect_line delta_changed_figure "$out" '^  1 %-changed image: bytes sent .* % +goal <= 3 %: (met|NOT met)$'
expect_line delta_targets_identical "$out" 'target byte-identical after each: yes, yes$'
expect_line link_40_figure "$out" '^  flash at 40 MB/s +[0-9.]+ s +vs 1\.05 x bytes/rate \+ 1 s'
expect_line link_350_figure "$out" '^  flash at 350 MB/s +[0-9.]+ s +vs 1\.05 x bytes/rate \+ 1 s'
expect_line link_used_bytes_figure "$out" '^  flash at 40 MB/s \(compression\) .* vs 0\.85 x used bytes raw'
expect_line link_relay_counted_bytes "$out" '^  at 40 MB/s: [0-9.]+ s; [1-9][0-9]* bytes crossed the link'
expect_line http_vs_link_figure "$out" '^  http:// flash, 20 ms away +[0-9.]+ s +vs the link, same relay [0-9.]+ s .* no goal$'
expect_line boards_total_figure "$out" '^  4 boards at 40 MB/s: total time .* vs 1\.1 x one board'
expect_line boards_cpu_figure "$out" '^  host CPU per board .* no goal$'
expect_line fleet_total_figure "$out" '^  16 boards at once: total time +[0-9.]+ s +vs one board alone [0-9.]+ s .* no goal$'
expect_line fleet_cpu_floor_figure "$out" '^  16 boards vs their CPU floor .* vs 16 x CPU-s of one / CPUs '
expect_line fleet_bytes_figure "$out" '^  16 boards: bytes the server sent .* vs 16 x the package '
expect_line fleet_each_board_exact "$out" '16 of 16 boards were sent exactly the chunks they lacked; every slot B holds system 2: yes$'
expect_line build_cpus_figure "$out" '^  build: CPUs busy \(CPU / wall\) .* vs CPUs '
expect_line build_deterministic "$out" 'same bytes as the cached build of the same inputs: yes$'
expect_line goals_summary "$out" '^== goals: [0-9]+ of 11 met$'
if grep -Eq "$fig" "$out" && ! grep -Eiq 'traceback|segmentation|core dumped|bench: ' "$out"; then
	ok bench_quick_no_crash
else
	not_ok bench_quick_no_crash "$(grep -Ei 'traceback|segmentation|core dumped|bench: ' "$out" | head -3)"
fi
# the codecs: both decoded by the board's decoders, the test image's figures (the rootfs-like
# system needs NVIDIA's layouts and a minute to build: left out here)
if SELFFLASH_FIXTURES=/nonexistent BUILD=$build BENCH_QUICK=1 RUNS=1 BENCH=codec \
	timeout -k 5 120 bash tests/bench/run.sh >"$out" 2>&1; then
	ok bench_codec_runs
else
	not_ok bench_codec_runs "$(tail -n 5 "$out")"
fi
expect_line codec_zstd_decoded "$out" '^  test image, zstd: package [0-9]+ bytes; decoding .* MB/s, one CPU\)$'
expect_line codec_zlib_decoded "$out" '^  test image, zlib: package [0-9]+ bytes; decoding .* MB/s, one CPU\)$'
expect_line codec_rootfs_skipped "$out" "rootfs-like image: not made \(NVIDIA's layouts are not here"
expect_line codec_decode_figure "$out" '^  test image: decode MB/s, zstd .* vs zlib .*goal >= 3 x: (met|NOT met)$'
# a section alone, and an unknown one refused
if BUILD=$build BENCH_QUICK=1 RUNS=1 BENCH=delta bash tests/bench/run.sh >"$out" 2>&1 &&
	grep -q '^== delta' "$out" && ! grep -q '^== flash' "$out"; then
	ok bench_one_section_alone
else
	not_ok bench_one_section_alone "$(tail -n 5 "$out")"
fi
expect_exit bench_unknown_section_refused 2 "unknown section 'nope'" \
	env BUILD="$build" BENCH=nope bash tests/bench/run.sh
finish
