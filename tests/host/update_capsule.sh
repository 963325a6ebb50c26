#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A package carrying the boot firmware's UEFI capsule (issue 22), natively: mkflashpkg checks
# it is a capsule for the package's board and refuses one for another board; the flasher's
# update with the tegra backend stages it where edk2 reads it (<ESP>/EFI/UpdateCapsule/
# TEGRA_BL.Cap, stale files there removed), sets OsIndications bit 0x4, removes the stale
# BootChainFwStatus/BootChainFwNext and requests no boot chain; status tells the ESRT's last
# result in words; the systemd-boot backend refuses such a package.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
native_setup

ab_board_layout board.xml 4194304
head -c 600000 /dev/urandom >fw.bin
head -c 4000000 /dev/urandom >app1.img
head -c 4000000 /dev/urandom >app2.img
head -c 300000 /dev/urandom >kernel
"$(dirname "$mk")/mkinitrd" --bootimg boot.img --kernel kernel --no-ramdisk --cmdline "console=ttyAMA0" >/dev/null
"$mk" keygen k >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
# a capsule laid out as NVIDIA's l4t_generate_soc_capsule.sh has GenerateCapsule.py write it:
# EFI_CAPSULE_HEADER (FMP capsule GUID), FMP header, a v3 item for T234, authentication,
# FMP payload header "MSS1", then the BUP (NVIDIA__BLOB__V3, 184-byte entries with TnSpec)
capsule() { # OUT TNSPEC
	python3 - "$1" "$2" <<'PY'
import struct, sys, uuid
out, spec = sys.argv[1], sys.argv[2].encode()
entries = [(b"mb1", spec), (b"bpmp-fw", spec), (b"VER", b"")]
data = 4096
hdr = 48
bup = bytearray(struct.pack("<16sIIIIII8s", b"NVIDIA__BLOB__V3", 0x20000,
                            hdr + len(entries) * (184 + data), hdr, len(entries), 0, 0, b""))
for i, (name, tn) in enumerate(entries):
    bup += struct.pack("<40sIIII128s", name, hdr + len(entries) * 184 + i * data, data, 0, 0, tn)
for i in range(len(entries)):
    bup += bytes([0x40 + i]) * data
auth = struct.pack("<QIHH16s8s", 1, 32, 0x0200, 0x0EF1, uuid.UUID("4aafd29d-68df-49ee-8aa9-347d375665a7").bytes_le, b"signatur")
payload = auth + struct.pack("<4sIII", b"MSS1", 16, 0x230000, 0x230000) + bytes(bup)
item = struct.pack("<I16sB3sIIQQ", 3, uuid.UUID("bf0d4599-20d4-414e-b2c5-3595b1cda402").bytes_le,
                   1, b"", len(payload), 0, 0, 0) + payload
fmp = struct.pack("<IHHQ", 1, 0, 1, 16) + item
total = 28 + len(fmp)
cap = struct.pack("<16sIII", uuid.UUID("6dcbd5ed-e82d-4c44-bda1-7194199ad92a").bytes_le, 28, 0x50000, total) + fmp
open(out, "wb").write(cap)
PY
}
capsule agx.cap "3701-500-0005-M.0-1-1-jetson-agx-orin-devkit-"
capsule nano.cap "3767-000-0000--1-1-p3768-0000-p3767-0000-"
pkg() { # OUT VERSION APP [ARGS]
	"$mk" build -q -o "$1" --layout board.xml --key k.key --system-version "$2" \
		--variants variants.txt --file APP_A="$3" --file APP_B="$3" \
		--file KERNEL_A=boot.img --file KERNEL_B=boot.img --chunk-size 65536 "${@:4}"
}
pkg v1.sfpkg 1 app1.img
if pkg v2.sfpkg 2 app2.img --capsule agx.cap && "$mk" show v2.sfpkg >show.log &&
	grep -q 'TEGRA_BL.Cap' show.log && grep -q 'file' show.log &&
	"$mk" verify --pubkey k.pub v2.sfpkg >/dev/null; then
	ok build_carries_the_capsule
else
	not_ok build_carries_the_capsule "$(tail -n 3 show.log 2>/dev/null)"
fi
expect_fail capsule_for_another_board_refused "is not for variant agx" \
	pkg bad.sfpkg 2 app2.img --capsule nano.cap
printf 'not a capsule at all, just bytes' >junk.cap
expect_fail not_a_capsule_refused "not the FMP capsule" pkg bad.sfpkg 2 app2.img --capsule junk.cap

# the board, flashed with system 1 (the first flash never writes the capsule: a file)
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
truncate -s 64M nvme.img
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >qspi.img
if "$fl" flash --package v2.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img >flash.log 2>&1 &&
	! grep -q 'TEGRA_BL.Cap' <(sfdisk --dump nvme.img); then
	ok first_flash_leaves_the_capsule_file_out
else
	not_ok first_flash_leaves_the_capsule_file_out "$(tail -n 3 flash.log)"
fi
"$fl" flash --package v1.sfpkg --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
	--target spi=nor-file:qspi.img:65536 --target nvme=block:nvme.img >flash.log 2>&1 ||
	{ tail flash.log; exit 1; }

