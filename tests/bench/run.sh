#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: every figure next to a baseline measured in the same run on the same machine,
# with its ratio and goal (issue 14) where it has one. Sections (BENCH=a,b,... picks some; all
# by default):
#  hash    SHA-256 and CRC-32 backends (bench_hash).
#  native  hostload serve -> unix socket -> the host-built flasher writing a disk image, next
#          to a plain copy of the same package bytes through a unix socket (sockcopy), both
#          sides' CPU time and the bound two SHA-256 passes put on the ratio (no goal: issue
#          14 retired issue 5's 0.85 of the copy).
#  flash   the test image (tests/bench/image.py: 2 GiB ext4, 466 MiB used) flashed over the
#          link with read-back onto a fresh target file, next to `bmaptool copy` of the same
#          image onto a fresh file (fsync, no read-back); peak memory of both; the floor the
#          work a flash cannot skip (inflate, two SHA-256 passes, kernel copies) puts on it;
#          and `bmaptool copy` of the image compressed with zstd (what users of compressed
#          images run).
#  codec   the same image packed with each chunk codec (zstd, the default, and zlib): package
#          bytes and decode CPU per GB of raw data (bench_codec: the board's decoders alone,
#          one CPU) on the test image and on the orin section's rootfs-like system (the goals,
#          when NVIDIA's layouts are here to build it), and the flash time of the test image.
#  delta   bytes hostload sends to re-flash the identical package, then the 1 %-changed one,
#          onto the target the previous flash left.
#  link    full flashes through tests/bench/relay at 40 MB/s (USB 2) and 350 MB/s (USB 3):
#          time against what the link needs for the bytes sent, and at 40 MB/s against
#          sending the image's used bytes raw.
#  boards  one hostload serving 4 flashers, each through its own 40 MB/s relay connection:
#          total time against one board's, host CPU per board.
#  fleet   16 native boards updating A/B at once from one lighttpd over HTTPS (a 64 MiB
#          system, 1 % changed; tests/fleet_lib.sh): total time against one board alone, bytes
#          the server sent per board against what each lacked.
#  build   mkflashpkg build of the image: wall and CPU time, CPUs used, output bytes stable.
#  qemu    the demo flash on the QEMU board against a plain link -> disk copy inside it.
#  orin    not in the default set (make bench BENCH=orin: about 50 minutes, as long as the
#          modelled parts take: the QSPI at its maximum times needs over 20 minutes per full
#          flash; 7 more the first time, to build its package):
#          an Orin NX's flash in a model of its parts (tests/bench/orin.sh: QSPI NOR and NVMe
#          timing models in the flasher's file targets, the link through the relay at 40 and
#          350 MB/s) of NVIDIA's R35.3.1 layout with a rootfs-like 55 GiB APP
#          (tests/bench/orin_image.py, BENCH_ORIN_GIB GiB in use, default 3): full flash and 1 %
#          re-flash against the slowest part's own time and NVIDIA's way in the same model.
# RUNS (default 3) runs of the short measurements (hash, native, flash, qemu): best (native,
# qemu) or median (flash); one run of the long ones. BENCH_QUICK=1 uses a 64 MiB image (the
# smoke test; the orin section: 256 MiB in use). BENCH_DIR: where targets are written (default
# /dev/shm, else the build dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
build=$(cd "${BUILD:-build}" && pwd)
runs=${RUNS:-3}
mib=${BENCH_MIB:-256}
quick=${BENCH_QUICK:-0}
sections=${BENCH:-hash,native,codec,flash,delta,link,http,boards,fleet,build,qemu}
for s in ${sections//,/ }; do
	case $s in
	hash | native | codec | flash | delta | link | http | boards | fleet | build | qemu | orin) ;;
	*)
		echo "bench: unknown section '$s' (hash native codec flash delta link http boards fleet build qemu orin)" >&2
		exit 2
		;;
	esac
