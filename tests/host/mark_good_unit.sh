#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The systemd unit that runs `selfflash mark-good` on every healthy boot
# (rootfs/systemd/selfflash-mark-good.service): systemd's own checker accepts it (syntax,
# dependencies), it runs mark-good as a oneshot on every boot, and the checker reports a
# broken unit (so its silence means something).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=rootfs/systemd/selfflash-mark-good.service

if ! command -v systemd-analyze >/dev/null; then
	skip mark_good_unit_verified "systemd-analyze is not installed (package systemd)"
	finish
	exit
fi
# the checker wants the command to exist: the same unit pointing at a stand-in
printf '#!/bin/sh\nexit 0\n' >"$tmp/selfflash"
chmod +x "$tmp/selfflash"
sed "s|^ExecStart=/usr/sbin/selfflash |ExecStart=$tmp/selfflash |" "$unit" >"$tmp/selfflash-mark-good.service"
if out=$(systemd-analyze verify "$tmp/selfflash-mark-good.service" 2>&1) && [ -z "$out" ]; then
	ok mark_good_unit_verified
else
	not_ok mark_good_unit_verified "$out"
fi
if grep -qx 'ExecStart=/usr/sbin/selfflash mark-good' "$unit" && grep -qx 'Type=oneshot' "$unit" &&
	grep -qx 'WantedBy=multi-user.target' "$unit"; then
	ok mark_good_unit_runs_mark_good_every_boot
else
	not_ok mark_good_unit_runs_mark_good_every_boot
fi
# the checker has teeth: the same unit with a misspelt setting is reported
sed 's/^Type=oneshot/Type=oneshott/' "$tmp/selfflash-mark-good.service" >"$tmp/typo.service"
if ! out=$(systemd-analyze verify "$tmp/typo.service" 2>&1) || [ -n "$out" ]; then
	ok checker_reports_a_broken_unit
else
	not_ok checker_reports_a_broken_unit "no complaint about Type=oneshott"
fi
finish
