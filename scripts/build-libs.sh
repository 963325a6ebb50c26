#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the five libraries of the design (zlib, zstd, BearSSL, libblkid, libmtd) as static
# archives from Debian's source packages, for the board (aarch64, musl) or for the host
# (native, for tests and host tools); the board's sysroot also gets libusb-1.0, for a static
# hostload that runs in the QEMU guest (the host's hostload uses the system's libusb). The
# result is a sysroot (include/, lib/) cached outside the checkout and keyed by the exact
# source package versions of scripts/libs.lock (scripts/lock.sh fetches and checks them), this
# script and the compiler.
# Usage: scripts/build-libs.sh [--fetch-only] aarch64|host BUILD_DIR
#   --fetch-only: fetch and check the locked sources into the cache, build nothing
# Leaves BUILD_DIR/sysroot-TARGET (link into the cache) and BUILD_DIR/stamps/sysroot-TARGET.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cache.sh"
. "$here/lock.sh"
LOCK_PROG=build-libs
fetch_only=0
if [ "${1:-}" = --fetch-only ]; then fetch_only=1; shift; fi
target=${1:?usage: build-libs.sh aarch64|host BUILD_DIR}
build=${2:?usage: build-libs.sh aarch64|host BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)
cache_lock "sysroot-$target"

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

packages=(zlib libzstd bearssl util-linux mtd-utils)
[ "$target" != aarch64 ] || packages+=(libusb-1.0)

# The sources are exactly those in scripts/libs.lock, checked against it; the lock keys the cache.
lock_load
lock_require "${packages[@]}"
locked=()
for p in "${packages[@]}"; do locked+=("$p=${lock_version[$p]}@${lock_sha[$p]}"); done

# the cache's own path is no input (the headers' version is): keys match across machines
key=$(cache_key "$0" "$target" "$ccver" "${cflags//"$SELFFLASH_CACHE"/CACHE}" "${locked[@]}")
out=$SELFFLASH_CACHE/sysroot-$target-$key
if [ "$fetch_only" = 0 ] && [ -f "$out/.complete" ]; then
	link_update "$build/sysroot-$target" "$out"
	stamp_update "$build/stamps/sysroot-$target" "$key"
	exit 0
fi

# Every source is fetched and checked before anything is compiled, so a lock that cannot be
# served fails in seconds, not after minutes of building the others.
declare -A source_dir
for p in "${packages[@]}"; do
	source_dir[$p]=$(source_fetch "$p" "${lock_version[$p]}" "${lock_sha[$p]}")
done
if [ "$fetch_only" = 1 ]; then
	for p in "${packages[@]}"; do echo "build-libs: $p ${lock_version[$p]} checked: ${source_dir[$p]}"; done
	exit 0
fi

echo "build-libs: building ${packages[*]} for $target (key $key)"
work=$(mktemp -d "$SELFFLASH_CACHE/.libs.XXXXXX")
trap 'rm -rf "$work"' EXIT
sysroot=$work/sysroot
mkdir -p "$sysroot/include" "$sysroot/lib"
jobs=$(jobs_count)
# The same archives whatever folder they are built in: no temporary or cache path may reach
# the objects (assert's __FILE__, debug info), or two machines would build different flashers.
cflags_keyed=$cflags
# ($work is inside the cache; of two matching maps gcc applies the later one)
cflags="$cflags -ffile-prefix-map=$SELFFLASH_CACHE=/selfflash-cache -ffile-prefix-map=$work=/selfflash-libs"

# zlib: its own configure; static only
src=${source_dir[zlib]}
cp -a "$src" "$work/zlib"
(
	cd "$work/zlib"
	CC=$cc AR=$ar RANLIB=$ranlib CFLAGS="$cflags" CHOST=$host_triplet \
		./configure --static --prefix="$sysroot" >/dev/null
	make -s -j"$jobs" libz.a >/dev/null
	cp libz.a "$sysroot/lib/"
	cp zlib.h zconf.h "$sysroot/include/"
)

# zstd: its own lib/Makefile, static, single-threaded (mkflashpkg runs its own threads, one
# chunk each). The host's is whole: mkflashpkg compresses. The board only decodes, so its copy
# leaves out the compressor, the dictionary builder, the deprecated API and the legacy
# (pre-1.0) frame formats: less code in the initrd and less for a hostile frame to reach.
# CFLAGS go through the environment so the Makefile's own additions still apply.
src=${source_dir[libzstd]}
cp -a "$src" "$work/zstd"
(
	cd "$work/zstd/lib"
	zstd_knobs=()
	[ "$target" != aarch64 ] || zstd_knobs=(ZSTD_LIB_COMPRESSION=0 ZSTD_LIB_DICTBUILDER=0
		ZSTD_LIB_DEPRECATED=0 ZSTD_LEGACY_SUPPORT=0)
	CFLAGS="$cflags" make -s -j"$jobs" CC="$cc" AR="$ar" "${zstd_knobs[@]}" libzstd.a \
		>make.out 2>&1 || { tail -n 30 make.out >&2; exit 1; }
	cp libzstd.a "$sysroot/lib/"
	cp zstd.h zstd_errors.h "$sysroot/include/"
)

# BearSSL: its own Makefile; the library only
src=${source_dir[bearssl]}
cp -a "$src" "$work/bearssl"
(
	cd "$work/bearssl"
	make -s -j"$jobs" CONF=Unix CC="$cc" AR="$ar" BUILD="$work/bearssl-build" \
		CFLAGS="-W -Wall $cflags" lib >/dev/null
	cp "$work/bearssl-build/libbearssl.a" "$sysroot/lib/"
	cp inc/*.h "$sysroot/include/"
)

# libmtd: three files of mtd-utils, compiled directly (its build system builds every tool)
src=${source_dir[mtd-utils]}
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
src=${source_dir[util-linux]}
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
	src=${source_dir[libusb-1.0]}
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
	echo "cflags $cflags_keyed"
	for p in "${packages[@]}"; do echo "source $p ${lock_version[$p]} dsc-sha256 ${lock_sha[$p]}"; done
} >"$sysroot/VERSIONS"
# what was built, to compare two builds of one key (scripts/check-cold.sh does)
(cd "$sysroot" && find lib include -type f | LC_ALL=C sort | xargs sha256sum) >"$sysroot/SHA256SUMS"
touch "$sysroot/.complete"
rm -rf "$out"
mv "$sysroot" "$out"
link_update "$build/sysroot-$target" "$out"
stamp_update "$build/stamps/sysroot-$target" "$key"
echo "build-libs: $target sysroot ready: $out"
