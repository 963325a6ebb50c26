# SPDX-License-Identifier: MIT
"""The disk GPT files tegraflash leaves next to the NVMe index (mbr_9_0.bin,
gpt_primary_9_0.bin, gpt_secondary_9_0.bin; bootloader/tegraflash_internal.py R35.3.1,
tegraflash_gpt_image_name_map), made with the real tool: sgdisk writes a GPT with every data
partition at the offset the index gives, numbered by its GPT id, the ESP with its EFI type,
and the files are cut from that disk: LBA 0, LBA 1 up to the first partition area, and the
last 33 sectors."""
import os
import subprocess
import tempfile
import uuid

SECTOR = 512
ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"  # NVIDIA's default partition type
GPT_KINDS = ("protective_master_boot_record", "primary_gpt", "secondary_gpt")


def gpt_files(parts, sectors, seed):
    """{partition name: bytes} for the three GPT partitions of a placed NVMe layout."""
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk")
        with open(disk, "wb") as f:
            f.truncate(sectors * SECTOR)
        # sgdisk aligns new partitions to 2048 sectors unless told not to (after --clear,
        # which resets it)
        args = ["sgdisk", "--clear", "--set-alignment=1"]
        for p in parts:
            if p.type in GPT_KINDS or p.name == "master_boot_record":
                continue
            n = p.index_id
            first = p.offset // SECTOR
            last = first + p.final_size // SECTOR - 1
            unique = uuid.uuid5(uuid.NAMESPACE_OID, f"{seed}:{p.name}")
            kind = ESP_TYPE if p.name == "esp" else BASIC_DATA
            args += [f"--new={n}:{first}:{last}", f"--change-name={n}:{p.name}",
                     f"--typecode={n}:{kind}", f"--partition-guid={n}:{unique}"]
        args += ["--disk-guid", str(uuid.uuid5(uuid.NAMESPACE_OID, f"{seed}:disk")), disk]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        data = open(disk, "rb")
        out = {}
        for p in parts:
            if p.name == "master_boot_record":
                data.seek(0)
                out[p.name] = data.read(p.final_size)
            elif p.type == "primary_gpt":
                data.seek(p.offset)
                out[p.name] = data.read(p.final_size)
            elif p.type == "secondary_gpt":
                data.seek(sectors * SECTOR - p.final_size)
                out[p.name] = data.read(p.final_size)
        data.close()
        return out
