# SPDX-License-Identifier: MIT
"""A minimal flattened device tree (devicetree specification v0.4, chapter 5) with a root
node holding `compatible` and `model` and one child node, as NVIDIA's kernel DTBs begin;
enough for tests of readers of the root compatible. Also an RCM blob.bin (DESIGN.md §6;
edk2-nvidia RcmDxe.h) holding such a DTB as entry 46 (kernel_dtb)."""
import hashlib
import struct
import sys

FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_END = 1, 2, 3, 9


def _pad4(b):
    return b + b"\0" * (-len(b) % 4)


def make_dtb(compatible, model="test board"):
    strings = b""
    offsets = {}

    def name_off(name):
        nonlocal strings
        if name not in offsets:
            offsets[name] = len(strings)
            strings += name.encode() + b"\0"
        return offsets[name]

    def prop(name, value):
        return struct.pack(">III", FDT_PROP, len(value), name_off(name)) + _pad4(value)

    compat = b"".join(c.encode() + b"\0" for c in compatible)
    st = struct.pack(">I", FDT_BEGIN_NODE) + _pad4(b"\0")
    st += prop("compatible", compat) + prop("model", model.encode() + b"\0")
    st += struct.pack(">I", FDT_BEGIN_NODE) + _pad4(b"chosen\0")
    st += prop("bootargs", b"console=ttyTCU0\0") + struct.pack(">I", FDT_END_NODE)
    st += struct.pack(">II", FDT_END_NODE, FDT_END)
    rsvmap = b"\0" * 16
    off_rsv = 40
    off_struct = off_rsv + len(rsvmap)
    off_strings = off_struct + len(st)
    total = off_strings + len(strings)
    header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, off_rsv, 17, 16, 0,
                         len(strings), len(st))
    return header + rsvmap + st + strings


def make_blob(entries):
    """entries: list of (type, payload bytes). Header 0x450, digest = SHA-512 of 0x48..0x450."""
    table = b""
    payloads = b""
    off = 0x450
    for kind, data in entries:
        table += struct.pack("<IIII", kind, off + len(payloads), 0, len(data))
        payloads += data
    table += b"\0" * (64 * 16 - len(table))
    tail = b"\0\0\0\0" + struct.pack("<I", len(entries)) + table  # salt, count, table
    digest = hashlib.sha512(tail).digest()
    return b"blob" + b"\0" * 4 + digest + tail + payloads


if __name__ == "__main__":
    # dtb.py OUT COMPATIBLE...: write a DTB
    with open(sys.argv[1], "wb") as f:
        f.write(make_dtb(sys.argv[2:]))
