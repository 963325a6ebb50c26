#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The code's shape (issues 12 and 20, STYLE.md): the subsystem folders of the flasher and of
# hostload and the one way their arrows run; no include cycle between modules (x.c/x.h include
# y.h and y back); no file in initrd-flasher/ or host-loader/ over 400 lines but the USB gadget;
# no host tool or common/ file that includes a header of the board's initrd-flasher/.
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CODE_DIRS = ["common", "initrd-flasher", "host-loader", "mkflashpkg", "mkinitrd"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
FLASHER = "initrd-flasher"
HOST = "host-loader"
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
# hostload's folders, by the same rule.
HOST_LAYERS = {
    "cli": 3,     # the command line: serve, rcm, list
    "serve": 2,   # the range server and its links, the usb: link among them
    "boot": 2,    # the boot backends: QEMU, Tegra RCM and its blob
    "report": 1,  # what hostload shows: progress line, JSON, the board's log
    "usb": 1,     # libusb and the RCM transports (a board's, --dry-run's)
}
TREES = {FLASHER: LAYERS, HOST: HOST_LAYERS}
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
    board's code or -Ihost-loader for hostload's."""
    places = [os.path.dirname(path), "common"]
    for tree in TREES:
        if path.startswith(tree + "/"):
            places.append(tree)
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


def folder(tree, path):
    parts = path.split("/")
    return parts[1] if parts[0] == tree and len(parts) > 2 else None


for tree, layers in TREES.items():
    name = tree.replace("-", "_")
    flat = [p for p in files if p.startswith(tree + "/") and folder(tree, p) is None]
    unplaced = sorted({folder(tree, p) for p in files if folder(tree, p)} - set(layers))
    case(not flat and not unplaced, f"{name}_files_in_subsystem_folders",
         ", ".join(flat + [f"{tree}/{u}/ has no layer in structure.py" for u in unplaced]))

    upward = []
    for path, incs in sorted(files.items()):
        here = folder(tree, path)
        if here not in layers:
            continue
        for inc in incs:
            there = folder(tree, resolve(path, inc) or "")
            if there in layers and there != here and layers[there] >= layers[here]:
                upward.append(f"{path} includes {inc} ({here} layer {layers[here]}, "
                              f"{there} layer {layers[there]})")
    case(not upward, f"{'flasher' if tree == FLASHER else name}_folders_include_only_lower_layers",
         "; ".join(upward))

# The tests see both trees on the include path: a "folder/name.h" in both would be the first
# one found, silently.
both = sorted(p[len(HOST) + 1:] for p in files
              if p.startswith(HOST + "/") and p.endswith(".h")
              and f"{FLASHER}/{p[len(HOST) + 1:]}" in files)
case(not both, "no_header_path_in_both_initrd_flasher_and_host_loader", ", ".join(both))

big = []
for path in files:
    if not path.startswith((FLASHER + "/", HOST + "/")) or path in LINE_LIMIT_EXEMPT:
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
