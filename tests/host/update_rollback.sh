#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Anti-rollback and systemd-boot's own choices, through the flasher's command line (issue 23).
# A factory-flashed tegra board (no record of its slot's version: recovery mode keeps no EFI
# variable) refuses an older package, and any package, until the running system's version is
# recorded (mark-good reads /etc/selfflash/system-version) or --allow-downgrade is given; the
# floor (the newest version ever confirmed) refuses what is older. On systemd-boot an update
# is refused when the boot loader booted another slot's entry, with LoaderEntryDefault set, or
# with a unified kernel image in /EFI/Linux. Every refusal leaves the disk, the ESP and the
# variables as they were.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup
mi=$(dirname "$mk")/mkinitrd

ab_board_layout board.xml 4194304
head -c 3000000 /dev/urandom >app.img
head -c 600000 /dev/urandom >fw.bin
head -c 300000 /dev/urandom >kernel
"$mi" --bootimg boot.img --kernel kernel --no-ramdisk --cmdline "console=ttyAMA0" >/dev/null
"$mk" keygen k >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
for v in 1 2 3 5; do
	"$mk" build -q -o v$v.sfpkg --layout board.xml --key k.key --system-version $v \
		--variants variants.txt --file APP_A=app.img --file APP_B=app.img \
		--file KERNEL_A=boot.img --file KERNEL_B=boot.img --file fw.bin=fw.bin --chunk-size 65536
done
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
truncate -s 64M nvme.img
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
"$fl" flash --package v1.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img >flash.log 2>&1 ||
	{ tail flash.log; exit 1; }

