# SPDX-License-Identifier: MIT
# Sourced by the build scripts: the build cache outside the checkout, keyed by inputs.
# A cache entry is a directory that appears atomically (built under a temporary name, then
# renamed), so an interrupted build never leaves an entry that looks complete.

SELFFLASH_CACHE=${SELFFLASH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/selfflash}
mkdir -p "$SELFFLASH_CACHE"

# cache_key WORDS... : a short hash of the given words and of the files among them
cache_key() {
	local w
	for w in "$@"; do
		if [ -f "$w" ]; then
			printf 'file %s ' "$(basename "$w")"
			sha256sum <"$w"
		else
			printf 'word %s\n' "$w"
		fi
	done | sha256sum | cut -c1-16
}

# stamp_update FILE KEY : rewrite FILE only when the key changed, so make sees a new
# timestamp exactly when a cached input changed
stamp_update() {
	mkdir -p "$(dirname "$1")"
	if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
		echo "$2" >"$1"
	fi
}

# link_update LINK TARGET : point LINK at TARGET, leaving it alone when it already does
link_update() {
	mkdir -p "$(dirname "$1")"
	if [ "$(readlink "$1" 2>/dev/null)" != "$2" ]; then
		ln -sfn "$2" "$1"
	fi
}

jobs_count() {
	nproc 2>/dev/null || echo 2
}

# cache_lock NAME : an exclusive lock on the cache entry NAME, held until the calling script
# exits, so that two builds sharing the cache (two checkouts, or two makes at once) wait for
# each other rather than build into the same directory (two kernel builds in one object tree
# break each other's dependency files)
cache_lock() {
	local fd
	exec {fd}>"$SELFFLASH_CACHE/.lock-$1"
	if ! flock -n "$fd"; then
		echo "$(basename "$0"): waiting for another build of $1 in $SELFFLASH_CACHE" >&2
		flock "$fd"
	fi
}
