#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The code's shape (issues 12 and 20, STYLE.md): the flasher's subsystem folders and the one
# way their arrows run; no include cycle between modules (x.c/x.h include y.h and y back); no
# file in initrd-flasher/ or host-loader/ over 400 lines but the USB gadget; no host tool or
# common/ file that includes a header of the board's initrd-flasher/.
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CODE_DIRS = ["common", "initrd-flasher", "host-loader", "mkflashpkg", "mkinitrd"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
FLASHER = "initrd-flasher"
# The flasher's folders, each on a layer: a folder includes headers of its own, of lower
# layers and of common/, never of its own layer's neighbours or above (docs/architecture.md
# draws it). A new folder must be given its layer here.
LAYERS = {
    "cli": 5,     # the command lines and the config file
    "run": 4,     # a flash or an update, step by step; plan, verify, report
    "write": 3,   # images to targets: the pipeline, writers, read-back, GPT
    "slot": 3,    # A/B slot backends, the ESP, EFI variables
    "source": 2,  # where the package's bytes come from
    "link": 1,    # the board's end of the link to hostload
    "net": 1,     # TCP, TLS, HTTP
    "target": 1,  # storage devices behind one ops struct
    "board": 0,   # PID 1, the board's hardware, the USB gadget
}
LINE_LIMIT = 400
LINE_LIMIT_EXEMPT = {f"{FLASHER}/board/usb_gadget.c"}
failures = 0


def case(ok, name, why=""):
    global failures
    print(("ok " if ok else "not ok ") + name)
    if not ok:
        failures += 1
        print("  " + why, file=sys.stderr)


def sources():
    """Every .c and .h of the code folders, as a path relative to ROOT."""
    for d in CODE_DIRS:
        for top, dirs, names in os.walk(os.path.join(ROOT, d)):
            dirs.sort()
            for f in sorted(names):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(top, f), ROOT)


files = {p: INCLUDE.findall(open(os.path.join(ROOT, p), encoding="utf-8").read())
         for p in sources()}


def resolve(path, inc):
    """The project file a quoted include in path names, or None (system or test header): the
    compiler's order, beside the file first, then -Icommon, then -Iinitrd-flasher for the
    board's code."""
    places = [os.path.dirname(path), "common"]
    if path.startswith(FLASHER + "/"):
        places.append(FLASHER)
    for where in places:
        cand = os.path.normpath(os.path.join(where, inc))
        if cand in files:
            return cand
    return None


def module_of(path):
    return path[:-2]


def has_source(header):
    return f"{header[:-2]}.c" in files


def reached(path, seen):
    """Modules the file at path depends on, through header-only headers (a private header
    such as link_internal.h, a format such as le.h: what it includes counts for every file
    that includes it)."""
    out = set()
    for inc in files[path]:
        target = resolve(path, inc)
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


def flasher_folder(path):
    parts = path.split("/")
    return parts[1] if parts[0] == FLASHER and len(parts) > 2 else None


flat = [p for p in files if p.startswith(FLASHER + "/") and flasher_folder(p) is None]
unplaced = sorted({flasher_folder(p) for p in files if flasher_folder(p)} - set(LAYERS))
case(not flat and not unplaced, "initrd_flasher_files_in_subsystem_folders",
     ", ".join(flat + [f"{FLASHER}/{u}/ has no layer in structure.py" for u in unplaced]))

upward = []
for path, incs in sorted(files.items()):
    here = flasher_folder(path)
    if here not in LAYERS:
        continue
    for inc in incs:
        there = flasher_folder(resolve(path, inc) or "")
        if there in LAYERS and there != here and LAYERS[there] >= LAYERS[here]:
            upward.append(f"{path} includes {inc} ({here} layer {LAYERS[here]}, "
                          f"{there} layer {LAYERS[there]})")
case(not upward, "flasher_folders_include_only_lower_layers", "; ".join(upward))

big = []
for path in files:
    if not path.startswith((FLASHER + "/", "host-loader/")) or path in LINE_LIMIT_EXEMPT:
        continue
    n = sum(1 for _ in open(os.path.join(ROOT, path), encoding="utf-8"))
    if n > LINE_LIMIT:
        big.append(f"{path} ({n} lines)")
case(not big, f"flasher_and_host_loader_files_under_{LINE_LIMIT}_lines", ", ".join(big))

leaks = []
for path, incs in sorted(files.items()):
    if path.startswith(FLASHER + "/"):
        continue
    for inc in incs:
        target = resolve(path, inc)
        if "initrd-flasher" in inc or (target and target.startswith(FLASHER + "/")):
            leaks.append(f"{path} includes {inc}")
case(not leaks, "host_tools_and_common_need_no_initrd_flasher_header", ", ".join(leaks))
sys.exit(1 if failures else 0)