done
scratch=${BENCH_DIR:-/dev/shm}
[ -d "$scratch" ] && [ -w "$scratch" ] || scratch=$build
tmp=$(mktemp -d "$scratch/selfflash-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export GOALS_FILE=$tmp/goals
: >"$GOALS_FILE"
want() { [[ ",$sections," == *",$1,"* ]]; }
best() { sort -g | head -n1; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
mbps() { python3 -c "print(f'{$1 / $2 / 1e6:.0f}')"; }
calc() { python3 -c "print($1)"; }
now() { date +%s.%N; }
figure() { python3 "$root/tests/bench/figure.py" "$@"; }
need() {
	local f
	for f in "$@"; do
		[ -x "$f" ] || { echo "bench: $f is missing (make bench builds it)" >&2; exit 1; }
	done
}
need "$build/bin/hostload" "$build/bin/flasher" "$build/bin/mkflashpkg"
# every process below is timed by GNU time: elapsed, user, system seconds and peak RSS in KiB
gtime=/usr/bin/time
[ -x "$gtime" ] || { echo "bench: $gtime is missing (make deps: package time)" >&2; exit 1; }
timed() { # OUT CMD...: runs CMD, its times into OUT as "elapsed user system maxrss_kib"
	local out=$1
	shift
	"$gtime" -o "$out" -f '%e %U %S %M' "$@"
}
wait_socket() {
	for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.02; done
	echo "bench: no socket at $1" >&2
	return 1
}

# ---- the test image, its packages and the helpers that flash it ----------------------------
img=
# set by the image's meta.sh (tests/bench/image.py writes it)
image_size=0 used_bytes=0 changed_bytes=0 package_size=0 package2_size=0 app_offset=0
chunk_size=0 changed_chunks=0 changed_chunks_stored=0
image_setup() {
	[ -z "$img" ] || return 0
	local args=("$build")
	[ "$quick" != 1 ] || args+=(--quick)
	img=$(python3 "$root/tests/bench/image.py" "${args[@]}")
	# shellcheck disable=SC1091
	. "$img/meta.sh"
	disk_size=$((image_size + 64 * 1048576))
	echo "  image: $((image_size >> 20)) MiB ext4, $((used_bytes >> 20)) MiB used (what bmaptool copies)," \
		"$((changed_bytes >> 10)) KiB rewritten in the changed copy; package $((package_size >> 20)) MiB;" \
		"targets in $scratch"
}
fresh_target() { rm -f "$1"; truncate -s "$disk_size" "$1"; }
# serve PKG SOCK NAME [hostload args]: hostload in the background, its JSON in NAME.json, its
# times in NAME.time
serve() {
	local pkg=$1 sock=$2 name=$3
	shift 3
	rm -f "$sock"
	timed "$tmp/$name.time" "$build/bin/hostload" serve --link "unix:$sock" --json \
		--log "$tmp" --timeout 600 "$@" "$pkg" >"$tmp/$name.json" 2>"$tmp/$name.err" &
	hostload_pid=$!
	pids+=("$hostload_pid")
	wait_socket "$sock"
}
# flash SOCK TARGET NAME [EEPROM [FLASHER ARGS...]]: one flasher run to its end; times in
# NAME.time, log NAME.log
flash() {
	local sock=$1 target=$2 name=$3 eeprom=${4:-$img/e.bin}
	shift $(($# < 4 ? $# : 4))
	timed "$tmp/$name.time" timeout 900 "$build/bin/flasher" flash --link "unix:$sock" \
		--link-timeout 30 --pubkey "$img/k.pub" --eeprom "$eeprom" --chip-sku D0 \
		--target "nvme=block:$target" "$@" >"$tmp/$name.log" 2>&1 ||
		{ echo "bench: the flash ($name) failed: $(tail -n 3 "$tmp/$name.log")" >&2; return 1; }
}
# served_flash PKG TARGET NAME [FLASHER ARGS...]: hostload serves PKG to one flasher writing
# TARGET, both to their end (hostload's files NAME.*, the flasher's NAME-flash.*); sets
# flash_s to its seconds
flash_s=0
served_flash() {
	local t pkg=$1 target=$2 name=$3
	shift 3
	serve "$pkg" "$tmp/h.sock" "$name"
	t=$(now)
	flash "$tmp/h.sock" "$target" "$name-flash" "$img/e.bin" "$@"
	flash_s=$(calc "$(now) - $t")
	wait "$hostload_pid"
}
# the hostload result's field (bytes_sent, package_size, seconds) from NAME.json
result() {
	python3 - "$tmp/$1.json" "$2" <<'PY'
import json, sys
r = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "result"]
print(r[-1][sys.argv[2]] if r else "")
PY
}
field() { awk -v i="$2" '{ print $i }' "$tmp/$1.time"; } # NAME COLUMN of a .time file
cpu_of() { awk '{ print $2 + $3 }' "$tmp/$1.time"; }
# same TARGET IMAGE: the image's bytes are where the layout put them
same() {
	if cmp -s -n "$image_size" "$2" "$1" 0 "$app_offset"; then echo yes; else echo NO; fi
}

# ---- hashing ---------------------------------------------------------------------------
sha_all_mbps=0 sha_backend='?'
if want hash || want native; then
	echo "== hashing (bench_hash, 256 MiB in 1 MiB buffers)"
	need "$build/bench/bench_hash"
	hash_out=$("$build/bench/bench_hash" 256)
	printf '%s\n' "$hash_out" | sed 's/^/  /'
	sha_backend=$(printf '%s\n' "$hash_out" | sed -n 's/.*default SHA-256 backend: \([^ ]*\).*/\1/p')
	# the default backend on every CPU at once: the most hashing this machine can do
	sha_all_mbps=$(printf '%s\n' "$hash_out" | awk '$1 == "sha256" && /CPUs at once/ { print $3 }')
fi

# ---- native link pipeline against a plain socket copy ----------------------------------
section_native() {
	echo "== native link pipeline, ${mib} MiB of incompressible data, files in $scratch"
	need "$build/bench/sockcopy"
	mkdir "$tmp/native"
	cd "$tmp/native"
	cat >layout.xml <<XML
<partition_layout>
  <device type="nvme" instance="0" sector_size="512" num_sectors="$(((mib + 64) * 2048))">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>$((mib * 1048576))</size><filename>app.img</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
	head -c $((mib * 1048576)) /dev/urandom >app.img
	"$build/bin/mkflashpkg" keygen k >/dev/null
	"$build/bin/mkflashpkg" build -q -o p.sfpkg --layout layout.xml --key k.key
	"$build/bin/mkflashpkg" eeprom -o e.bin --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
	rm app.img
	local size ft ct i
	size=$(stat -c %s p.sfpkg)
	truncate -s $(((mib + 64) * 1048576)) disk.img
	local flash_times=() copy_times=() cpu_lines=()
	for i in $(seq "$runs"); do
		timed host.time "$build/bin/hostload" serve --link unix:h.sock --log board.log \
			--timeout 300 p.sfpkg >serve.out 2>&1 &
		pids+=("$!")
		wait_socket h.sock
		start=$(now)
		timed board.time "$build/bin/flasher" flash --link unix:h.sock --pubkey k.pub \
			--eeprom e.bin --chip-sku D0 --target nvme=block:disk.img >flash.out 2>&1
		end=$(now)
		wait "${pids[-1]}"
		flash_times+=("$(calc "$end - $start")")
		# the CPU seconds of each side, to show where the time goes
		cpu_lines+=("$(calc "$end - $start") $(cut -d' ' -f2,3 board.time) $(cut -d' ' -f2,3 host.time)")
		copy_times+=("$("$build/bench/sockcopy" p.sfpkg copy.out | awk '{print $3}')")
		rm -f copy.out
	done
	ft=$(printf '%s\n' "${flash_times[@]}" | best)
	ct=$(printf '%s\n' "${copy_times[@]}" | best)
	echo "  flash over the link : $(mbps "$size" "$ft") MB/s  ($size bytes in $(printf '%.3f' "$ft") s, best of $runs)"
	echo "  plain socket copy   : $(mbps "$size" "$ct") MB/s  ($size bytes in $(printf '%.3f' "$ct") s, best of $runs)"
	echo "  ratio               : $(ratio "$ct" "$ft") of the copy (no goal: issue 14 retired issue 5's 0.85," \
		"no real link is this fast)"
	# Where the time goes: both sides' CPU seconds in the best run, and what SHA-256 alone
	# costs (every byte is hashed on arrival and again on read-back, DESIGN.md section 4).
	local bu bs hu hs
	read -r _ bu bs hu hs < <(printf '%s\n' "${cpu_lines[@]}" | sort -g | head -n1)
	python3 - "$size" "$ft" "$ct" "$bu" "$bs" "$hu" "$hs" "$(nproc)" "${sha_all_mbps:-0}" "$sha_backend" <<'PY'
import sys
size, ft, ct, bu, bs, hu, hs = map(float, sys.argv[1:8])
cores, sha_all = int(sys.argv[8]), float(sys.argv[9])
cpu = bu + bs + hu + hs
print(f"  CPU in that run     : flasher {bu + bs:.2f} s + hostload {hu + hs:.2f} s = {cpu:.2f} CPU-s"
      f" in {ft:.3f} s ({cpu / ft:.1f} of {cores} CPUs busy)")
if sha_all > 0:
    floor = 2 * size / (sha_all * 1e6)
    print(f"  SHA-256 alone       : 2 x {size / 1e6:.0f} MB at {sha_all:.0f} MB/s ({sys.argv[10]}, all"
          f" {cores} CPUs at once) takes {floor:.3f} s, so on this machine the ratio cannot"
          f" exceed {ct / floor:.2f} however the rest is done")
PY
	cd "$root"
	rm -rf "$tmp/native"
}
if want native; then section_native; fi

# ---- chunk codecs: zstd (the default) against zlib -------------------------------------
section_codec() {
	echo "== chunk codecs: zstd (the default) vs zlib, on the test image and on the rootfs-like one"
	need "$build/bench/bench_codec"
	image_setup
	# the zlib package beside image.py's (zstd) one, made again when mkflashpkg changes
	local stamp
	stamp=$(sha256sum "$build/bin/mkflashpkg" | cut -c1-16)
	if [ "$(cat "$img/pz.key" 2>/dev/null)" != "$stamp" ]; then
		"$build/bin/mkflashpkg" build -q --codec zlib -o "$img/pz.sfpkg" --layout "$img/layout.xml" \
			--key "$img/k.key" --file "IMAGE=$img/image.img"
		echo "$stamp" >"$img/pz.key"
	fi
	# the rootfs-like system of the orin section (executables, text, compressed files: what a
	# Jetson's APP holds), when NVIDIA's layouts are here to build it
	local rootfs='' rc=0 args=("$build")
	[ "$quick" != 1 ] || args+=(--quick)
	rootfs=$(python3 "$root/tests/bench/orin_image.py" "${args[@]}" 2>"$tmp/orin-image.err") || rc=$?
	[ "$rc" = 0 ] || { rootfs=''; echo "  rootfs-like image: not made ($( [ "$rc" = 3 ] &&
		echo "NVIDIA's layouts are not here (../shared/fixtures)" || tail -n 1 "$tmp/orin-image.err"))"; }
	# codec_line NAME PKG: package bytes and decode-only CPU (best of RUNS, one thread) into
	# codec_size, codec_cpu, codec_raw
	codec_line() {
		local name=$1 pkg=$2 i out best='' raw=0
		for i in $(seq "$runs"); do
			out=$("$build/bench/bench_codec" "$pkg") || { echo "bench: bench_codec $pkg failed" >&2; return 1; }
			read -r raw cpu < <(printf '%s\n' "$out" | sed -n 's/^decode [a-z]*: \([0-9]*\) raw bytes from [0-9]* stored in \([0-9.]*\) CPU s.*/\1 \2/p')
			best=$(calc "min(${best:-1e9}, ${cpu:-1e9})")
		done
		codec_size=$(stat -c %s "$pkg") codec_cpu=$best codec_raw=$raw
		echo "  $name: package $codec_size bytes; decoding its compressed chunks" \
			"($((codec_raw >> 20)) MiB raw) takes $(printf '%.3f' "$codec_cpu") CPU s:" \
			"$(calc "f'{$codec_cpu / ($codec_raw / 1e9):.2f}'") CPU s per GB ($(calc "f'{$codec_raw / $codec_cpu / 1e6:.0f}'") MB/s, one CPU)"
	}
	local zs zl zd ld goal_size goal_decode
	codec_line "test image, zstd" "$img/p.sfpkg"
	zs=$codec_size zd=$(calc "$codec_cpu / $codec_raw")
	codec_line "test image, zlib" "$img/pz.sfpkg"
	zl=$codec_size ld=$(calc "$codec_cpu / $codec_raw")
	# the bound on the package ratio: chunks no codec shrinks (random data) stay verbatim
	local incompressible
	incompressible=$("$build/bench/bench_codec" "$img/pz.sfpkg" | sed -n 's/^verbatim: \([0-9]*\) bytes.*/\1/p')
	echo "  bound: $((incompressible >> 20)) MiB of the test image is random data stored verbatim by" \
		"either codec: its zstd package is at least $(calc "f'{$incompressible / $zl:.3f}'") x zlib's"
	# the goals are judged on the rootfs-like system when there is one (what users flash), else
	# on the test image
	goal_size="ratio<=0.9" goal_decode="ratio>=3"
	if [ -n "$rootfs" ]; then
		figure "test image: package, zstd" "$zs" B "zlib" "$zl" none
		figure "test image: decode MB/s, zstd" "$(calc "1e-6 / $zd")" x "zlib" "$(calc "1e-6 / $ld")" none
		codec_line "rootfs-like, zstd" "$rootfs/p.sfpkg"
		zs=$codec_size zd=$(calc "$codec_cpu / $codec_raw")
		codec_line "rootfs-like, zlib" "$rootfs/pz.sfpkg"
		zl=$codec_size ld=$(calc "$codec_cpu / $codec_raw")
		figure "rootfs-like: package, zstd" "$zs" B "zlib" "$zl" "$goal_size"
		figure "rootfs-like: decode MB/s, zstd" "$(calc "1e-6 / $zd")" x "zlib" "$(calc "1e-6 / $ld")" "$goal_decode"
		# what more compression costs: zstd's highest level, its build time beside the default's
		local z19 build_p build_p19
		z19=$(stat -c %s "$rootfs/p19.sfpkg")
		build_p=$(sed -n 's/^build_s_p=//p' "$rootfs/meta.sh") build_p19=$(sed -n 's/^build_s_p19=//p' "$rootfs/meta.sh")
		echo "  rootfs-like, zstd:19: package $z19 bytes = $(calc "f'{$z19 / $zl:.3f}'") x zlib's;" \
			"its build took ${build_p19:-?} s against ${build_p:-?} s at the default level 12" \
			"(when the package was cached): the size goal costs that build time"
		figure "rootfs-like: package, zstd:19" "$z19" B "zlib" "$zl" none
	else
		figure "test image: package, zstd" "$zs" B "zlib" "$zl" "$goal_size"
		figure "test image: decode MB/s, zstd" "$(calc "1e-6 / $zd")" x "zlib" "$(calc "1e-6 / $ld")" "$goal_decode"
	fi
	# the board's zstd decoder rides in the initrd, which RCM sends every time
	if [ -e "$build/selfflash.cpio.gz" ]; then
		figure "initrd with the zstd decoder" "$(stat -c %s "$build/selfflash.cpio.gz")" B "400 KiB" \
			409600 "value<=409600"
	fi
	# and what it gives a flash of the test image over the link (read-back included)
	local c pkg i fz=() fl=()
	for i in $(seq "$runs"); do
		for c in zstd zlib; do
			pkg=$img/p.sfpkg
			[ "$c" = zstd ] || pkg=$img/pz.sfpkg
			fresh_target "$tmp/t.img"
			served_flash "$pkg" "$tmp/t.img" "codec-$c"
			if [ "$c" = zstd ]; then fz+=("$flash_s"); else fl+=("$flash_s"); fi
		done
	done
	rm -f "$tmp/t.img"
	figure "flash incl. read-back, zstd" "$(printf '%s\n' "${fz[@]}" | median)" s "zlib" \
		"$(printf '%s\n' "${fl[@]}" | median)" none
}
if want codec; then section_codec; fi

# ---- the image over the link against bmaptool ------------------------------------------
section_flash() {
	echo "== flash of the test image over the link (read-back included) vs bmaptool copy (fsync, no read-back)"
	image_setup
	local i t flash_t=() bmap_t=() rss=0 hrss=0 brss=0 ok=
	local have_bmap=1
	if ! command -v bmaptool >/dev/null || [ ! -e "$img/image.bmap" ]; then
		have_bmap=0
		echo "  bmaptool missing (make deps: package bmap-tools): no baseline"
	fi
	# the image as users of compressed images have it: zstd, made once beside the cached image
	local have_zst=0 bmapz_t=()
	if [ "$have_bmap" = 1 ] && command -v zstd >/dev/null; then
		[ -s "$img/image.img.zst" ] || zstd -q -T0 -f "$img/image.img" -o "$img/image.img.zst"
		have_zst=1
	elif [ "$have_bmap" = 1 ]; then
		echo "  zstd missing (make deps: package zstd): no compressed-image baseline"
	fi
	local nodelta_t=()
	for i in $(seq "$runs"); do
		# the same first flash with delta off: what looking on the board first costs an
		# empty one (issue 14: a full flash must not get slower)
		fresh_target "$tmp/t.img"
		served_flash "$img/p.sfpkg" "$tmp/t.img" nodelta --no-delta
		nodelta_t+=("$flash_s")
		fresh_target "$tmp/t.img"
		served_flash "$img/p.sfpkg" "$tmp/t.img" serve
		flash_t+=("$flash_s")
		rss=$(calc "max($rss, $(field serve-flash 4))")
		hrss=$(calc "max($hrss, $(field serve 4))")
		[ -n "$ok" ] || ok=$(same "$tmp/t.img" "$img/image.img")
		rm -f "$tmp/t.img"
		if [ "$have_bmap" = 1 ]; then
			# a fresh, empty file: bmaptool sizes it (and warns about a missing one)
			rm -f "$tmp/b.img"
			: >"$tmp/b.img"
			t=$(now)
			timed "$tmp/bmap.time" bmaptool -q copy --bmap "$img/image.bmap" "$img/image.img" \
				"$tmp/b.img" 2>"$tmp/bmap.err" ||
				{ echo "bench: bmaptool copy failed: $(tail -n 3 "$tmp/bmap.err")" >&2; return 1; }
			bmap_t+=("$(calc "$(now) - $t")")
			brss=$(calc "max($brss, $(field bmap 4))")
			rm -f "$tmp/b.img"
			if [ "$have_zst" = 1 ]; then
				: >"$tmp/b.img"
				t=$(now)
				bmaptool -q copy --bmap "$img/image.bmap" "$img/image.img.zst" "$tmp/b.img" \
					2>"$tmp/bmapz.err" ||
					{ echo "bench: bmaptool copy of .zst failed: $(tail -n 3 "$tmp/bmapz.err")" >&2; return 1; }
				bmapz_t+=("$(calc "$(now) - $t")")
				rm -f "$tmp/b.img"
			fi
		fi
	done
	local ft bt=- bm=-
	ft=$(printf '%s\n' "${flash_t[@]}" | median)
	if [ "$have_bmap" = 1 ]; then
		bt=$(printf '%s\n' "${bmap_t[@]}" | median)
		bm=$((brss * 1024))
		echo "  runs: flash $(printf '%.2f ' "${flash_t[@]}")s; bmaptool $(printf '%.2f ' "${bmap_t[@]}")s (median of $runs below)"
	fi
	echo "  target byte-identical to the image after the flash: $ok"
	figure "flash incl. read-back" "$ft" s "bmaptool copy" "$bt" "ratio<=1.0"
	if [ "$have_zst" = 1 ]; then
		echo "  bmaptool copy of image.img.zst ($(($(stat -c %s "$img/image.img.zst") >> 20)) MiB):" \
			"$(printf '%.2f ' "${bmapz_t[@]}")s"
		figure "flash incl. read-back vs .zst" "$ft" s "bmaptool copy of .zst" \
			"$(printf '%s\n' "${bmapz_t[@]}" | median)" "ratio<=0.8"
	fi
	figure "empty board: delta on vs off" "$ft" s "delta off" \
		"$(printf '%s\n' "${nodelta_t[@]}" | median)" "ratio<=1.05"
	# The floor: the work no flash with this read-back can skip, done at this machine's full
	# parallel capacity (DESIGN.md section 4 hashes every byte on arrival and again from the
	# medium). Each part is measured here: inflating and hashing every chunk once is what
	# `mkflashpkg verify` spends; the read-back's SHA-256 pass at one CPU's rate; the kernel's
	# receive, write and read as the flasher's own system time. Two CPUs do less than twice
	# one CPU's work (SMT siblings); the SHA-256 speedup with all CPUs at once measures that.
	if [ "$have_bmap" = 1 ]; then
		local hashed hash_out one all verify_cpu sys floor
		hashed=$(sed -n 's/^flasher: done: [0-9]* bytes written, \([0-9]*\) read back.*/\1/p' \
			"$tmp/serve-flash.log")
		# (bench_hash is built by make bench; the smoke test in make check goes without)
		if [ -x "$build/bench/bench_hash" ] && [ -n "$hashed" ]; then
			hash_out=$("$build/bench/bench_hash" 64)
			# one thread of the default backend (the flasher's), then all CPUs at once
			one=$(printf '%s\n' "$hash_out" | awk '
				/default SHA-256 backend:/ { sub(/.*backend: /, ""); b = $1 }
				$1 == "sha256" && $2 == b && !/CPUs at once/ { print $3; exit }')
			all=$(printf '%s\n' "$hash_out" | awk '$1 == "sha256" && /CPUs at once/ { print $3 }')
			timed "$tmp/verify.time" "$build/bin/mkflashpkg" verify --pubkey "$img/k.pub" \
				"$img/p.sfpkg" >/dev/null
			verify_cpu=$(cpu_of verify)
			sys=$(field serve-flash 3)
			floor=$(calc "($verify_cpu + $hashed / ($one * 1e6) + $sys) / ($all / $one)")
			echo "  floor: inflate + SHA-256 on arrival ($(printf '%.2f' "$verify_cpu") CPU s, mkflashpkg verify)" \
				"+ SHA-256 of the read-back ($(calc "f'{$hashed / ($one * 1e6):.2f}'") CPU s at $one MB/s)" \
				"+ kernel copies ($(printf '%.2f' "$sys") CPU s, the flasher's system time)," \
				"on $(calc "f'{$all / $one:.2f}'")x one CPU (SHA-256, all CPUs at once):" \
				"$(printf '%.2f' "$floor") s = $(calc "f'{$floor / $bt:.2f}'") x bmaptool;" \
				"the flash took $(calc "f'{$ft / $floor:.2f}'") x the floor"
			figure "flash incl. read-back vs its floor" "$ft" s "floor" "$floor" none
			# the work this flash did (the last run): the flasher's and hostload's CPU seconds,
			# spread perfectly over the CPUs; what separates the flash from it is waiting
			local work spread
			work=$(calc "$(cpu_of serve-flash) + $(cpu_of serve)")
			spread=$(calc "$work / ($all / $one)")
			echo "  work: flasher $(printf '%.2f' "$(cpu_of serve-flash)") + hostload" \
				"$(printf '%.2f' "$(cpu_of serve)") CPU s, spread perfectly over" \
				"$(calc "f'{$all / $one:.2f}'")x one CPU: $(printf '%.2f' "$spread") s =" \
				"$(calc "f'{$spread / $bt:.2f}'") x bmaptool (whose own work is one CPU's, undivided)"
			figure "flash incl. read-back vs its work" "$ft" s "CPU s / CPUs" "$spread" none
		fi
	fi
	figure "peak memory (max RSS), flasher" $((rss * 1024)) B "bmaptool" "$bm" "value<33554432"
	figure "peak memory (max RSS), hostload" $((hrss * 1024)) B "bmaptool" "$bm" none
}
if want flash; then section_flash; fi

# ---- delta: bytes sent for a re-flash --------------------------------------------------
section_delta() {
	echo "== delta: bytes hostload sends to a target that holds the image already"
	image_setup
	fresh_target "$tmp/t.img"
	local first same_sent changed_sent t1 t2 ok1 ok2
	served_flash "$img/p.sfpkg" "$tmp/t.img" first
	first=$flash_s
	served_flash "$img/p.sfpkg" "$tmp/t.img" same
	t1=$flash_s
	same_sent=$(result same bytes_sent)
	ok1=$(same "$tmp/t.img" "$img/image.img")
	served_flash "$img/p2.sfpkg" "$tmp/t.img" changed
	t2=$flash_s
	changed_sent=$(result changed bytes_sent)
	ok2=$(same "$tmp/t.img" "$img/image2.img")
	rm -f "$tmp/t.img"
	echo "  times: first flash $(printf '%.2f' "$first") s, identical re-flash $(printf '%.2f' "$t1") s," \
		"1 %-changed $(printf '%.2f' "$t2") s; target byte-identical after each: $ok1, $ok2"
	echo "  the least a delta of ${chunk_size}-byte chunks sends for the changed image:" \
		"$changed_chunks chunks, $changed_chunks_stored bytes" \
		"($(calc "f'{100 * $changed_chunks_stored / $package2_size:.2f}'") % of the package)"
	figure "identical re-flash: bytes sent" "$same_sent" B "the package" "$package_size" "ratio<=2%"
	figure "1 %-changed image: bytes sent" "$changed_sent" B "the package" "$package2_size" "ratio<=3%"
}
if want delta; then section_delta; fi

# ---- through a link of a given speed ---------------------------------------------------
# link_flash RATE NAME [RELAY ARGS...]: a full flash onto a fresh target through the relay; sets
# link_t (s), link_bytes (what crossed the relay host -> board)
link_flash() {
	local rate=$1 name=$2 t
	shift 2
	need "$build/bench/relay"
	fresh_target "$tmp/t.img"
	serve "$img/p.sfpkg" "$tmp/h.sock" "$name"
	rm -f "$tmp/r.sock"
	"$build/bench/relay" --rate "$rate" "$@" "$tmp/r.sock" "$tmp/h.sock" >"$tmp/$name.relay" 2>&1 &
	local relay=$!
	pids+=("$relay")
	wait_socket "$tmp/r.sock"
	t=$(now)
	flash "$tmp/r.sock" "$tmp/t.img" "$name-flash"
	link_t=$(calc "$(now) - $t")
	wait "$hostload_pid"
	kill -TERM "$relay"
	wait "$relay"
	link_bytes=$(sed -n 's/^relay: total: .*host->board \([0-9]*\) bytes.*/\1/p' "$tmp/$name.relay")
	rm -f "$tmp/t.img"
}
one_board_t='' one_board_cpu=''
section_link() {
	echo "== full flash through a link of a given speed (tests/bench/relay, token bucket)"
	image_setup
	local rate mbs
	for mbs in 40 350; do
		rate=$((mbs * 1000000))
		link_flash "$rate" "link$mbs"
		# the relay's own figure shows whether the link or the flasher set the pace
		echo "  at $mbs MB/s: $(printf '%.2f' "$link_t") s; $link_bytes bytes crossed the link" \
			"(hostload sent $(result "link$mbs" bytes_sent)) at" \
			"$(sed -n 's/^relay: connection 1: .*bytes (\([0-9.]*\) MB\/s.*/\1/p' "$tmp/link$mbs.relay") MB/s" \
			"from the first byte to the last"
		figure "flash at $mbs MB/s" "$link_t" s "1.05 x bytes/rate + 1 s" \
			"$(calc "1.05 * $link_bytes / $rate + 1")" "ratio<=1.0"
		if [ "$mbs" = 40 ]; then
			one_board_t=$link_t
			one_board_cpu=$(cpu_of link40)
			figure "flash at 40 MB/s (compression)" "$link_t" s "0.85 x used bytes raw" \
				"$(calc "0.85 * $used_bytes / $rate")" "ratio<=1.0"
		fi
	done
}
if want link; then section_link; fi

# ---- an http:// flash from a far web server ------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
await_port() {
	for _ in $(seq 200); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "bench: nothing listens on port $1" >&2
	return 1
}
section_http() {
	local delay=20 mbs=40 rate=40000000 t web relay wport rport
	echo "== http:// flash from a server $delay ms away (each way) at $mbs MB/s (tests/bench/relay" \
		"--delay, one bucket for all connections), vs the link through the same relay"
	if ! command -v lighttpd >/dev/null; then
		echo "  skipped: lighttpd is missing (make deps)"
		return 0
	fi
	image_setup
	# the baseline: the link reads ahead within its window, so the delay costs it one round trip
	link_flash "$rate" httplink --delay "$delay" --shared 1
	local link_s=$link_t
	mkdir -p "$tmp/www"
	ln -sf "$img/p.sfpkg" "$tmp/www/p.sfpkg"
	wport=$(free_port)
	printf 'server.document-root = "%s"\nserver.bind = "127.0.0.1"\nserver.port = %s\nserver.follow-symlink = "enable"\nmimetype.assign = ( "" => "application/octet-stream" )\n' \
		"$tmp/www" "$wport" >"$tmp/lighttpd.conf"
	lighttpd -D -f "$tmp/lighttpd.conf" 2>"$tmp/lighttpd.err" &
	web=$!
	pids+=("$web")
	await_port "$wport"
	rport=$(free_port)
	"$build/bench/relay" --rate "$rate" --delay "$delay" --shared 1 "tcp:127.0.0.1:$rport" \
		"tcp:127.0.0.1:$wport" >"$tmp/http.relay" 2>&1 &
	relay=$!
	pids+=("$relay")
	await_port "$rport"
	fresh_target "$tmp/t.img"
	t=$(now)
	timed "$tmp/http-flash.time" timeout 900 "$build/bin/flasher" flash \
		--package "http://127.0.0.1:$rport/p.sfpkg" --link-timeout 30 --pubkey "$img/k.pub" \
		--eeprom "$img/e.bin" --chip-sku D0 --target "nvme=block:$tmp/t.img" >"$tmp/http.log" 2>&1 ||
		{ echo "bench: the http flash failed: $(tail -n 3 "$tmp/http.log")" >&2; return 1; }
	local http_s http_bytes
	http_s=$(calc "$(now) - $t")
	kill -TERM "$relay" "$web"
	wait "$relay" "$web" || true
	http_bytes=$(sed -n 's/^relay: total: .*host->board \([0-9]*\) bytes.*/\1/p' "$tmp/http.relay")
	echo "  link $(printf '%.2f' "$link_s") s, http:// $(printf '%.2f' "$http_s") s; $http_bytes bytes" \
		"crossed the relay; $(sed -n 's/^flasher: http: \([0-9]* requests ([0-9]* chunks read ahead)\).*/\1/p' "$tmp/http.log");" \
		"peak memory $(( $(field http-flash 4) / 1024 )) MiB; target byte-identical: $(same "$tmp/t.img" "$img/image.img")"
	figure "http:// flash, $delay ms away" "$http_s" s "the link, same relay" "$link_s" none
	figure "http:// flash, $delay ms away" "$http_s" s "1.05 x bytes/rate + 1 s" \
		"$(calc "1.05 * $http_bytes / $rate + 1")" none
	rm -f "$tmp/t.img"
}
if want http; then section_http; fi

# ---- several boards at once ------------------------------------------------------------
section_boards() {
	local n=4 rate=40000000 i t
	echo "== $n boards at once: one hostload, $n flashers, each through its own 40 MB/s relay connection"
	image_setup
	need "$build/bench/relay"
	if [ -z "$one_board_t" ]; then
		link_flash "$rate" one
		one_board_t=$link_t
		one_board_cpu=$(cpu_of one)
	fi
	for i in $(seq "$n"); do
		fresh_target "$tmp/t$i.img"
		"$build/bin/mkflashpkg" eeprom -o "$tmp/e$i.bin" --part-number "699-13701-0005-500 M.0" \
			--serial "10$i" >/dev/null
	done
	serve "$img/p.sfpkg" "$tmp/h.sock" boards --boards "$n"
	rm -f "$tmp/r.sock"
	"$build/bench/relay" --rate "$rate" "$tmp/r.sock" "$tmp/h.sock" >"$tmp/boards.relay" 2>&1 &
	local relay=$! flashers=() failed=0
	pids+=("$relay")
	wait_socket "$tmp/r.sock"
	t=$(now)
	for i in $(seq "$n"); do
		flash "$tmp/r.sock" "$tmp/t$i.img" "board$i" "$tmp/e$i.bin" &
		flashers+=($!)
	done
	for i in "${flashers[@]}"; do wait "$i" || failed=1; done
	local total
	total=$(calc "$(now) - $t")
	wait "$hostload_pid" || failed=1
	kill -TERM "$relay"
	wait "$relay"
	rm -f "$tmp"/t[0-9]*.img
	[ "$failed" = 0 ] || { echo "bench: a board failed" >&2; return 1; }
	local cpu
	cpu=$(cpu_of boards)
	echo "  one board alone $(printf '%.2f' "$one_board_t") s; $n boards $(printf '%.2f' "$total") s;" \
		"hostload $(printf '%.2f' "$cpu") CPU-s in all, $(nproc) CPUs on this machine"
	figure "$n boards at 40 MB/s: total time" "$total" s "1.1 x one board" \
		"$(calc "1.1 * $one_board_t")" "ratio<=1.0"
	figure "host CPU per board" "$(calc "$cpu / $n")" s "one board alone" "$one_board_cpu" none
}
if want boards; then section_boards; fi

# ---- a fleet updating from one web server ----------------------------------------------
section_fleet() {
	local n=16 mib=64 i name names=() failed=() wrong=()
	[ "$quick" != 1 ] || mib=16
	echo "== fleet: $n boards updating A/B at once from one lighttpd over HTTPS ($mib MiB system, 1 % changed)"
	if ! command -v lighttpd >/dev/null || [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
		echo "  skipped: lighttpd or lighttpd-mod-openssl is missing (make deps)"
		return 0
	fi
	need "$build/bin/mkinitrd"
	mkdir "$tmp/fleet"
	cd "$tmp/fleet"
	local mk=$build/bin/mkflashpkg fl=$build/bin/flasher mi=$build/bin/mkinitrd
	# shellcheck source=tests/fleet_lib.sh
	. "$root/tests/fleet_lib.sh"
	fleet_system $((mib * 1048576))
	fleet_template
	# every board as a fleet is after an earlier update: the system before in its other slot
	fleet_board one fleet-00 has-1
	for i in $(seq "$n"); do
		name=$(printf 'board%02d' "$i")
		names+=("$name")
		FLEET_NEED_FROM=one fleet_board "$name" "$(printf 'fleet-%02d' "$i")" has-1
	done
	fleet_server_start
	local t
	t=$(now)
	timed one.time "$fl" update --config one.conf --root-partition APP "$fleet_url" >one.log 2>&1 ||
		{ echo "bench: the one board's update failed: $(tail -n 3 one.log)" >&2; return 1; }
	local one_s one_cpu
	one_s=$(calc "$(now) - $t")
	one_cpu=$(cpu_of fleet/one)
	fleet_update "${names[@]}"
	fleet_server_stop
	for name in "${names[@]}"; do
		[ "$(cat "$name.rc")" = 0 ] || failed+=("$name")
		fleet_holds_system2 "$name" || wrong+=("$name")
	done
	[ "${#failed[@]}" = 0 ] || { echo "bench: fleet updates failed: ${failed[*]}: $(tail -n 2 "${failed[0]}.log")" >&2; return 1; }
	python3 "$root/tests/fleet_check.py" served access.log "$fleet_data_offset" >served.txt
	local lacked pkg total per_min per_max identical=yes
	[ "${#wrong[@]}" = 0 ] || identical="NO (${wrong[*]})"
	read -r _ lacked <one.need
	pkg=$(stat -c %s www/system2.sfpkg)
	# the n boards' lines (fleet-00 is the board alone): header/manifest and chunk bytes
	total=$(awk '$1 != "fleet-00" { s += $3 + $5 } END { print s + 0 }' served.txt)
	per_min=$(awk '$1 != "fleet-00" { v = $3 + $5; if (m == "" || v < m) m = v } END { print m + 0 }' served.txt)
	per_max=$(awk '$1 != "fleet-00" { v = $3 + $5; if (v > m) m = v } END { print m + 0 }' served.txt)
	local exact
	exact=$(awk -v l="$lacked" '$1 != "fleet-00" && $5 == l && $6 == 0 && $7 == 0 { k++ } END { print k + 0 }' served.txt)
	echo "  one board alone $(printf '%.2f' "$one_s") s ($(printf '%.2f' "$one_cpu") CPU-s); $n boards" \
		"$(printf '%.2f' "$fleet_seconds") s; $(nproc) CPUs run every board here (real boards bring their own)"
	echo "  the server sent $total bytes to the $n boards ($per_min..$per_max per board; the package is" \
		"$pkg bytes, each board lacked $lacked bytes of chunks); $exact of $n boards were sent exactly" \
		"the chunks they lacked; every slot B holds system 2: $identical"
	figure "$n boards at once: total time" "$fleet_seconds" s "one board alone" "$one_s" none
	# The boards share this machine's CPUs, so their own work (hash slot A, write and read back
	# slot B) sets a floor: n x one board's CPU seconds / CPUs. Above it is what serving them
	# from one web server at once costs.
	figure "$n boards vs their CPU floor" "$fleet_seconds" s "$n x CPU-s of one / CPUs" \
		"$(calc "$n * $one_cpu / $(nproc)")" none
	figure "$n boards: bytes the server sent" "$total" B "$n x the package" "$((n * pkg))" none
	cd "$root"
	rm -rf "$tmp/fleet"
}
if want fleet; then section_fleet; fi

# ---- mkflashpkg build ------------------------------------------------------------------
section_build() {
	echo "== mkflashpkg build of the test image"
	image_setup
	local t wall cpu cores same_bytes
	t=$(now)
	timed "$tmp/build.time" "$build/bin/mkflashpkg" build -q -o "$tmp/p.sfpkg" \
		--layout "$img/layout.xml" --key "$img/k.key" --file "IMAGE=$img/image.img"
	wall=$(calc "$(now) - $t")
	cpu=$(cpu_of build)
	cores=$(nproc)
	if cmp -s "$tmp/p.sfpkg" "$img/p.sfpkg"; then same_bytes=yes; else same_bytes=NO; fi
	rm -f "$tmp/p.sfpkg"
	echo "  wall $(printf '%.2f' "$wall") s, CPU $(printf '%.2f' "$cpu") s, $cores CPUs;" \
		"same bytes as the cached build of the same inputs: $same_bytes"
	figure "build: CPUs busy (CPU / wall)" "$(calc "$cpu / $wall")" x "CPUs" "$cores" "ratio>=0.75"
}
if want build; then section_build; fi

# ---- the QEMU board --------------------------------------------------------------------
section_qemu() {
	echo "== QEMU board: demo flash vs a plain copy link -> disk inside the board"
	if [ ! -e "$build/kernel/Image" ] || [ ! -e "$build/rootfs/esp.img" ]; then
		echo "  skipped: the kernel or the demo system is missing (make all rootfs)"
		return 0
	fi
	need "$build/bench/guest_copy" "$build/bin/mkinitrd"
	mkdir "$tmp/qemu"
	cd "$tmp/qemu"
	local flash_times=() copy_times=() i qemu ft ct bytes
	for i in $(seq "$runs"); do
		"$root/scripts/demo.sh" --build "$build" --json "$tmp/qemu/demo.json" >demo.out 2>&1 ||
			{ echo "  demo flash failed: $(tail -3 demo.out)"; return 1; }
		flash_times+=("$(sed -n 's/.*flasher: done: .*; \([0-9.]*\) s$/\1/p' "$build/demo/board.log" | tail -n1)")
	done
	bytes=$(stat -c %s "$build/demo/demo.sfpkg")
	SOURCE_DATE_EPOCH=0 "$build/bin/mkinitrd" -o copy.cpio.gz --init "$build/bench/guest_copy"
	for i in $(seq "$runs"); do
		"$root/qemu/run-rcm.sh" --kernel "$build/kernel/Image" --initrd copy.cpio.gz --workdir board \
			--link "$tmp/qemu/copy.sock" --append "selfflash.copy=$bytes" --timeout 300 >copy.log 2>&1 &
		qemu=$!
		pids+=("$qemu")
		# the host end: connect to QEMU's port, send the bytes, stay until the board powers off
		python3 - "$tmp/qemu/copy.sock" "$build/demo/demo.sfpkg" <<'PY'
import socket, sys, time
s = None
for _ in range(400):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        break
    except OSError:
        s = None
        time.sleep(0.05)
if s is None:
    sys.exit("no QEMU link socket")
with open(sys.argv[2], "rb") as f:
    while True:
        b = f.read(1 << 18)
        if not b:
            break
        s.sendall(b)
s.settimeout(120)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
PY
		wait "$qemu" || true
		t=$(tr -d '\r' <copy.log | sed -n 's/^guest-copy: [0-9]* bytes in \([0-9.]*\) s$/\1/p')
		[ -n "$t" ] || { echo "  guest copy failed: $(tail -3 copy.log)"; return 1; }
		copy_times+=("$t")
	done
	ft=$(printf '%s\n' "${flash_times[@]}" | best)
	ct=$(printf '%s\n' "${copy_times[@]}" | best)
	echo "  demo flash: $bytes package bytes, the flasher's own time (best of $runs);" \
		"plain copy in the guest: the same bytes link -> disk (best of $runs)"
	# informational (issue 24 retired issue 6's 1.15: the emulated QSPI dominates it, no real
	# board's figure follows from it)
	figure "QEMU demo flash" "$ft" s "plain copy in guest" "$ct" none
	cd "$root"
}
if want qemu; then section_qemu; fi

# ---- an Orin in a model of its parts (issue 24) -------------------------------------------
# shellcheck source=tests/bench/orin.sh
. "$root/tests/bench/orin.sh"
if want orin; then section_orin; fi

if [ -s "$GOALS_FILE" ]; then
	echo "== goals: $(grep -c '^met' "$GOALS_FILE") of $(wc -l <"$GOALS_FILE") met"
	sed -n 's/^NOT met\t/  NOT met: /p; s/^not measured\t/  not measured: /p' "$GOALS_FILE"
fi
