#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes an edk2 UEFI variable store, as the T234 firmware keeps it in the QSPI's
# uefi_variables partition, with the variables given on the command line: an FV header
# (gEfiSystemNvDataFvGuid, 72 bytes with one block map entry, checksum), an authenticated
# variable store header (formatted, healthy), then AUTHENTICATED_VARIABLE_HEADER entries
# (StartId 0x55AA, UCS-2 name, 4-byte aligned), the rest erased (0xFF). Layouts: tianocore/edk2
# edk2-stable202211 MdePkg/Include/Pi/PiFirmwareVolume.h, MdeModulePkg/Include/Guid/
# VariableFormat.h. Written independently of the flasher's reader, which it tests.
# Usage: efi_varstore.py OUT SIZE [STATE:GUID:NAME:HEXDATA ...]
#   GUID is "nvidia" (781e084c-...), "global" (EFI global variables) or a GUID in text.
import struct
import sys
import uuid

NAMED = {"nvidia": "781e084c-a330-417c-b678-38e696380cb9",
         "global": "8be4df61-93ca-11d2-aa0d-00e098032b8c"}
SYSTEM_NV_DATA_FV = uuid.UUID("fff12b8d-7696-4c8b-a985-2747075b4f50")
AUTHENTICATED_VARIABLE = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")


def fv_header(size):
    blocks = struct.pack("<IIII", size // 4096, 4096, 0, 0)
    h = bytearray(b"\0" * 16 + SYSTEM_NV_DATA_FV.bytes_le + struct.pack("<Q", size) + b"_FVH" +
                  struct.pack("<IHHHBB", 0x0004FEFF, 72, 0, 0, 0, 2) + blocks)
    assert len(h) == 72
    checksum = (0x10000 - sum(struct.unpack("<36H", h)) % 0x10000) % 0x10000
    h[50:52] = struct.pack("<H", checksum)
    return bytes(h)


def variable(state, guid, name, data):
    name_bytes = (name + "\0").encode("utf-16-le")
    # StartId, State, Reserved, Attributes, MonotonicCount, EFI_TIME (16), PubKeyIndex,
    # NameSize, DataSize, VendorGuid: 60 bytes
    head = struct.pack("<HBBIQ16sIII", 0x55AA, state, 0, 7, 0, b"\0" * 16, 0, len(name_bytes),
                       len(data)) + uuid.UUID(NAMED.get(guid, guid)).bytes_le
    assert len(head) == 60
    v = head + name_bytes + data
    return v + b"\xff" * (-len(v) % 4)


def main():
    out, size = sys.argv[1], int(sys.argv[2], 0)
    store = bytearray(fv_header(size))
    store += AUTHENTICATED_VARIABLE.bytes_le + struct.pack("<IBBHI", size - 72, 0x5A, 0xFE, 0, 0)
    for spec in sys.argv[3:]:
        state, guid, name, data = spec.split(":")
        store += variable(int(state, 0), guid, name, bytes.fromhex(data))
    if len(store) > size:
        sys.exit(f"{len(store)} bytes of variables do not fit in {size}")
    with open(out, "wb") as f:
        f.write(bytes(store) + b"\xff" * (size - len(store)))


main()
