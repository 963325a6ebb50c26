#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The fleet's arithmetic (tests/fleet_lib.sh): what an update to slot B must fetch given a
# board's disk before it, worked out here independently of the flasher; and what each board
# asked the web server for, from its access log.
#
#   fleet_check.py need SHOW NVME    SHOW: `mkflashpkg show --chunks` of the package; NVME:
#                                    the board's disk before the update. Prints
#                                    "CHUNKS BYTES": the chunks of slot B's disk partitions
#                                    that are neither in place nor at the same offset of
#                                    their slot A twin, and their stored bytes.
#   fleet_check.py served LOG DATA   LOG: lighttpd's access log in the format
#                                    '%{X-Selfflash-Board}i %>s %b "%{Range}i"'; DATA: the
#                                    package's data offset. Prints per board
#                                    "BOARD REQUESTS HEAD_BYTES CHUNK_REQUESTS CHUNK_BYTES
#                                    REPEATED NOT_206": bytes served before DATA (header and
#                                    manifest) and from it (chunks), ranges asked twice,
#                                    answers other than 206.
import hashlib
import re
import sys
from collections import defaultdict


def twin(name):
    """Slot A's partition for a slot B one (B_x -> A_x, x_b -> x), or None."""
    if name.startswith("B_"):
        return "A_" + name[2:]
    if name.endswith("_b"):
        return name[:-2]
    return None


def need(show_path, nvme_path):
    parts, chunks = {}, []  # name -> offset; (partition, offset, raw, stored, sha256)
    target, part = None, None
    for line in open(show_path):
        m = re.match(r"target \d+: (\w+):", line)
        if m:
            target = m.group(1)
            continue
        m = re.match(r"\s+partition (\S+)\s+offset\s+(\d+)", line)
        if m:
            part = m.group(1)
            if target != "spi":  # the update leaves the QSPI alone (no update-qspi)
                parts[part] = int(m.group(2))
            continue
        m = re.match(r"\s+chunk \d+: offset (\d+) raw (\d+) stored (\d+) \w+ sha256 ([0-9a-f]{64})", line)
        if m and target != "spi" and twin(part):
            chunks.append((part, int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)))
    count = size = 0
    with open(nvme_path, "rb") as disk:
        def holds(name, off, raw, digest):
            disk.seek(parts[name] + off)
            return hashlib.sha256(disk.read(raw)).hexdigest() == digest
        for name, off, raw, stored, digest in chunks:
            if holds(name, off, raw, digest) or holds(twin(name), off, raw, digest):
                continue
            count += 1
            size += stored
    print(count, size)


def served(log_path, data_offset):
    line_re = re.compile(r'^(\S+) (\d{3}) (\d+|-) "bytes=(\d+)-(\d+)"$')
    boards = defaultdict(lambda: {"requests": 0, "head": 0, "chunk_requests": 0, "chunks": 0,
                                  "repeated": 0, "not_206": 0, "seen": set()})
    for line in open(log_path):
        m = line_re.match(line.strip())
        if not m:
            continue  # a request without Range (not the flasher's)
        b = boards[m.group(1)]
        status, sent = int(m.group(2)), 0 if m.group(3) == "-" else int(m.group(3))
        first = int(m.group(4))
        b["requests"] += 1
        b["not_206"] += status != 206
        key = (first, int(m.group(5)))
        b["repeated"] += key in b["seen"]
        b["seen"].add(key)
        if first >= data_offset:
            b["chunk_requests"] += 1
            b["chunks"] += sent
        else:
            b["head"] += sent
    for name in sorted(boards):
        b = boards[name]
        print(name, b["requests"], b["head"], b["chunk_requests"], b["chunks"], b["repeated"],
              b["not_206"])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "need":
        need(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "served":
        served(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: fleet_check.py need SHOW NVME | served LOG DATA_OFFSET")
