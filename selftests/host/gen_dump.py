#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Every entry of the live generation's maps, as the kernel holds them, read
# with bpftool: the slot's inner maps (services, clusters, endpoints, maglev,
# L7 policies and address lists, inbound workloads), then the maps all
# generations share that an install writes (route and policy names, the id
# registry).
# One sorted line per entry, so two dumps compare with diff.
#
#   gen_dump.py [PIN_DIR]     (default $KMESH_PIN_DIR or /sys/fs/bpf/kmesh)
import json
import os
import subprocess
import sys

SLOT_MAPS = ["kmesh_services", "kmesh_clusters", "kmesh_endpoints", "kmesh_maglev",
             "kmesh_l7_policy", "kmesh_l7_cidrs", "kmesh_inbound_ws"]


def bpftool(*args):
    out = subprocess.run(["bpftool", "-j"] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def raw(hexbytes):
    return bytes(int(b, 16) for b in hexbytes)


def entries(*what):
    for e in bpftool("map", "dump", *what):
        # maps with BTF print "formatted" next to the raw bytes
        yield raw(e["key"]), raw(e["value"])


def main():
    pins = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get("KMESH_PIN_DIR") or "/sys/fs/bpf/kmesh"
    maps = pins + "/maps/"
    _, gen = next(entries("pinned", maps + "kmesh_generation"))
    slot = int.from_bytes(gen[8:12], "little")
    lines = []
    for name in SLOT_MAPS:
        v = bpftool("map", "lookup", "pinned", maps + name, "key",
                    *[str(b) for b in slot.to_bytes(4, "little")])
        inner = int.from_bytes(raw(v["value"]), "little")
        for k, val in entries("id", str(inner)):
            lines.append("%s %s %s" % (name, k.hex(), val.hex()))
    for k, val in entries("pinned", maps + "kmesh_l7_names"):
        lines.append("kmesh_l7_names %s %s" % (k.hex(), val.hex()))
    for k, val in entries("pinned", maps + "kmesh_l4_ids"):
        lines.append("kmesh_l4_ids %s %s" % (k.hex(), val.hex()))
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
