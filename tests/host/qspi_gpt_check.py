#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# An independent reader of the QSPI GPT NVIDIA writes (DESIGN.md section 8), as edk2-nvidia's
# GptLib reads it: the header in the device's last 512 bytes, then every check UEFI makes.
# Written apart from the flasher's C code (Python's own CRC-32), so the two cannot share a bug.
# Usage: qspi_gpt_check.py IMAGE [--backup OFFSET] [--names]
#   prints one line per entry (name first last); exit 0 when every check holds, else 1 with
#   the reason on stderr. --backup: the same 16896 bytes must also start at OFFSET.
import struct
import sys
import zlib

BASIC_DATA = bytes.fromhex("a2a0d0ebe5b9334487c068b6b72699c7")


def fail(why):
    print(f"qspi_gpt_check: {why}", file=sys.stderr)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    if not args:
        fail("usage: qspi_gpt_check.py IMAGE [--backup OFFSET]")
    data = open(args[0], "rb").read()
    backup = None
    if "--backup" in args:
        backup = int(args[args.index("--backup") + 1], 0)
    size = len(data)
    if size % 512 or size < 16896 + 512:
        fail(f"image of {size} bytes")
    blob = data[size - 16896:]
    hdr = blob[16384:16384 + 92]
    (sig, rev, hsize, hcrc, reserved, my_lba, alt_lba, first, last_usable, guid, entries_lba,
     count, esize, ecrc) = struct.unpack("<8sIIIIQQQQ16sQIII", hdr)
    if sig != b"EFI PART" or rev != 0x00010000 or hsize != 92 or reserved != 0:
        fail(f"header: signature {sig!r}, revision {rev:#x}, size {hsize}, reserved {reserved}")
    if zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:]) != hcrc:
        fail("header CRC does not verify")
    lbas = size // 512
    if my_lba != lbas - 1 or alt_lba != 1 or first != 0:
        fail(f"MyLBA {my_lba} (want {lbas - 1}), AlternateLBA {alt_lba}, FirstUsableLBA {first}")
    if entries_lba != (size - 16896) // 512 or last_usable != entries_lba:
        fail(f"PartitionEntryLBA {entries_lba}, LastUsableLBA {last_usable}")
    if count != 128 or esize != 128 or guid == bytes(16):
        fail(f"{count} entries of {esize} bytes, disk GUID {guid.hex()}")
    if zlib.crc32(blob[:16384]) != ecrc:
        fail("entry array CRC does not verify")
    if any(blob[16384 + 92:]):
        fail("the header sector is not zero after the header")
    ended = False
    uniques = set()
    for i in range(128):
        e = blob[i * 128:(i + 1) * 128]
        if not any(e):
            ended = True
            continue
        if ended:
            fail(f"entry {i} follows an unused one")
        tguid, uguid, lo, hi, attrs = struct.unpack("<16s16sQQQ", e[:56])
        name = e[56:].decode("utf-16-le").rstrip("\0")
        if tguid != BASIC_DATA or uguid == bytes(16) or uguid in uniques or attrs != 0:
            fail(f"entry {i} ({name}): type {tguid.hex()}, unique {uguid.hex()}, attrs {attrs}")
        if not first <= lo <= hi <= last_usable:
            fail(f"entry {i} ({name}): LBAs {lo}..{hi} outside {first}..{last_usable}")
        uniques.add(uguid)
        print(f"{name} {lo} {hi}")
    if backup is not None and data[backup:backup + 16896] != blob:
        fail(f"the {16896} bytes at {backup:#x} are not the GPT at the end")


main()
