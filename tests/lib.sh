# SPDX-License-Identifier: MIT
# Sourced by shell tests: one line per case ("ok NAME", "not ok NAME", "skip NAME (why)"),
# the same protocol as the C unit tests, counted by tests/run.sh.

failures=0
ok() { echo "ok $1"; }
not_ok() {
	echo "not ok $1"
	shift
	[ $# -eq 0 ] || echo "  $*" >&2
	failures=$((failures + 1))
}
skip() { echo "skip $1 ($2)"; }

# expect_line NAME FILE REGEX : passes when some line of FILE matches the extended regex
expect_line() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no line matching /$3/ in $2"; fi
}

# expect_exit NAME RC REGEX CMD... : CMD must exit with RC and say something matching REGEX
expect_exit() {
	local name=$1 want=$2 regex=$3 out rc
	shift 3
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	if [ "$rc" -ne "$want" ]; then
		not_ok "$name" "exit status $rc, expected $want: $* said: $(head -c 300 <<<"$out")"
	elif ! grep -Eq -- "$regex" <<<"$out"; then
		not_ok "$name" "message '$(head -c 300 <<<"$out")' does not match /$regex/"
	else
		ok "$name"
	fi
}

# expect_fail NAME REGEX CMD... : CMD must exit non-zero and say something matching REGEX
expect_fail() {
	local name=$1 regex=$2 out rc
	shift 2
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		not_ok "$name" "succeeded, expected failure: $*"
	elif ! grep -Eq -- "$regex" <<<"$out"; then
		not_ok "$name" "message '$out' does not match /$regex/"
	else
		ok "$name"
	fi
}

finish() { [ "$failures" -eq 0 ]; }

# A unit test built for the board's CPU (static aarch64 musl), run under qemu-aarch64-static.
# board_test_check LABEL BIN: the binary exists and is a static aarch64 ELF (1 if it is missing)
board_test_check() {
	local label=$1 bin=$2 desc
	if [ ! -x "$bin" ]; then
		not_ok "${label}_built" "$bin is missing (make $bin)"
		return 1
	fi
	desc=$(file -b "$bin")
	case "$desc" in
	*"ARM aarch64"*"statically linked"*) ok "${label}_is_static_aarch64_elf" ;;
	*) not_ok "${label}_is_static_aarch64_elf" "file says: $desc" ;;
	esac
}

# board_test_run BIN OUTDIR NAME EXPECTED_BACKEND [ENV...]: runs the test's cases (relabelled
# NAME:case) requiring EXPECTED_BACKEND, plus one case for its exit code; output in OUTDIR/NAME.out
board_test_run() {
	local bin=$1 dir=$2 name=$3 want=$4 rc=0
	shift 4
	env "$@" qemu-aarch64-static "$bin" --expect-backend "$want" >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
	sed -n -e "s/^\(ok\|not ok\|skip\) /\1 ${name}:/p" "$dir/$name.out"
	sed 's/^/  /' "$dir/$name.err" >&2
	if [ "$rc" -ne 0 ]; then
		not_ok "${name}_exit" "exit code $rc"
	elif ! grep -q '^ok ' "$dir/$name.out"; then
		not_ok "${name}_exit" "no passing case reported"
	else
		ok "${name}_exit"
	fi
	failures=$((failures + $(grep -c '^not ok ' "$dir/$name.out" || true)))
}

# native_setup: for the tests that run the host-built tools: mk (mkflashpkg), fl (flasher),
# hl (hostload) as absolute paths, a scratch folder tmp that is removed at exit together with
# the background programs listed in pids, and the shell inside it. Call from the repository root.
native_setup() {
	local bin
	bin=$(pwd)/${BUILD:-build}/bin
	mk=$bin/mkflashpkg fl=$bin/flasher hl=$bin/hostload
	tmp=$(mktemp -d)
	pids=()
	trap native_cleanup EXIT
	cd "$tmp"
}
native_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}

# await_socket PATH: waits up to 5 s until a program listens on the unix socket PATH
await_socket() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }

# ab_board_layout OUT APP_BYTES [DISK_SECTORS]: the A/B board the update tests flash first
# (NVIDIA's names and types: A_/B_ firmware on the QSPI; esp, A_kernel/B_kernel boot images
# and APP/APP_b of APP_BYTES each on an NVMe disk of DISK_SECTORS 512-byte sectors, default
# 131072), files named by the placeholders fw.bin, KERNEL_A/B and APP_A/B
ab_board_layout() {
	local out=$1 app=$2 sectors=${3:-131072}
	cat >"$out" <<XML
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="16384">
    <partition name="A_fw" type="mb1_bootloader"><size>1048576</size><filename>fw.bin</filename></partition>
    <partition name="B_fw" type="mb1_bootloader"><size>1048576</size><filename>fw.bin</filename></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="$sectors">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="esp" type="data"><size>4194304</size></partition>
    <partition name="A_kernel" type="kernel"><size>2097152</size><filename>KERNEL_A</filename></partition>
    <partition name="B_kernel" type="kernel"><size>2097152</size><filename>KERNEL_B</filename></partition>
    <partition name="APP" type="data"><size>$app</size><filename>APP_A</filename></partition>
    <partition name="APP_b" type="data"><size>$app</size><filename>APP_B</filename></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
}

# sdboot_vars DIR [ENTRY_ID]: an efivarfs-like DIR where systemd-boot says it booted ENTRY_ID
# (default slot A's entry): LoaderEntrySelected, UTF-16LE with its NUL, as the boot loader
# sets it (the systemd-boot slot backend refuses an update without it)
sdboot_vars() {
	mkdir -p "$1"
	python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<I", 6) + (sys.argv[1] + "\0").encode("utf-16-le"))' \
		"${2:-selfflash-slot-a.conf}" >"$1/LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
}
