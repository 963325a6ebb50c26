# SPDX-License-Identifier: MIT
"""Partition layouts per release and NVIDIA's flash.idx, for the L4T tree generator.

R35.3.1 layouts are read from the unmodified NVIDIA fixtures (../shared/fixtures). R36 layouts
are the R35.3.1 ones changed as NVIDIA's R36.2 files differ from them (johnnynunez/
Linux_for_Tegra 9a5768c, bootloader/generic/cfg/flash_t234_qspi.xml and tools/kernel_flash/
flash_l4t_t234_nvme*.xml), plus "secondary_gpt_backup has been dropped" for R36.3
(OE4T/meta-tegra 29efc2db). NVIDIA's R36 XML files are not copied.
"""
import xml.etree.ElementTree as ET

SECTOR = 512
GPT_BACKUP_BYTES = 33 * SECTOR  # secondary_gpt: header + 32 sectors of entries (tegraparser_v2)
FILL_TO_END = 0x808
DEVICE_CODES = {"spi": 3, "external": 9, "nvme": 9, "sdmmc_boot": 0, "sdmmc_user": 1, "sdcard": 6}
# the <device> of flash_l4t_t234_nvme.xml in R35.3.1; R36 leaves EXT_NUM_SECTORS to flash.sh,
# whose default is 119537664 (57 GiB; L4T-36.2 flash.sh l.2336)
NVME_SECTORS = {"r35.3.1": 122159104, "r36.3": 119537664, "r36.4": 119537664}


class Part:
    """One <partition>: what NVIDIA's layout says, before offsets are computed."""

    def __init__(self, name, ptype, size, attr=0x8, align=0, start=None, filename=None, gpt_id=None):
        self.name, self.type, self.size, self.attr = name, ptype, size, attr
        self.align, self.start_location, self.filename, self.gpt_id = align, start, filename, gpt_id
        self.offset = 0
        self.final_size = 0
        self.index_id = 0


def _number(text):
    text = (text or "").strip()
    return int(text, 0) if text else 0


def read_xml(path, placeholders):
    """(device type, instance, num_sectors, [Part]) of the first <device> of an NVIDIA layout."""
    device = ET.parse(path).getroot().find("device")
    parts = []
    for node in device.findall("partition"):
        def child(tag):
            found = node.find(tag)
            return found.text.strip() if found is not None and found.text else None
        size_text = placeholders.get(child("size"), child("size"))
        filename = child("filename")
        start = child("start_location")
        parts.append(Part(placeholders.get(node.get("name"), node.get("name")), node.get("type"),
                          _number(str(size_text)), _number(child("allocation_attribute") or "8"),
                          _number(child("align_boundary")), _number(start) if start else None,
                          filename, int(node.get("id")) if node.get("id") else None))
    sectors = device.get("num_sectors")
    return device.get("type"), int(device.get("instance")), sectors, parts


def _find(parts, name):
    return next(i for i, p in enumerate(parts) if p.name == name)


def r36_qspi(parts, release):
    """The R35.3.1 QSPI layout changed the way R36.2's is (see the module comment)."""
    out = list(parts)
    for chain in ("A", "B"):
        at = _find(out, f"{chain}_reserved_on_boot")
        out[at].size = 1114112
        out.insert(at, Part(f"{chain}_pva-fw", "pva_fw", 262144, 0x8, 65536, None, "PVA_FILE"))
    out.insert(_find(out, "uefi_ftw") + 1, Part("reserved", "data", 196608, 0x8, 65536))
    out[_find(out, "worm")].start_location = 0x3F70000
    out[_find(out, "BCT-boot-chain_backup")].start_location = 0x3FA0000
    out[_find(out, "B_VER")].start_location = 0x3FD0000
    backup = _find(out, "secondary_gpt_backup")
    if release == "r36.2":
        out[backup].type, out[backup].start_location = "backup_secondary_gpt", 0x3FC0000
    else:
        del out[backup]  # R36.3: "secondary_gpt_backup has been dropped" (meta-tegra 29efc2db)
    return out


