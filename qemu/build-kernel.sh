#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the QEMU board's kernel (Debian's linux-source-6.1, allnoconfig + qemu/kernel.config)
# and the arm64 UAPI headers the musl sysroot needs, both cached outside the checkout.
# Usage: qemu/build-kernel.sh BUILD_DIR
# Leaves BUILD_DIR/kernel/Image, BUILD_DIR/linux-headers (links into the cache) and
# BUILD_DIR/stamps/kernel (changes only when an input changed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../scripts/cache.sh"
build=${1:?usage: build-kernel.sh BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)
cache_lock kernel

tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || { echo "build-kernel: $tarball missing (run: make deps)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
ccver=$(aarch64-linux-gnu-gcc -dumpfullversion)
cross=aarch64-linux-gnu-

src=$SELFFLASH_CACHE/src/linux-source-6.1_$srcver
if [ ! -f "$src/Makefile" ]; then
	echo "build-kernel: unpacking linux-source-6.1 $srcver"
	tmp=$(mktemp -d "$SELFFLASH_CACHE/src/.unpack.XXXXXX" 2>/dev/null || { mkdir -p "$SELFFLASH_CACHE/src"; mktemp -d "$SELFFLASH_CACHE/src/.unpack.XXXXXX"; })
	tar -xJf "$tarball" -C "$tmp"
	rm -rf "$src"
	mv "$tmp/linux-source-6.1" "$src"
	rmdir "$tmp"
fi

headers=$SELFFLASH_CACHE/linux-headers-arm64_$srcver
if [ ! -f "$headers/include/mtd/mtd-abi.h" ]; then
	echo "build-kernel: installing arm64 UAPI headers"
	tmp=$(mktemp -d "$SELFFLASH_CACHE/.headers.XXXXXX")
	make -s -C "$src" O="$tmp/obj" ARCH=arm64 CROSS_COMPILE=$cross headers_install INSTALL_HDR_PATH="$tmp/out"
	rm -rf "$headers"
	mv "$tmp/out" "$headers"
	rm -rf "$tmp"
fi
link_update "$build/linux-headers" "$headers"

key=$(cache_key "$here/kernel.config" "$0" "$srcver" "$ccver")
out=$SELFFLASH_CACHE/kernel-$key
if [ ! -f "$out/Image" ]; then
	echo "build-kernel: building Image (key $key; about 5 minutes on two cores)"
	obj=$SELFFLASH_CACHE/obj/kernel-$key
	mkdir -p "$obj"
	make -s -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=$cross \
		KCONFIG_ALLCONFIG="$here/kernel.config" allnoconfig
	# Every requested option must survive Kconfig's dependency resolution: a typo or a
	# missing dependency would otherwise silently drop a driver the board needs.
	missing=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*) ;; *) continue ;; esac
		if ! grep -qx -- "$line" "$obj/.config"; then
			echo "build-kernel: $line did not reach .config" >&2
			missing=1
		fi
	done <"$here/kernel.config"
	[ "$missing" = 0 ] || exit 1
	make -s -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=$cross -j"$(jobs_count)" Image
	tmp=$(mktemp -d "$SELFFLASH_CACHE/.kernel.XXXXXX")
	cp "$obj/arch/arm64/boot/Image" "$tmp/Image"
	cp "$obj/.config" "$tmp/config"
	chmod 755 "$tmp"
	rm -rf "$out"
	mv "$tmp" "$out"
	rm -rf "$obj"
fi
link_update "$build/kernel" "$out"
stamp_update "$build/stamps/kernel" "$key $srcver"
