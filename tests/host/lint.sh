#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static analysis: cppcheck over every C source of the project must find nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
build=${BUILD:-build}

mapfile -t sources < <(find common initrd-flasher mkinitrd mkflashpkg host-loader tests -name '*.c' 2>/dev/null | sort)
if out=$(cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,style,performance,portability \
	--inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -DSELFFLASH_VERSION='"test"' \
	-Icommon -Iinitrd-flasher -Ihost-loader -I"$build/sysroot-host/include" "${sources[@]}" 2>&1); then
	ok cppcheck_clean
else
	not_ok cppcheck_clean "$out"
fi
finish
