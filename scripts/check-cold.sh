#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cold-cache check (make check-cold): what a new user or a fresh CI machine does, from a
# fresh clone of this checkout's committed HEAD with an empty SELFFLASH_CACHE in a temporary
# folder: `make demo`, then `make check`, each phase timed. A warm cache hides a missing step
# (a fresh machine once failed to build while CI stayed green); this does not. About fifteen
# minutes on two cores (kernel, libraries, then every test). Not part of make check.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<'TXT'
usage: scripts/check-cold.sh [--keep] [--dir DIR] [--skip-check]

  --keep        keep the temporary folder (clone, cache, logs) afterwards
  --dir DIR     work in DIR (must not exist) instead of a new folder under /tmp
  --skip-check  stop after `make demo`

Uses the committed HEAD (uncommitted changes are not in a clone, as they are not in CI). The
logs are DIR/demo.log and DIR/check.log; the summary compares the cold-built library archives
with the warm cache's entry of the same key when there is one.
TXT
}

keep=0 dir= skip_check=0
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) keep=1; shift ;;
	--dir) dir=${2:?--dir needs a folder}; shift 2 ;;
	--skip-check) skip_check=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "check-cold: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
if [ -n "$dir" ]; then
	[ ! -e "$dir" ] || { echo "check-cold: $dir exists; name a new folder" >&2; exit 2; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
else
	dir=$(mktemp -d /tmp/selfflash-cold.XXXXXX)
fi
warm_cache=${SELFFLASH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/selfflash}
dirty=$(git -C "$here" status --porcelain --untracked-files=no | wc -l)
[ "$dirty" = 0 ] || echo "check-cold: note: $dirty uncommitted changes are not in the clone"

git clone -q "$here" "$dir/selfflash"
# the NVIDIA fixtures sit beside the checkout where the team has them (tests skip without)
[ ! -d "$here/../shared" ] || ln -s "$(cd "$here/../shared" && pwd)" "$dir/shared"
export SELFFLASH_CACHE=$dir/cache
echo "check-cold: clone of $(git -C "$dir/selfflash" rev-parse --short HEAD) in $dir/selfflash," \
	"empty cache $SELFFLASH_CACHE"

results=()
phase() { # NAME LOG CMD...: runs CMD in the clone, records its time and result
	local name=$1 log=$2 start rc=0 secs
	shift 2
	echo "check-cold: $name (log: $log)"
	start=$(date +%s)
	(cd "$dir/selfflash" && "$@") >"$log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	results+=("$(printf '%-12s %5d s  %s' "$name" "$secs" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")")")
	if [ "$rc" != 0 ]; then
		tail -n 30 "$log" | sed 's/^/  | /'
	fi
	return "$rc"
}

rc=0
phase "make demo" "$dir/demo.log" make demo || rc=$?
if [ "$rc" = 0 ] && [ "$skip_check" = 0 ]; then
	phase "make check" "$dir/check.log" make check || rc=$?
fi

echo
echo "check-cold summary ($dir)"
for r in "${results[@]}"; do echo "  $r"; done
grep -E '^build-(libs|kernel): (building|.*ready)' "$dir/demo.log" | sed 's/^/  /' || true
grep -E '^  (flasher binary|flasher initrd|boot marker)' "$dir/demo.log" || true
# make check's summary line (make's own "Leaving directory" comes after it)
[ ! -f "$dir/check.log" ] ||
	{ grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/check.log" || tail -n 1 "$dir/check.log"; } |
	tail -n 1 | sed 's/^/  make check: /'
# a library archive built cold must equal the warm cache's build of the same key
for sums in "$SELFFLASH_CACHE"/sysroot-*/SHA256SUMS; do
	[ -f "$sums" ] || continue
	warm=$warm_cache/$(basename "$(dirname "$sums")")/SHA256SUMS
	if [ ! -f "$warm" ]; then
		echo "  $(basename "$(dirname "$sums")"): no warm build of this key to compare with"
	elif cmp -s "$sums" "$warm"; then
		echo "  $(basename "$(dirname "$sums")"): identical to the warm cache's build"
	else
		echo "  $(basename "$(dirname "$sums")"): DIFFERS from the warm cache's build ($warm)"
		rc=1
	fi
done
if [ "$keep" = 0 ] && [ "$rc" = 0 ]; then
	rm -rf "$dir"
else
	echo "check-cold: kept $dir"
fi
exit "$rc"
