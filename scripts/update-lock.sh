#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Moves scripts/libs.lock to the newest version of each library source that the configured apt
# sources can actually serve now (listed in an index is not enough: the .dsc and every tarball
# it names are fetched and checked), and prints what changed. `make update-lock` runs it.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cache.sh"
. "$here/lock.sh"
LOCK_PROG=update-lock

usage() {
	cat <<'TXT'
usage: scripts/update-lock.sh [--lock FILE] [--dry-run] [PACKAGE...]

Rewrites the lock (default scripts/libs.lock) with the newest version of each package that apt
can fetch now, fetching and checking each chosen source into the build cache. PACKAGEs default
to those already in the lock; naming a new one adds it. --dry-run prints the changes only.
TXT
}

file=$LIBS_LOCK dry=0 wanted=()
while [ $# -gt 0 ]; do
	case "$1" in
	--lock) file=${2:?--lock needs a file}; shift 2 ;;
	--dry-run) dry=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "update-lock: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*) wanted+=("$1"); shift ;;
	esac
done
LIBS_LOCK=$file

lock_packages=()
declare -A lock_version=() lock_sha=()
[ ! -f "$file" ] || LOCK_ALLOW_EMPTY=1 lock_load "$file"
packages=("${lock_packages[@]}")
for p in "${wanted[@]}"; do
	[[ " ${packages[*]} " == *" $p "* ]] || packages+=("$p")
done
[ "${#packages[@]}" -gt 0 ] || lock_die "$file locks nothing and no PACKAGE was named"

declare -A new_version=() new_sha=()
changed=0
for p in "${packages[@]}"; do
	listed=$(source_versions "$p" | paste -sd' ')
	[ -n "$listed" ] || lock_die "apt lists no source package '$p' (no deb-src entries? run: make deps)"
	chosen=
	while read -r v sha; do
		[ -n "$v" ] || continue
		# the .dsc is served; the tarballs must be too, and match it
		if [ "$dry" = 1 ] || (source_fetch "$p" "$v" "$sha" >/dev/null); then
			chosen=$v
			break
		fi
		echo "update-lock: $p $v: its .dsc is served but the source is not usable (above); trying older" >&2
	done < <(source_fetchable_versions "$p")
	[ -n "$chosen" ] || lock_die "$p: apt lists $listed, but no configured source serves any of them"
	new_version[$p]=$chosen
	new_sha[$p]=$sha
	old=${lock_version[$p]:-}
	skipped=$(for v in $listed; do [ "$v" = "$chosen" ] && break; echo "$v"; done | paste -sd' ')
	note=${skipped:+ (listed but not served: $skipped)}
	if [ -z "$old" ]; then
		echo "$p: added at $chosen$note"
		changed=1
	elif [ "$old" != "$chosen" ]; then
		echo "$p: $old -> $chosen$note"
		changed=1
	elif [ "${lock_sha[$p]}" != "$sha" ]; then
		echo "$p: $chosen unchanged, but its .dsc is not the one locked (${lock_sha[$p]} -> $sha)"
		changed=1
	else
		echo "$p: $chosen (unchanged)$note"
	fi
done

if [ "$changed" = 0 ]; then
	echo "update-lock: $file is up to date"
	exit 0
fi
if [ "$dry" = 1 ]; then
	echo "update-lock: --dry-run: $file not written"
	exit 0
fi
tmp=$(mktemp "$file.XXXXXX")
{
	# the header comment is kept as it is
	sed -n '/^#/p;/^[^#]/q' "$file" 2>/dev/null || true
	for p in "${packages[@]}"; do
		printf '%-12s %-22s %s\n' "$p" "${new_version[$p]}" "${new_sha[$p]}"
	done
} >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$file"
echo "update-lock: wrote $file; review the change (git diff) and commit it"
