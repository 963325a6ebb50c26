#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what selfflash needs on a Debian bookworm host: the aarch64 musl cross toolchain,
# QEMU, the kernel source, and deb-src entries so the libraries can be built from Debian's
# source packages. Without root it only prints what it would run.
set -euo pipefail

packages=(
	build-essential clang cppcheck pkg-config file cpio xz-utils rsync kmod
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-dev:arm64
	qemu-system-arm qemu-user-static
	linux-source-6.1 bc bison flex libssl-dev libelf-dev
	dpkg-dev libclang-rt-14-dev openssl
	libusb-1.0-0-dev
	# tests and benchmarks read JSON events and do arithmetic with it
	python3
	# the reproducibility test builds the flasher a second time at a later date
	faketime
	# the demo system (rootfs/build.sh) and its normal boot (qemu/run-normal.sh, e2e test)
	dosfstools mtools e2fsprogs fdisk qemu-efi-aarch64 systemd-boot-efi:arm64
	# img2simg: the sparse-input test makes Android sparse images with the real tool
	android-sdk-libsparse-utils
	# tests/host/l4t_tree.sh: getfattr reads the xattrs GNU tar restores, xxd the sparse magic
	attr xxd
	# bootctl: tests/host/slot_sdboot_bootctl.sh checks the ESP the systemd-boot backend writes
	systemd-boot
	# systemd-analyze verify: tests/host/mark_good_unit.sh checks the mark-good unit
	systemd
	# make bench: bmaptool copy is the baseline of the flash (zstd: the program bmaptool
	# decompresses a .zst image with, and the compressed image's maker), GNU time measures
	# peak memory and CPU seconds of every process
	bmap-tools time zstd
	# mkflashpkg rootfs-from-tar (NVIDIA's rootfs tar to ext4): bsdtar extracts, fakeroot when
	# not root, mke2fs and debugfs (e2fsprogs, above) make the image; tests/host/rootfs_tar.sh
	# sets xattrs and capabilities on its source tree
	libarchive-tools fakeroot libcap2-bin
	# tests/host/http_source.sh: packages over HTTP from a real web server with Range support;
	# https_source.sh, fleet.sh, make demo-update and tests/e2e/update_https.sh: the same over
	# HTTPS (its TLS module)
	lighttpd lighttpd-mod-openssl
	# mkflashpkg l4t tests: fdtget reads the test DTBs independently of selfflash's reader
	device-tree-compiler
	# tests/l4t: sgdisk writes the GPT files of the Linux_for_Tegra test trees, and reads the
	# flashed disk's GPT back
	gdisk
)

have_arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 && have_arm64=1

# deb-src entries copied from the machine's own deb entries, so no mirror is ever named here.
srcfile=/etc/apt/sources.list.d/selfflash-deb-src.sources
need_src=1
if apt-get source --print-uris zlib >/dev/null 2>&1; then need_src=0; fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "$have_arm64" = 1 ] && [ "$need_src" = 0 ] && [ "${#missing[@]}" = 0 ]; then
	echo "deps: everything is installed"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing, run as root:" >&2
	[ "$have_arm64" = 1 ] || echo "  dpkg --add-architecture arm64" >&2
	[ "$need_src" = 0 ] || echo "  (add deb-src lines mirroring your deb lines, then apt-get update)" >&2
	echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi

if [ "$have_arm64" = 0 ]; then
	echo "deps: adding the arm64 architecture (for musl-dev:arm64)"
	dpkg --add-architecture arm64
fi

if [ "$need_src" = 1 ]; then
	echo "deps: writing $srcfile from the existing deb entries"
	tmp=$(mktemp)
	: >"$tmp"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && [ "$f" != "$srcfile" ] || continue
		# deb822: same stanzas, source type only (comments and other fields kept as they are)
		sed -e 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"
		echo >>"$tmp"
	done
	listfile=${srcfile%.sources}.list
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] && [ "$f" != "$listfile" ] || continue
		sed -n -e 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
	done >"$listfile"
	[ -s "$listfile" ] || rm -f "$listfile"
	mv "$tmp" "$srcfile"
	chmod 644 "$srcfile"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [ "${#missing[@]}" -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
apt-get source --print-uris zlib >/dev/null || {
	echo "deps: apt-get source still finds no source packages; check $srcfile" >&2
	exit 1
}
echo "deps: done"
