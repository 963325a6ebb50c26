# SPDX-License-Identifier: MIT
# Sourced by the build scripts: the library sources pinned in scripts/libs.lock (Debian source
# package, exact version, SHA-256 of its .dsc), fetched with apt and checked against the lock.
#
# Why a lock: apt offers whatever its indexes list today, and an index can list a version its
# mirror does not serve (bookworm-security listed zlib 1:1.2.13.dfsg-1+deb12u1 and answered 404).
# Building "what apt offers" made two machines build different flashers from one commit, and a
# new machine fail where CI's warm cache hid it. The .dsc's SHA-256 in the lock anchors every
# tarball too: the .dsc lists their SHA-256 and this file checks them before unpacking.
# Needs: scripts/cache.sh sourced first (SELFFLASH_CACHE).

LIBS_LOCK=${SELFFLASH_LIBS_LOCK:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/libs.lock}
# apt as root downloads into folders its sandbox user cannot write; that warning is noise here
APT_OPTS=(-q -o APT::Sandbox::User=root)

lock_die() {
	local line
	for line in "$@"; do echo "${LOCK_PROG:-lock}: $line" >&2; done
	exit 1
}

# lock_load [FILE]: fills lock_packages (file order), lock_version[PKG] and lock_sha[PKG];
# a lock of comments only is an error unless LOCK_ALLOW_EMPTY=1 (update-lock starting anew)
lock_load() {
	local file=${1:-$LIBS_LOCK} n=0 line pkg ver sha extra
	[ -f "$file" ] || lock_die "$file: no such lock file (make update-lock writes one)"
	lock_packages=()
	declare -gA lock_version=() lock_sha=()
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r pkg ver sha extra <<<"$line" || true
		[ -n "${pkg:-}" ] || continue
		if [ -z "${sha:-}" ] || [ -n "${extra:-}" ] ||
			! [[ $pkg =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || ! [[ $ver =~ ^[0-9A-Za-z.+:~-]+$ ]] ||
			! [[ $sha =~ ^[0-9a-f]{64}$ ]]; then
			lock_die "$file line $n: expected 'PACKAGE VERSION SHA256-OF-DSC', found '$line'"
		fi
		[ -z "${lock_version[$pkg]:-}" ] || lock_die "$file line $n: $pkg is locked twice"
		lock_packages+=("$pkg")
		lock_version[$pkg]=$ver
		lock_sha[$pkg]=$sha
	done <"$file"
	[ "${#lock_packages[@]}" -gt 0 ] || [ "${LOCK_ALLOW_EMPTY:-0}" = 1 ] ||
		lock_die "$file: locks no package"
}

# lock_require PKG...: each must be in the loaded lock
lock_require() {
	local p
	for p in "$@"; do
		[ -n "${lock_version[$p]:-}" ] ||
			lock_die "$LIBS_LOCK does not lock '$p' (add it: make update-lock PACKAGES='$p')"
	done
}

# dsc_name PKG VERSION: the .dsc's file name (no epoch in file names)
dsc_name() { echo "${1}_${2#*:}.dsc"; }

# source_versions PKG: every version apt's source indexes list, newest first
source_versions() {
	local v sorted=() i j
	while read -r v; do
		[ -n "$v" ] || continue
		# insertion by Debian's own ordering (sort -V gets epochs and ~ wrong)
		for ((i = 0; i < ${#sorted[@]}; i++)); do
			[ "${sorted[i]}" != "$v" ] || continue 2
			if dpkg --compare-versions "$v" gt "${sorted[i]}"; then break; fi
		done
		sorted=("${sorted[@]:0:i}" "$v" "${sorted[@]:i}")
	done < <(apt-cache showsrc "$1" 2>/dev/null | awk -v p="$1" '/^Package:/ {ok = ($2 == p)} ok && /^Version:/ {print $2}')
	for ((j = 0; j < ${#sorted[@]}; j++)); do echo "${sorted[j]}"; done
}

# source_dsc_fetch PKG VERSION DEST: downloads only the .dsc into DEST; prints its SHA-256.
# Fails (status 1, apt's reason in $DEST.err) when no configured source serves it.
source_dsc_fetch() {
	local uri
	uri=$(cd /tmp && apt-get "${APT_OPTS[@]}" source --print-uris "$1=$2" 2>"$3.err" |
		awk -v n="$(dsc_name "$1" "$2")" '$2 == n {gsub(/\x27/, "", $1); print $1}')
	[ -n "$uri" ] || return 1
	/usr/lib/apt/apt-helper "${APT_OPTS[@]}" download-file "$uri" "$3" >"$3.err" 2>&1 || return 1
	rm -f "$3.err"
	sha256sum "$3" | cut -d' ' -f1
}

# source_fetchable_versions PKG: "VERSION SHA256" for each listed version whose .dsc a
# configured source serves now, newest first
source_fetchable_versions() {
	local v tmp sha
	tmp=$(mktemp -d)
	for v in $(source_versions "$1"); do
		if sha=$(source_dsc_fetch "$1" "$v" "$tmp/dsc"); then echo "$v $sha"; fi
		rm -f "$tmp/dsc"
	done
	rm -rf "$tmp"
}

# dsc_verify_files DSC: every file the .dsc lists (Checksums-Sha256) sits beside it with that
# size and SHA-256; names the first that does not
dsc_verify_files() {
	local dsc=$1 dir sha size name got listed=0
	dir=$(dirname "$dsc")
	while read -r sha size name; do
		listed=$((listed + 1))
		[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.+~_-]*$ ]] ||
			{ echo "$(basename "$dsc") lists a file named '$name'"; return 1; }
		[ -f "$dir/$name" ] || { echo "$name (listed in $(basename "$dsc")) was not fetched"; return 1; }
		got=$(stat -c %s "$dir/$name")
		[ "$got" = "$size" ] ||
			{ echo "$name is $got bytes, $(basename "$dsc") says $size"; return 1; }
		got=$(sha256sum "$dir/$name" | cut -d' ' -f1)
		[ "$got" = "$sha" ] ||
			{ echo "$name has SHA-256 $got, $(basename "$dsc") says $sha"; return 1; }
	done < <(sed -n '/^Checksums-Sha256:/,/^[^ ]/{/^ /p}' "$dsc")
	[ "$listed" -gt 0 ] || { echo "$(basename "$dsc") lists no Checksums-Sha256"; return 1; }
}

# lock_unfetchable PKG VERSION REASON: the one message for a locked version nobody serves
lock_unfetchable() {
	local p=$1 v=$2 why=$3 now
	now=$(source_fetchable_versions "$p" | cut -d' ' -f1 | paste -sd' ' | sed 's/ /, /g')
	lock_die "$p $v, as locked in $LIBS_LOCK, cannot be fetched from any configured apt source" \
		"  (apt said: $why)" \
		"versions of $p apt can fetch now: ${now:-none (no deb-src entries? run: make deps)}" \
		"to move the lock to the newest of them: make update-lock (it prints what changed;" \
		"review and commit scripts/libs.lock)"
}

# source_fetch PKG VERSION SHA256: the unpacked, checked source in the cache; prints its
# folder. Fetches, checks the .dsc against the lock and the tarballs against the .dsc, then
# unpacks; an entry appears whole (renamed into place) or not at all. Concurrent builds (host
# and board sysroots under make -j) take turns through a lock file.
source_fetch() {
	local p=$1 v=$2 sha=$3 dir tmp dsc got why
	dir=$SELFFLASH_CACHE/src/$(dsc_name "$p" "$v")
	dir=${dir%.dsc}
	mkdir -p "$SELFFLASH_CACHE/src"
	exec 9>"$SELFFLASH_CACHE/src/.fetch.lock"
	flock 9
	if [ "$(cat "$dir/.complete" 2>/dev/null)" != "$sha" ]; then
		tmp=$(mktemp -d "$SELFFLASH_CACHE/src/.fetch.XXXXXX")
		if ! (cd "$tmp" && apt-get "${APT_OPTS[@]}" source --download-only "$p=$v") >"$tmp.log" 2>&1; then
			why=$(grep -E '^E:' "$tmp.log" | head -n1 | sed -e 's/^E: //' -e 's/ *\[IP: [^]]*\]//')
			rm -rf "$tmp" "$tmp.log"
			lock_unfetchable "$p" "$v" "${why:-see apt-get source $p=$v}"
		fi
		rm -f "$tmp.log"
		dsc=$tmp/$(dsc_name "$p" "$v")
		got=$(sha256sum "$dsc" | cut -d' ' -f1)
		if [ "$got" != "$sha" ]; then
			rm -rf "$tmp"
			lock_die "$p $v: its .dsc has SHA-256 $got, $LIBS_LOCK says $sha:" \
				"the source served now is not the one the lock was made from; nothing was unpacked"
		fi
		if ! why=$(dsc_verify_files "$dsc"); then
			rm -rf "$tmp"
			lock_die "$p $v: $why; nothing was unpacked"
		fi
		dpkg-source --no-check -x "$dsc" "$tmp/src" >"$tmp/unpack.log" 2>&1 ||
			{ tail -n 20 "$tmp/unpack.log" >&2; rm -rf "$tmp"; lock_die "$p $v: dpkg-source -x failed"; }
		echo "$sha" >"$tmp/src/.complete"
		rm -rf "$dir"
		mv "$tmp/src" "$dir"
		rm -rf "$tmp"
	fi
	exec 9>&-
	echo "$dir"
}