def r36_nvme(parts):
    """The R35.3.1 NVMe layout changed the way R36.2's flash_l4t_t234_nvme.xml is."""
    out = list(parts)
    for p in out:
        if p.name in ("A_kernel", "B_kernel"):
            p.size = 134217728
        elif p.name in ("A_kernel-dtb", "B_kernel-dtb"):
            p.size = 786432
        elif p.name in ("A_reserved_on_user", "B_reserved_on_user"):
            p.size = 33161216
        elif p.name == "reserved":
            p.size = 502792192
        elif p.name == "APP":
            p.attr = FILL_TO_END
    out.insert(_find(out, "reserved"), Part("UDA", "data", 419430400, 0x8, 16384))
    return out


def add_app_b(parts):
    """Rootfs A/B: APP_b (id 2) after APP (id 1), both fixed size, A_kernel id 3, as in R36.2's
    flash_l4t_t234_nvme_rootfs_ab.xml. R35.3.1 ships no T234 A/B NVMe layout (only the generic
    T194-style flash_l4t_nvme_rootfs_ab.xml: APP, APP_b first, kernel/kernel_b): the R36 shape
    is used for it too. tegraparser_v2 (R35.3.1) numbers this shape 3..15, 1, 2."""
    out = list(parts)
    app = out[_find(out, "APP")]
    app.attr = 0x8
    out[_find(out, "A_kernel")].gpt_id = 3
    out.insert(_find(out, "APP") + 1, Part("APP_b", app.type, app.size, 0x8, app.align, None,
                                          "APPFILE_b", 2))
    return out


def place(parts, num_sectors):
    """Offsets and sizes as NVIDIA's tegraparser_v2 --generategpt computes them (checked
    against its output for both R35.3.1 fixtures): a cursor from 0, rounded up to
    align_boundary, start_location wins, sizes in whole sectors; secondary_gpt is the last 33
    sectors; a fill-to-end partition (0x808) grows to the secondary GPT."""
    end = num_sectors * SECTOR
    gpt_at = end - GPT_BACKUP_BYTES
    cursor = 0
    for p in parts:
        if p.type == "secondary_gpt":
            p.offset, p.final_size = gpt_at, GPT_BACKUP_BYTES
            continue
        start = p.start_location if p.start_location is not None else cursor
        if p.align:
            start = (start + p.align - 1) // p.align * p.align
        size = (p.size + SECTOR - 1) // SECTOR * SECTOR
        if p.attr == FILL_TO_END:
            size = gpt_at - start
        if start < cursor or start + size > gpt_at:
            raise ValueError(f"partition {p.name} does not fit at {start}")
        p.offset, p.final_size = start, size
        cursor = start + size
    return parts


def number_ids(parts):
    """The id in the index's attribute field: the layout's id= when given, else one more than
    the partition before; 0 for the MBR and GPTs (tegraparser_v2 R35.3.1, R36.2)."""
    previous = 0
    for p in parts:
        if p.type in ("protective_master_boot_record", "primary_gpt", "secondary_gpt"):
            p.index_id = 0
            continue
        p.index_id = p.gpt_id if p.gpt_id is not None else previous + 1
        previous = p.index_id


def index_lines(device_type, instance, parts, file_of):
    """NVIDIA's flash.idx text. file_of(part) gives (file name, size, sha1) or None. APP and
    APP_b never name a file (tegraparser_v2 leaves them empty)."""
    code = DEVICE_CODES[device_type]
    lines = []
    for n, p in enumerate(parts):
        entry = None if p.name in ("APP", "APP_b") else file_of(p)
        kind = "expand" if p.attr == FILL_TO_END else "fixed"
        name, size, sha1 = entry if entry else ("", "", "")
        lines.append(f"{n}, {code}:{instance}:{p.name}, {p.offset}, {p.final_size}, {name}, "
                     f"{size}, {kind}-<reserved>-{p.index_id}, {sha1}\n")
    return "".join(lines)
