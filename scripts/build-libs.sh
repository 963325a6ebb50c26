#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the four libraries of the design (zlib, BearSSL, libblkid, libmtd) as static
# archives from Debian's source packages, for the board (aarch64, musl) or for the host
# (native, for tests and host tools); the board's sysroot also gets libusb-1.0, for a static
# hostload that runs in the QEMU guest (the host's hostload uses the system's libusb). The
# result is a sysroot (include/, lib/) cached outside the checkout and keyed by the exact
# source package versions, this script and the compiler.
# Usage: scripts/build-libs.sh aarch64|host BUILD_DIR
# Leaves BUILD_DIR/sysroot-TARGET (link into the cache) and BUILD_DIR/stamps/sysroot-TARGET.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cache.sh"
target=${1:?usage: build-libs.sh aarch64|host BUILD_DIR}
build=${2:?usage: build-libs.sh aarch64|host BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)

case "$target" in
aarch64)
	cc=aarch64-linux-musl-gcc
	ar=aarch64-linux-gnu-ar
	ranlib=aarch64-linux-gnu-ranlib
	host_triplet=aarch64-linux-musl
	[ -d "$build/linux-headers/include" ] || {
		echo "build-libs: $build/linux-headers missing (qemu/build-kernel.sh installs it)" >&2
		exit 1
	}
	headers=$(readlink -f "$build/linux-headers")
	cflags="-Os -ffunction-sections -fdata-sections -isystem $headers/include"
	ccver="$(aarch64-linux-gnu-gcc -dumpfullversion) musl-$(dpkg-query -W -f='${Version}' musl-dev:arm64)"
	;;
host)
	cc=${HOST_CC:-cc}
	ar=ar
	ranlib=ranlib
	host_triplet=
	headers=
	cflags="-O2 -g"
	ccver="$($cc -dumpfullversion) $($cc -dumpmachine)"
	;;
*)
	echo "build-libs: unknown target '$target' (expected aarch64 or host)" >&2
	exit 2
	;;
esac

packages=(zlib bearssl util-linux mtd-utils)
[ "$target" != aarch64 ] || packages+=(libusb-1.0)

# The exact source versions apt would fetch now; their .dsc names key the cache. Asking apt
# takes seconds, so the answer is remembered until apt's source lists change.
lists_sig=$(ls -l --time-style=+%s /var/lib/apt/lists/ 2>/dev/null | grep -i sources | sha256sum | cut -c1-16)
memo=$SELFFLASH_CACHE/apt-source-dsc-$lists_sig-$(echo "${packages[*]}" | sha256sum | cut -c1-8)
if [ ! -s "$memo" ]; then
	(cd /tmp && apt-get source --print-uris "${packages[@]}" 2>/dev/null) |
		awk '$2 ~ /\.dsc$/ {print $2}' >"$memo.tmp" || true
	mv "$memo.tmp" "$memo"
fi
declare -A dsc
for p in "${packages[@]}"; do
	dsc[$p]=$(grep -m1 "^${p}_" "$memo" || true)
	[ -n "${dsc[$p]}" ] || {
		rm -f "$memo"
		echo "build-libs: apt-get source finds no source package '$p' (run: make deps)" >&2
		exit 1
	}
done

key=$(cache_key "$0" "$target" "$ccver" "$cflags" "${dsc[@]}")
out=$SELFFLASH_CACHE/sysroot-$target-$key
if [ -f "$out/.complete" ]; then
	link_update "$build/sysroot-$target" "$out"
	stamp_update "$build/stamps/sysroot-$target" "$key"
	exit 0
fi