# ---- tegra: the board as a first flash leaves it, running chain A, no selfflash record ----
G=781e084c-a330-417c-b678-38e696380cb9
mkdir efivars
var() { python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<II", 7, int(sys.argv[1])))' "$2" >"efivars/$1-$G"; }
var BootChainFwCurrent 0
var RootfsRedundancyLevel 1
var RootfsRetryCountMax 3
var RootfsStatusSlotA 0
var RootfsStatusSlotB 0
truncate -s $((0x0C391000)) mem.img
mkdir -p sys/class/dmi/id
echo 36.4.3-gcid-38968081 >sys/class/dmi/id/bios_version
cat >tegra.conf <<CONF
pubkey $tmp/k.pub
eeprom $tmp/agx.eeprom
chip-sku D0
target spi nor-file:$tmp/qspi.img:65536
target nvme block:$tmp/nvme.img
slot-backend tegra
efivars $tmp/efivars
mem-device $tmp/mem.img
sysfs $tmp/sys
system-version-file $tmp/system-version
CONF
tg() { "$fl" "$1" --config tegra.conf --root-partition APP "${@:2}"; }
state() { sha256sum nvme.img qspi.img | cut -d' ' -f1 | tr '\n' ' '; { find efivars esp sdvars -type f 2>/dev/null || true; } | sort | xargs -r sha256sum | sha256sum | cut -c1-16; }
refused() { # NAME EXPECTED_MESSAGE COMMAND...
	local name=$1 want=$2 before
	shift 2
	before=$(state)
	if ! "$@" >"$name.log" 2>&1 && grep -q -- "$want" "$name.log" && [ "$(state)" = "$before" ]; then
		ok "refused_${name}_nothing_written"
	else
		not_ok "refused_${name}_nothing_written" "$(tail -n 2 "$name.log")"
	fi
}
# today's code compared nothing here and installed the older package
refused tegra_unrecorded_version "version is not recorded.*--allow-downgrade" tg update v1.sfpkg
# the system says its version; its first mark-good records it and sets the floor
echo 3 >system-version
if tg mark-good >mark1.log 2>&1 && grep -q "slot A's system version 3 recorded" mark1.log &&
	grep -q 'anti-rollback floor raised to 3' mark1.log &&
	tg status >status1.log 2>&1 && grep -q 'running slot A (APP): good, system version 3' status1.log &&
	grep -q 'anti-rollback floor: system version 3' status1.log; then
	ok tegra_first_mark_good_records_the_version
else
	not_ok tegra_first_mark_good_records_the_version "$(cat mark1.log status1.log)"
fi
refused tegra_older_than_installed "older than the installed 3" tg update v2.sfpkg
if tg update v2.sfpkg --allow-downgrade >down.log 2>&1 && grep -q 'downgrade allowed' down.log; then
	ok tegra_downgrade_when_allowed
else
	not_ok tegra_downgrade_when_allowed "$(tail -n 2 down.log)"
fi
# the board boots B (version 2) and confirms it: the floor stays 3, so from B a package 2
# passes the slot's version but not the floor
var BootChainFwCurrent 1
rm -f "efivars/BootChainFwNext-$G"
"$fl" mark-good --config tegra.conf --root-partition APP_b >mark2.log 2>&1 || { cat mark2.log; exit 1; }
refused tegra_below_the_floor "below the board's anti-rollback floor 3" \
	"$fl" update --config tegra.conf --root-partition APP_b v2.sfpkg
if "$fl" update --config tegra.conf --root-partition APP_b v5.sfpkg --dry-run >up5.log 2>&1; then
	ok tegra_newer_than_the_floor_accepted
else
	not_ok tegra_newer_than_the_floor_accepted "$(tail -n 2 up5.log)"
fi

# ---- systemd-boot: what the boot loader says it booted, and what else it would boot ----
mkdir -p esp/loader/entries esp/selfflash/slot-a esp/selfflash/slot-b
printf 'timeout 0\neditor no\n' >esp/loader/loader.conf
for s in a b; do
	g=$([ "$s" = a ] && echo 2 || echo 1) r=$([ "$s" = a ] && echo APP || echo APP_b)
	cp kernel esp/selfflash/slot-$s/Image
	printf 'title      slot %s\nsort-key   selfflash\nversion    %s\nlinux      /selfflash/slot-%s/Image\noptions    root=PARTLABEL=%s\n# selfflash system-version 3\n' \
		"$s" "$g" "$s" "$r" >esp/loader/entries/selfflash-slot-$s.conf
done
sed -e 's/^slot-backend .*/slot-backend systemd-boot/' -e "s|^efivars .*|efivars $tmp/sdvars|" tegra.conf >sd.conf
echo "esp $tmp/esp" >>sd.conf
sd() { "$fl" update --config sd.conf --root-partition APP "$@"; }
sdboot_vars sdvars selfflash-slot-b.conf
refused sdboot_loader_booted_other_slot "booted slot b's entry" sd v5.sfpkg
sdboot_vars sdvars selfflash-slot-a.conf
L=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<I", 7) + "selfflash-slot-a.conf\0".encode("utf-16-le"))' \
	>"sdvars/LoaderEntryDefault-$L"
refused sdboot_loader_entry_default "LoaderEntryDefault.*bootctl set-default" sd v5.sfpkg
rm "sdvars/LoaderEntryDefault-$L"
mkdir -p esp/EFI/Linux
printf 'MZ' >esp/EFI/Linux/other-6.1.efi
refused sdboot_uki_in_efi_linux "EFI/Linux/other-6.1.efi: a unified kernel image" sd v5.sfpkg
rm esp/EFI/Linux/other-6.1.efi
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<I", 7) + "selfflash-slot-a.conf\0".encode("utf-16-le"))' \
	>"sdvars/LoaderEntryOneShot-$L"
if sd v5.sfpkg >sd5.log 2>&1 && grep -q 'removed LoaderEntryOneShot' sd5.log &&
	[ ! -e "sdvars/LoaderEntryOneShot-$L" ] && [ -f esp/loader/entries/selfflash-slot-b+3.conf ]; then
	ok sdboot_oneshot_cleared_at_arm
else
	not_ok sdboot_oneshot_cleared_at_arm "$(tail -n 3 sd5.log)"
fi

# ---- the command line's time limits: a bad value is a usage error that names it ----
for args in "update --run-timeout 0 v5.sfpkg" "update --run-timeout 2592001 v5.sfpkg" \
	"update --link-timeout 10s v5.sfpkg" "flash --run-timeout 1h --package v5.sfpkg"; do
	opt=${args#* }
	opt=${opt%% *}
	x=0
	# shellcheck disable=SC2086 # the words of args are the command line
	"$fl" $args >cli.log 2>&1 || x=$?
	if [ "$x" = 2 ] && grep -q -- "$opt '.*': expected 1\.\.[0-9]* seconds" cli.log; then
		ok "cli_refuses_${opt#--}_$(echo "$args" | cut -d' ' -f3)"
	else
		not_ok "cli_refuses_${opt#--}_$(echo "$args" | cut -d' ' -f3)" "exit $x: $(head -n 2 cli.log)"
	fi
done
finish
