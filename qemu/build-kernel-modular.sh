#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the QEMU board's kernel with the flasher's drivers as modules: allnoconfig +
# qemu/kernel.config + qemu/kernel-modular.config, its Image and its module tree (made by
# modules_install, so depmod wrote modules.dep), cached outside the checkout.
# Usage: qemu/build-kernel-modular.sh BUILD_DIR
# Leaves BUILD_DIR/kernel-modular/Image, BUILD_DIR/kernel-modular/modules/lib/modules/KVER/
# (the .ko files, modules.dep, modules.builtin, modules.order) and
# BUILD_DIR/stamps/kernel-modular (changes only when an input changed).
#
# The unpacked source comes from qemu/build-kernel.sh, run first (it returns at once when its
# cache entry exists; the plain kernel is needed beside this one anyway). That script is left
# as it is because the plain kernel's cache key hashes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../scripts/cache.sh"
build=${1:?usage: build-kernel-modular.sh BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)

"$here/build-kernel.sh" "$build"
cache_lock kernel-modular

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
ccver=$(aarch64-linux-gnu-gcc -dumpfullversion)
cross=aarch64-linux-gnu-
src=$SELFFLASH_CACHE/src/linux-source-6.1_$srcver
[ -f "$src/Makefile" ] || { echo "build-kernel-modular: $src has no kernel source" >&2; exit 1; }
command -v depmod >/dev/null ||
	{ echo "build-kernel-modular: depmod missing (run: make deps; it is in kmod)" >&2; exit 1; }

fragments=("$here/kernel.config" "$here/kernel-modular.config")
key=$(cache_key "${fragments[@]}" "$0" "$srcver" "$ccver")
out=$SELFFLASH_CACHE/kernel-modular-$key

# The value each symbol should end with: the last line naming it, over the fragments in order
# (Kconfig reads KCONFIG_ALLCONFIG the same way, a later line overriding an earlier one).
wanted_lines() {
	awk '/^CONFIG_[A-Za-z0-9_]+=/ {
		name = substr($0, 1, index($0, "=") - 1)
		if (!(name in value)) order[++n] = name
		value[name] = $0
	} END { for (i = 1; i <= n; i++) print value[order[i]] }' "$@"
}

if [ ! -f "$out/Image" ]; then
	echo "build-kernel-modular: building Image and modules (key $key; about 9 minutes on two cores)"
	start=$(date +%s)
	obj=$SELFFLASH_CACHE/obj/kernel-modular-$key
	mkdir -p "$obj"
	# allnoconfig takes one KCONFIG_ALLCONFIG file: the fragments joined, in order
	cat "${fragments[@]}" >"$obj/allconfig.fragment"
	# Kconfig says "override: reassigning to symbol" for each line of the second fragment;
	# that is the point of it, so only other messages are shown
	make -s -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=$cross \
		KCONFIG_ALLCONFIG="$obj/allconfig.fragment" allnoconfig 2>&1 |
		{ grep -v 'override: reassigning to symbol' || true; }
	# Every requested option must survive Kconfig's dependency resolution: a typo or a
	# missing dependency would otherwise silently drop a driver (or build it in, when it
	# should be a module the flasher's initrd carries).
	missing=0
	while IFS= read -r line; do
		if ! grep -qx -- "$line" "$obj/.config"; then
			echo "build-kernel-modular: $line did not reach .config (found:" \
				"$(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo nothing))" >&2
			missing=1
		fi
	done < <(wanted_lines "${fragments[@]}")
	[ "$missing" = 0 ] || exit 1
	make -s -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=$cross -j"$(jobs_count)" Image modules
	tmp=$(mktemp -d "$SELFFLASH_CACHE/.kernel-modular.XXXXXX")
	# modules_install runs depmod (kmod's) over the installed tree: modules.dep is what
	# resolves a module's dependencies without modprobe
	make -s -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=$cross \
		INSTALL_MOD_PATH="$tmp/modules" INSTALL_MOD_STRIP=1 modules_install
	kver=$(cat "$obj/include/config/kernel.release")
	moddir=$tmp/modules/lib/modules/$kver
	# links back into the object tree, which is removed below
	rm -f "$moddir/build" "$moddir/source"
	# the kernel's depmod.sh only warns when depmod is missing; modules.dep must be there
	for f in modules.dep modules.builtin modules.order; do
		[ -s "$moddir/$f" ] ||
			{ echo "build-kernel-modular: modules_install left no $f in $moddir" >&2; exit 1; }
	done
	cp "$obj/arch/arm64/boot/Image" "$tmp/Image"
	cp "$obj/.config" "$tmp/config"
	echo "$kver" >"$tmp/kernel.release"
	chmod 755 "$tmp"
	rm -rf "$out"
	mv "$tmp" "$out"
	rm -rf "$obj"
	echo "build-kernel-modular: built in $(($(date +%s) - start)) s"
fi
link_update "$build/kernel-modular" "$out"
stamp_update "$build/stamps/kernel-modular" "$key $srcver"
