#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reproducible flasher: the board's flasher (/init) and the plain initrd, built from two
# checkouts of the same sources at different paths, at different times (the second one under
# faketime, 400 days on, with another SOURCE_DATE_EPOCH, time zone, locale and umask), are
# byte-identical, and equal to this checkout's own build. A factory signs off a flasher by its
# hash; that hash must not depend on where or when it was built. The libraries come from the
# shared cache (their own reproducibility is checked by scripts/check-cold.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# the sources as a clone would have them, plus what is not committed yet
copy_sources() { # DEST
	mkdir -p "$1"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard | xargs -0 -n 200 sh -c \
			'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ | tar --null -T - -cf - | tar -xf - -C "$1"
	else
		tar --exclude=./build -cf - . | tar -xf - -C "$1"
	fi
}
a=$tmp/a/selfflash
b=$tmp/checkout-at-another-and-longer-path/second/selfflash
copy_sources "$a"
copy_sources "$b"
# different source timestamps too: only the content may matter
find "$a" -type f -exec touch -d '2001-02-03 04:05:06' {} +

targets=(build/board/init build/selfflash.cpio.gz)
if (cd "$a" && make -s -j"$(nproc)" "${targets[@]}") >"$tmp/a.log" 2>&1; then
	ok build_in_first_checkout
else
	not_ok build_in_first_checkout "$(tail -n 20 "$tmp/a.log")"
fi
later=()
if command -v faketime >/dev/null; then
	later=(faketime -f +400d)
else
	skip build_at_a_later_date "faketime is not installed (make deps installs it); same clock, other epoch"
fi
if (cd "$b" && umask 077 && env TZ=Pacific/Kiritimati LC_ALL=C.UTF-8 SOURCE_DATE_EPOCH=1234567890 \
	"${later[@]}" make -s -j"$(nproc)" "${targets[@]}") >"$tmp/b.log" 2>&1; then
	ok build_in_second_checkout
else
	not_ok build_in_second_checkout "$(tail -n 20 "$tmp/b.log")"
fi

for t in "${targets[@]}"; do
	name=$(basename "$t")
	ha=$(sha256sum <"$a/$t" 2>/dev/null | cut -d' ' -f1) || true
	hb=$(sha256sum <"$b/$t" 2>/dev/null | cut -d' ' -f1) || true
	if [ -n "$ha" ] && [ "$ha" = "$hb" ]; then
		ok "${name}_identical_across_checkouts (sha256 $ha)"
	else
		not_ok "${name}_identical_across_checkouts" "sha256 ${ha:-missing} vs ${hb:-missing}"
	fi
	if [ -f "$build/${t#build/}" ]; then
		hc=$(sha256sum <"$build/${t#build/}" | cut -d' ' -f1)
		[ "$hc" = "$ha" ] && ok "${name}_matches_this_checkouts_build" ||
			not_ok "${name}_matches_this_checkouts_build" "$build/${t#build/}: $hc, fresh checkout: $ha"
	fi
done
finish
