#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The code's shape (issue 12, STYLE.md): no include cycle between modules (x.c/x.h include
# y.h and y back), no file in initrd-flasher/ over 400 lines but the USB gadget, and no host
# tool or common/ file that includes a header of the board's initrd-flasher/.
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CODE_DIRS = ["common", "initrd-flasher", "host-loader", "mkflashpkg", "mkinitrd"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
failures = 0


def case(ok, name, why=""):
    global failures
    print(("ok " if ok else "not ok ") + name)
    if not ok:
        failures += 1
        print("  " + why, file=sys.stderr)


def sources():
    for d in CODE_DIRS:
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if f.endswith((".c", ".h")):
                yield d, f


# module = folder/name without extension (x.c with x.h). A header with no .c of its own (a
# private header such as link_internal.h, a format such as le.h) is no module: what it
# includes counts for every file that includes it.
files = {}
for d, f in sources():
    files[f"{d}/{f}"] = INCLUDE.findall(open(os.path.join(ROOT, d, f), encoding="utf-8").read())
headers = {}
for path in files:
    d, f = path.split("/", 1)
    if f.endswith(".h"):
        headers.setdefault(f, []).append(d)


def resolve(d, inc):
    """The project file a quoted include in folder d names, or None (system or test header)."""
    base = os.path.basename(inc)
    places = headers.get(base, [])
    # beside the including file first, then -Icommon (and -Iinitrd-flasher for the board)
    for where in (d, "common", "initrd-flasher"):
        if where in places:
            return f"{where}/{base}"
    return None


def module_of(path):
    return path[:-2]


def has_source(header):
    return f"{header[:-2]}.c" in files


def reached(path, seen):
    """Modules the file at path depends on, through header-only headers."""
    d = path.split("/", 1)[0]
    out = set()
    for inc in files[path]:
        target = resolve(d, inc)
        if target is None or target in seen:
            continue
        seen.add(target)
        if has_source(target):
            out.add(module_of(target))
        else:
            out |= reached(target, seen)
    return out


graph = {}
for path in files:
    if path.endswith(".h") and not has_source(path):
        continue
    mod = module_of(path)
    deps = reached(path, {path})
    deps.discard(mod)
    graph.setdefault(mod, set()).update(deps)

cycles = []
state = {}


def visit(node, path):
    state[node] = 1
    for nxt in sorted(graph.get(node, ())):
        if state.get(nxt) == 1:
            cycles.append(path[path.index(nxt):] + [nxt])
        elif nxt not in state:
            visit(nxt, path + [nxt])
    state[node] = 2


for node in sorted(graph):
    if node not in state:
        visit(node, [node])
case(not cycles, f"no_include_cycle_between_modules ({len(graph)} modules)",
     "; ".join(" -> ".join(c) for c in cycles))

big = []
for d, f in sources():
    if d != "initrd-flasher" or f == "usb_gadget.c":
        continue
    n = sum(1 for _ in open(os.path.join(ROOT, d, f), encoding="utf-8"))
    if n > 400:
        big.append(f"{d}/{f} ({n} lines)")
case(not big, "initrd_flasher_files_under_400_lines", ", ".join(big))

leaks = []
for d, f in sources():
    if d == "initrd-flasher":
        continue
    text = open(os.path.join(ROOT, d, f), encoding="utf-8").read()
    for inc in INCLUDE.findall(text):
        base = os.path.basename(inc)
        if "initrd-flasher" in inc or (base in headers and headers[base] == ["initrd-flasher"]):
            leaks.append(f"{d}/{f} includes {inc}")
case(not leaks, "host_tools_and_common_need_no_initrd_flasher_header", ", ".join(leaks))
sys.exit(1 if failures else 0)