# Unpacked sources are shared between targets: one directory per exact source version.
fetch_source() { # PKG -> prints the unpacked directory
	local p=$1 d=${dsc[$1]} ver dir tmp
	ver=${d#"${p}_"}
	ver=${ver%.dsc}
	dir=$SELFFLASH_CACHE/src/${p}_$ver
	if [ ! -f "$dir/.complete" ]; then
		mkdir -p "$SELFFLASH_CACHE/src"
		tmp=$(mktemp -d "$SELFFLASH_CACHE/src/.fetch.XXXXXX")
		(cd "$tmp" && apt-get source -q "$p" >"$tmp.log" 2>&1) || { tail -n 20 "$tmp.log" >&2; exit 1; }
		rm -f "$tmp.log"
		rm -rf "$dir"
		mv "$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)" "$dir"
		touch "$dir/.complete"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

echo "build-libs: building ${packages[*]} for $target (key $key)"
work=$(mktemp -d "$SELFFLASH_CACHE/.libs.XXXXXX")
trap 'rm -rf "$work"' EXIT
sysroot=$work/sysroot
mkdir -p "$sysroot/include" "$sysroot/lib"
jobs=$(jobs_count)

# zlib: its own configure; static only
src=$(fetch_source zlib)
cp -a "$src" "$work/zlib"
(
	cd "$work/zlib"
	CC=$cc AR=$ar RANLIB=$ranlib CFLAGS="$cflags" CHOST=$host_triplet \
		./configure --static --prefix="$sysroot" >/dev/null
	make -s -j"$jobs" libz.a >/dev/null
	cp libz.a "$sysroot/lib/"
	cp zlib.h zconf.h "$sysroot/include/"
)

# BearSSL: its own Makefile; the library only
src=$(fetch_source bearssl)
cp -a "$src" "$work/bearssl"
(
	cd "$work/bearssl"
	make -s -j"$jobs" CONF=Unix CC="$cc" AR="$ar" BUILD="$work/bearssl-build" \
		CFLAGS="-W -Wall $cflags" lib >/dev/null
	cp "$work/bearssl-build/libbearssl.a" "$sysroot/lib/"
	cp inc/*.h "$sysroot/include/"
)

# libmtd: three files of mtd-utils, compiled directly (its build system builds every tool)
src=$(fetch_source mtd-utils)
(
	cd "$work"
	for f in libmtd libmtd_legacy common; do
		# shellcheck disable=SC2086
		$cc $cflags -std=gnu99 -D_GNU_SOURCE -I"$src/include" -c "$src/lib/$f.c" -o "$work/mtd-$f.o"
	done
	$ar rcs "$sysroot/lib/libmtd.a" "$work"/mtd-*.o
	cp "$src/include/libmtd.h" "$sysroot/include/"
)

# libblkid: util-linux's autotools build, library only. The unpacked source's timestamps
# would otherwise make automake want to regenerate itself.
src=$(fetch_source util-linux)
mkdir -p "$work/util-linux"
(
	cd "$work/util-linux"
	hostopt=()
	[ -z "$host_triplet" ] || hostopt=(--host="$host_triplet")
	CC=$cc AR=$ar RANLIB=$ranlib CFLAGS="$cflags" "$src/configure" "${hostopt[@]}" \
		--disable-all-programs --enable-libblkid --disable-shared --enable-static \
		--without-python --without-systemd --without-udev --disable-nls \
		--disable-widechar >config.out 2>&1 || { tail -n 30 config.out >&2; exit 1; }
	make -s -j"$jobs" ACLOCAL=true AUTOMAKE=true AUTOCONF=true AUTOHEADER=true \
		libblkid.la >make.out 2>&1 || { tail -n 30 make.out >&2; exit 1; }
	cp .libs/libblkid.a "$sysroot/lib/"
	mkdir -p "$sysroot/include/blkid"
	cp libblkid/src/blkid.h "$sysroot/include/blkid/"
)

# libusb-1.0 (board only): without udev, libusb lists devices from sysfs and /dev/bus/usb and
# hears of new ones over netlink; hostload's usb: listener rescans besides
if [ "$target" = aarch64 ]; then
	src=$(fetch_source libusb-1.0)
	mkdir -p "$work/libusb"
	(
		cd "$work/libusb"
		CC=$cc AR=$ar RANLIB=$ranlib CFLAGS="$cflags" "$src/configure" --host="$host_triplet" \
			--disable-shared --enable-static --disable-udev >config.out 2>&1 ||
			{ tail -n 30 config.out >&2; exit 1; }
		make -s -j"$jobs" -C libusb ACLOCAL=true AUTOMAKE=true AUTOCONF=true AUTOHEADER=true \
			>make.out 2>&1 || { tail -n 30 make.out >&2; exit 1; }
		cp libusb/.libs/libusb-1.0.a "$sysroot/lib/"
		mkdir -p "$sysroot/include/libusb-1.0"
		cp "$src/libusb/libusb.h" "$sysroot/include/libusb-1.0/"
	)
fi

{
	echo "target $target"
	echo "compiler $ccver"
	echo "cflags $cflags"
	for p in "${packages[@]}"; do echo "source ${dsc[$p]}"; done
} >"$sysroot/VERSIONS"
touch "$sysroot/.complete"
rm -rf "$out"
mv "$sysroot" "$out"
link_update "$build/sysroot-$target" "$out"
stamp_update "$build/stamps/sysroot-$target" "$key"
echo "build-libs: $target sysroot ready: $out"
