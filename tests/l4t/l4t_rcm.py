# SPDX-License-Identifier: MIT
"""The RCM boot bundle R36.3 and R36.4 leave offline (R35.x and R36.2 make none offline).

Places: R36.3 bootloader/rcm_blob/rcmcmd.txt (OE4T/meta-tegra 29efc2db, "normal
helper/tegraflash invocation can now generate a signed RCM boot blob"); R36.4
bootloader/rcmboot_blob/rcmbootcmd.txt (meta-tegra a54fed34 with the R36.4.0 update; NVIDIA's
own R38 script says RCMBOOT_BLOB_DIR="bootloader/rcmboot_blob"). The command file is the two
tegrarcm_v2 lines tegraflash records (DESIGN.md §6); blob.bin follows the layout edk2-nvidia's
RcmDxe reads: header 0x450 bytes, SHA-512 over 0x48..0x450, entry 45 an Android boot image v0.
"""
import hashlib
import os
import re
import struct

from dtb import make_dtb

BUNDLE = {
    "r36.3": ("rcm_blob", "rcmcmd.txt"),
    "r36.4": ("rcmboot_blob", "rcmbootcmd.txt"),
}
FIRST_STAGE = [("bct_br", "br_bct_BR.bct"),
               ("mb1", "mb1_t234_prod_aligned_sigheader.bin.encrypt"),
               ("psc_bl1", "psc_bl1_t234_prod_aligned_sigheader.bin.encrypt"),
               ("bct_mb1", "mb1_bct_MB1_sigheader.bct.encrypt")]
SECOND_STAGE = [("bct_mem", "mem_rcm_sigheader.bct.encrypt"), ("blob", "blob.bin")]
BLOB_HEADER = 0x450
KERNEL_ENTRY, KERNEL_DTB_ENTRY, UEFI_ENTRY = 45, 46, 43


def android_boot_image(kernel, ramdisk, cmdline, page=2048):
    """mkbootimg v0 (header_version 0) as NVIDIA's bootloader/mkbootimg writes it."""
    def pad(data):
        return data + b"\0" * (-len(data) % page)
    header = struct.pack("<8s10I16s512s32s1024s", b"ANDROID!", len(kernel), 0x10008000,
                         len(ramdisk), 0x11000000, 0, 0x10f00000, 0x10000100, page, 0, 0,
                         b"", cmdline.encode()[:511], hashlib.sha1(kernel + ramdisk).digest(), b"")
    return pad(header) + pad(kernel) + pad(ramdisk)


def blob(entries):
    """entries: [(type, payload)] → blob.bin with offsets, sizes and the header digest."""
    table = b""
    offset = BLOB_HEADER
    for kind, payload in entries:
        table += struct.pack("<4I", kind, offset, 0, len(payload))
        offset += len(payload)
    table += b"\0" * (64 * 16 - len(table))
    covered = b"\0" * 4 + struct.pack("<I", len(entries)) + table  # salt, count, entries
    digest = hashlib.sha512(covered).digest()
    header = b"blob" + b"\0" * 4 + digest + covered
    assert len(header) == BLOB_HEADER
    return header + b"".join(payload for _, payload in entries)


def kernel_dtb(dtb_name):
    """A DTB whose root compatible is the one NVIDIA's DTB of that name has:
    tegra234-p3701-0000-p3737-0000.dtb -> nvidia,p3737-0000+p3701-0000, nvidia,p3701-0000,
    nvidia,tegra234 (the module after the carrier, as the kernel's tegra234 DTs list them)."""
    m = re.search(r"tegra234-(p\d{4}-\d{4})-(p\d{4}-\d{4})", dtb_name)
    module, carrier = m.group(1), m.group(2)
    return make_dtb([f"nvidia,{carrier}+{module}", f"nvidia,{module}", "nvidia,tegra234"])


def write_bundle(release, bootloader_dir, kernel, dtb_name, rand):
    """The bundle directory and its command file; returns the directory (or None)."""
    if release not in BUNDLE:
        return None
    subdir, cmdfile = BUNDLE[release]
    where = os.path.join(bootloader_dir, subdir)
    os.makedirs(where, exist_ok=True)
    for kind, name in FIRST_STAGE + SECOND_STAGE[:1]:
        body = rand(8192 if kind == "bct_br" else 16384)
        if kind != "bct_br":
            body = b"NVDA" + body[4:]  # MB1, PSC BL1 and the BCTs after BR start so (DESIGN §6)
        with open(os.path.join(where, name), "wb") as out:
            out.write(body)
    initrd = rand(4096)
    boot = android_boot_image(kernel, initrd, "console=ttyTCU0,115200 flashing")
    entries = [(UEFI_ENTRY, b"UEFI" + rand(8188) + dtb_name.encode()),
               (KERNEL_ENTRY, boot), (KERNEL_DTB_ENTRY, kernel_dtb(dtb_name)),
               (7, rand(1000))]
    with open(os.path.join(where, "blob.bin"), "wb") as out:
        out.write(blob(entries))
    first = " ".join(f"--download {k} {n}" for k, n in FIRST_STAGE)
    second = " ".join(f"--download {k} {n}" for k, n in SECOND_STAGE)
    with open(os.path.join(where, cmdfile), "w") as out:
        out.write(f"./tegrarcm_v2 --new_session --chip 0x23 0 --uid {first}\n"
                  f"./tegrarcm_v2 --chip 0x23 0 --pollbl {second}\n")
    return where