# running chain A: the T234 variables, stale switch variables, a stale capsule on the ESP
G=781e084c-a330-417c-b678-38e696380cb9 E=8be4df61-93ca-11d2-aa0d-00e098032b8c
mkdir -p efivars esp/EFI/UpdateCapsule esrt/entries/entry0
var() { # NAME VALUE [GUID [FORMAT]]: attributes 0x07, then the value
	python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<I" + sys.argv[2], 7, int(sys.argv[1], 0)))' \
		"$2" "${4:-I}" >"efivars/$1-${3:-$G}"
}
var BootChainFwCurrent 0
var RootfsRedundancyLevel 1
var RootfsRetryCountMax 3
var RootfsStatusSlotA 0
var RootfsStatusSlotB 0
var BootChainFwStatus 0
var OsIndications 0x1 "$E" Q
# slot A confirmed with system version 1 (anti-rollback knows what runs)
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<IIIQ", 7, 3, 1, 1))' \
	>efivars/SelfflashSlotA-2a812345-13c3-4ab0-98cd-49fab6d8302e
printf 'stale' >esp/EFI/UpdateCapsule/old.cap
# the rootfs tries register (/dev/mem at 0x0C3903A8) as a sparse file; the firmware's release
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
esp $tmp/esp
esrt $tmp/esrt
mem-device $tmp/mem.img
sysfs $tmp/sys
CONF
if "$fl" update --config tegra.conf --root-partition APP v2.sfpkg >update.log 2>&1 &&
	cmp -s agx.cap esp/EFI/UpdateCapsule/TEGRA_BL.Cap && [ ! -e esp/EFI/UpdateCapsule/old.cap ] &&
	[ "$(od -An -tx8 -j4 "efivars/OsIndications-$E" | tr -d ' ')" = 0000000000000005 ] &&
	[ ! -e "efivars/BootChainFwStatus-$G" ] && [ ! -e "efivars/BootChainFwNext-$G" ] &&
	grep -q 'removed the stale capsule' update.log && grep -q 'capsule staged' update.log; then
	ok update_stages_capsule_and_requests_it
else
	not_ok update_stages_capsule_and_requests_it "$(tail -n 4 update.log)"
fi
# the firmware applied it (ESRT 0) and ran chain B: status says so in words
printf 'bf0d4599-20d4-414e-b2c5-3595b1cda402\n' >esrt/entries/entry0/fw_class
printf '0\n' >esrt/entries/entry0/last_attempt_status
printf '2293760\n' >esrt/entries/entry0/last_attempt_version
printf '2293760\n' >esrt/entries/entry0/fw_version
if "$fl" status --config tegra.conf --root-partition APP >status.log 2>&1 &&
	grep -q 'capsule: ESRT entry0 (bf0d4599-20d4-414e-b2c5-3595b1cda402, T234 boot firmware).*0: success' status.log &&
	grep -q 'TEGRA_BL.Cap .* waits on the ESP; OsIndications asks UEFI' status.log; then
	ok status_tells_capsule_result_and_waiting
else
	not_ok status_tells_capsule_result_and_waiting "$(cat status.log)"
fi
printf '6163\n' >esrt/entries/entry0/last_attempt_status
if "$fl" status --config tegra.conf --root-partition APP >status.log 2>&1 &&
	grep -q '6163: NVIDIA: cancelled: BootChainFwNext or BootChainFwStatus existed' status.log; then
	ok status_tells_cancelled_capsule
else
	not_ok status_tells_cancelled_capsule "$(cat status.log)"
fi
# a board whose own TnSpec is another module's: refused at the plan, before anything is written
# (UEFI would refuse the capsule at the next boot with 6151, after the rootfs slot was written)
printf '\007\000\000\0003767-300-0000-K.0-1-0-jetson-orin-nano-devkit-' \
	>"efivars/TegraPlatformCompatSpec-$G"
before=$(sha256sum nvme.img; ls efivars esp/EFI/UpdateCapsule)
if ! "$fl" update --config tegra.conf --root-partition APP v2.sfpkg >spec.log 2>&1 &&
	grep -q "capsule is for another board.*3767-300-0000" spec.log &&
	! grep -q 'write (slot being updated)' <(sed -n '/FAILED/,$p' spec.log) &&
	[ "$(sha256sum nvme.img; ls efivars esp/EFI/UpdateCapsule)" = "$before" ]; then
	ok capsule_for_another_board_refused_before_writing
else
	not_ok capsule_for_another_board_refused_before_writing "$(tail -n 3 spec.log)"
fi
rm "efivars/TegraPlatformCompatSpec-$G"
# the same package on a board with the systemd-boot backend: refused before anything is written
mkdir -p sdesp/loader/entries
for s in a b; do
	r=$([ "$s" = a ] && echo APP || echo APP_b)
	printf 'title      slot %s\nsort-key   selfflash\nversion    1\nlinux      /selfflash/slot-%s/Image\noptions    root=PARTLABEL=%s\n# selfflash system-version 1\n' \
		"$s" "$s" "$r" >sdesp/loader/entries/selfflash-slot-$s.conf
done
sed -e 's/^slot-backend .*/slot-backend systemd-boot/' -e "s|^esp .*|esp $tmp/sdesp|" tegra.conf >sdboot.conf
before=$(sha256sum nvme.img)
if ! "$fl" update --config sdboot.conf --root-partition APP v2.sfpkg >sd.log 2>&1 &&
	grep -q 'only the tegra slot backend stages' sd.log && [ "$(sha256sum nvme.img)" = "$before" ]; then
	ok capsule_refused_on_systemd_boot
else
	not_ok capsule_refused_on_systemd_boot "$(tail -n 2 sd.log)"
fi
finish
