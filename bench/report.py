#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn the rows of a `make bench` run into bench/results/: summary.md,
results.csv, PNG plots (gnuplot), and print the headline figures as
"kmesh-figure: NAME VALUE" lines.

Every figure is a median over the run's repetitions, and every comparison
is between paths of one lane (one machine or one VM, interleaved), never
across lanes.

    report.py --out bench/results --run build/bench/run-X rows-*.csv
"""
import argparse
import csv
import os
import re
import platform
import shutil
import statistics
import subprocess
import sys
import time

FIELDS = ("lane,kind,path,n,conc,rate,rep,requests,seconds,rps,p50_us,p90_us,"
          "p99_us,p999_us,errors,mbps,client_cpu_us,client_sys_us,server_cpu_us,"
          "server_sys_us,proxy_cpu_us,proxy_sys_us,value,note").split(",")

LABEL = {
    "direct": "direct (no mesh)",
    "l4": "kmesh L4 (VIP, connect-time LB)",
    "l4redir": "kmesh L4 + sk_msg redirect",
    "l7": "kmesh L7, server not meshed",
    "l7local": "kmesh L7, meshed server on this node",
    "haproxy": "HAProxy (sidecar stand-in)",
    "nginx": "nginx (second proxy)",
    "loopback": "plain loopback",
    "veth": "pod to pod (two netns, veth + bridge)",
    "redirect": "kmesh sk_msg redirect",
}
SHORT = {"direct": "direct", "l4": "kmesh L4", "l4redir": "kmesh L4+redirect",
         "l7": "kmesh L7 remote", "l7local": "kmesh L7 local", "haproxy": "HAProxy",
         "nginx": "nginx"}
STREAM_SHORT = {"loopback": "loopback", "veth": "pod to pod (veth)", "redirect": "kmesh redirect"}
STREAM_ORDER = ["loopback", "veth", "redirect"]
PATH_ORDER = ["direct", "l4", "l4redir", "l7", "l7local", "haproxy", "nginx"]
LANE_TITLE = {
    "host": "host lane (native, this machine's kernel, no module)",
    "stock": "stock lane (QEMU/TCG, Debian 6.1 + module, L7 fallback)",
    "kfunc": "kfunc lane (QEMU/TCG, 6.1 + kfunc hook + module, L7 kfunc)",
}


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


class Lane:
    def __init__(self, name, rows):
        self.name = name
        self.rows = rows
        self.skips = {}
        for r in rows:
            if r["note"].startswith("skipped:"):
                self.skips.setdefault((r["kind"], r["path"], r["n"]), r["note"][9:])

    def sel(self, kind, path=None, conc=None, n=None):
        out = []
        for r in self.rows:
            if r["kind"] != kind or r["note"].startswith("skipped"):
                continue
            if path is not None and r["path"] != path:
                continue
            if conc is not None and r["conc"] != str(conc):
                continue
            if n is not None and r["n"] != str(n):
                continue
            out.append(r)
        return out

    def m(self, kind, path, field, conc=None, n=None):
        return med([num(r[field]) for r in self.sel(kind, path, conc, n)])

    def reps(self, kind, path, conc=None):
        return len([r for r in self.sel(kind, path, conc) if r["requests"]])

    def paired(self, kind, path, field, conc=None, base_path="direct"):
        """Per-repetition ratios path/base_path (each repetition ran both back
        to back): (min, max), the spread behind a median ratio."""
        rs = self.paired_ratios(kind, path, field, conc, base_path)
        return (min(rs), max(rs)) if rs else None

    def paired_ratios(self, kind, path, field, conc=None, base_path="direct"):
        base = {r["rep"]: num(r[field]) for r in self.sel(kind, base_path, conc)}
        return [num(r[field]) / base[r["rep"]] for r in self.sel(kind, path, conc)
                if base.get(r["rep"]) and num(r[field]) is not None]

    def has_traffic(self):
        return any(r["kind"] in ("tput", "lat", "stream", "rr") and r["requests"]
                   for r in self.rows)

    def skip_reason(self, path):
        for (kind, p, _n), why in self.skips.items():
            if p == path and kind in ("tput", "lat", "stream", "rr"):
                return why
        return None

    def cpu_per_req(self, path, conc=16, kind="tput"):
        """Median CPU microseconds per request: (client, server, proxy, sys)."""
        per = {"client": [], "server": [], "proxy": [], "sys": [], "total": []}
        for r in self.sel(kind, path, conc):
            req = num(r["requests"])
            if not req:
                continue
            c, s, p = (num(r["client_cpu_us"]) or 0, num(r["server_cpu_us"]) or 0,
                       num(r["proxy_cpu_us"]) or 0)
            sy = sum(num(r[k]) or 0 for k in ("client_sys_us", "server_sys_us",
                                               "proxy_sys_us"))
            per["client"].append(c / req)
            per["server"].append(s / req)
            per["proxy"].append(p / req)
            per["sys"].append(sy / req)
            per["total"].append((c + s + p) / req)
        return {k: med(v) for k, v in per.items()}


def load(files):
    lanes = {}
    for f in files:
        with open(f, newline="") as fh:
            for rec in csv.reader(fh):
                if not rec or rec[0] == "lane":
                    continue
                if len(rec) < len(FIELDS):
                    rec += [""] * (len(FIELDS) - len(rec))
                if len(rec) > len(FIELDS):  # a note with commas
                    rec = rec[:len(FIELDS) - 1] + [",".join(rec[len(FIELDS) - 1:])]
                r = dict(zip(FIELDS, rec))
                lanes.setdefault(r["lane"], []).append(r)
    order = [l for l in ("host", "stock", "kfunc") if l in lanes]
    order += sorted(set(lanes) - set(order))
    return [Lane(name, lanes[name]) for name in order]


# ---------------------------------------------------------------- figures

class Figures:
    def __init__(self):
        self.items = []
        self.spread = {}	# name -> (min, max, n) of the paired per-repetition ratios

    def add(self, name, value, unit="", skipped=None, digits=2):
        self.items.append((name, value, unit, skipped, digits))

    def lines(self):
        out = []
        for name, value, _unit, skipped, digits in self.items:
            if value is None:
                out.append(f"kmesh-figure: {name} n/a" +
                           (f" (skipped: {skipped})" if skipped else ""))
            else:
                v = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
                out.append(f"kmesh-figure: {name} {v}")
        return out

    def add_ratio(self, name, lane, kind, path, base_path, field, conc=None, skipped=None):
        """A ratio of medians path/base_path, with the spread of the
        per-repetition ratios (both ran back to back in every repetition)."""
        v = ratio(lane.m(kind, path, field, conc=conc), lane.m(kind, base_path, field, conc=conc))
        rs = lane.paired_ratios(kind, path, field, conc, base_path)
        if v is not None and rs:
            self.spread[name] = (min(rs), max(rs), len(rs))
        self.add(name, v, skipped=skipped if v is None else None)

    def spread_text(self, name):
        sp = self.spread.get(name)
        if not sp:
            return ""
        return f"{fmt(sp[0])}..{fmt(sp[1])}, n={sp[2]}"

    def spread_lines(self):
        """The spread next to each repeated ratio (not kmesh-figure lines:
        those are NAME VALUE)."""
        return [f"kmesh-spread: {name} median {v:.2f} runs {self.spread_text(name)}"
                for name, v, *_ in self.items if name in self.spread and v is not None]

    def get(self, name):
        for n, v, *_ in self.items:
            if n == name:
                return v
        return None


def lane_figures(lane, fig, prefix):
    """Ratios inside one lane."""
    if not lane.has_traffic():
        why = next(iter(lane.skips.values()), "no measurements")
        fig.add(f"{prefix}lane", None, skipped=why)
        return
    d50 = lane.m("lat", "direct", "p50_us")
    d99 = lane.m("lat", "direct", "p99_us")
    h50 = lane.m("lat", "haproxy", "p50_us")
    for p in ("l4", "l4redir", "l7", "l7local", "haproxy", "nginx"):
        why = lane.skip_reason(p)
        if why and not lane.sel("lat", p):
            if p == "l7":
                fig.add(f"{prefix}l7_p50_ratio_vs_direct", None, skipped=why)
            continue
        if not lane.sel("lat", p):
            continue
        fig.add(f"{prefix}{p}_p50_ratio_vs_direct", ratio(lane.m("lat", p, "p50_us"), d50))
        fig.add(f"{prefix}{p}_p99_ratio_vs_direct", ratio(lane.m("lat", p, "p99_us"), d99))
        if p not in ("haproxy", "nginx") and h50 is not None and d50 is not None:
            added = lane.m("lat", p, "p50_us") - d50
            fig.add(f"{prefix}{p}_added_p50_vs_haproxy_added", ratio(added, h50 - d50))
    for c in (1, 16, 256):
        base = lane.m("tput", "direct", "rps", conc=c)
        for p in ("l4", "l4redir", "l7", "l7local", "haproxy", "nginx"):
            v = lane.m("tput", p, "rps", conc=c)
            if v is not None:
                fig.add(f"{prefix}{p}_rps_ratio_vs_direct_c{c}", ratio(v, base))
    # issue 13: L7 to a meshed server on this node (redirect possible) and
    # to an unmeshed one, closed loop, against direct in the same repetition
    for where, p in (("local", "l7local"), ("remote", "l7")):
        for c in (1, 16):
            why = lane.skip_reason(p) or ("no run at this concurrency"
                                          if not lane.sel("tput", "direct", c) else None)
            fig.add_ratio(f"{prefix}l7_{where}_c{c}_vs_direct", lane, "tput", p, "direct",
                          "rps", conc=c, skipped=why or "not measured in this run")
    base = lane.m("conn", "direct", "rps", conc=16)
    for p in ("l4", "l4redir", "haproxy"):
        v = lane.m("conn", p, "rps", conc=16)
        if v is not None:
            fig.add(f"{prefix}{p}_newconn_rps_ratio_vs_direct", ratio(v, base))
    cpu = {p: lane.cpu_per_req(p) for p in PATH_ORDER}
    for p in PATH_ORDER:
        if cpu[p]["total"] is not None:
            fig.add(f"{prefix}cpu_s_per_10k_req_{p}", cpu[p]["total"] * 1e4 / 1e6, digits=3)
    hp = cpu["haproxy"]["total"]
    dt = cpu["direct"]["total"]
    for p in ("l4", "l4redir", "l7", "l7local"):
        t = cpu[p]["total"]
        if t is None or hp is None:
            continue
        # requests per CPU-second, everything counted (client, server, proxy)
        fig.add(f"{prefix}{p}_req_per_cpu_s_vs_haproxy", ratio(hp, t))
        # the data plane alone: what each adds over direct
        if dt is not None and hp - dt > 0:
            fig.add(f"{prefix}{p}_dataplane_req_per_cpu_s_vs_haproxy",
                    ratio(hp - dt, max(t - dt, 1e-9)) if t - dt > 0 else None,
                    skipped="this path uses less CPU than direct: nothing added to divide by"
                    if t - dt <= 0 else None)
    stream_figures(lane, fig, prefix)


def stream_figures(lane, fig, prefix):
    """Same-node redirect vs plain loopback, 1 KB: throughput and round
    trips above 1 are better, latency ratios below 1."""
    why = lane.skip_reason("redirect")
    fig.add_ratio(f"{prefix}redirect_vs_loopback_1k", lane, "stream", "redirect", "loopback",
                  "mbps", skipped=why)
    fig.add_ratio(f"{prefix}redirect_rr_vs_loopback_1k", lane, "rr", "redirect", "loopback",
                  "rps", skipped=why)
    # pod to pod on one node (two netns on a bridge): the baseline meshed
    # pods would otherwise have (host lane)
    vwhy = why or lane.skip_reason("veth") or "no pod-to-pod baseline in this lane"
    fig.add_ratio(f"{prefix}redirect_vs_veth_1k", lane, "stream", "redirect", "veth",
                  "mbps", skipped=vwhy)
    fig.add_ratio(f"{prefix}redirect_rr_vs_veth_1k", lane, "rr", "redirect", "veth",
                  "rps", skipped=vwhy)
    for q in ("p50", "p99"):
        fig.add(f"{prefix}redirect_rr_{q}_vs_loopback_1k",
                ratio(lane.m("rr", "redirect", f"{q}_us"), lane.m("rr", "loopback", f"{q}_us")),
                skipped=why)
    prog = skmsg_prog_ns(lane)
    if prog is not None:
        fig.add(f"{prefix}redirect_skmsg_prog_ns_per_msg", prog, digits=0)


def skmsg_prog_ns(lane):
    """Nanoseconds kmesh's sk_msg program takes per 1 KB write (bench-l4)."""
    return med([num(r["value"]) for r in lane.sel("prog") if r["path"].startswith("kmesh_sk_msg")])


def stream_cpu_us(lane, path):
    """Client + server CPU microseconds per 1 KB message of the stream."""
    cpu = lane.cpu_per_req(path, conc=1, kind="stream")
    if cpu["total"] is None:
        return None
    return (cpu["client"] or 0) + (cpu["server"] or 0)


def paired_stream(lane, kind, field):
    """Per-repetition ratios redirect/loopback (each repetition ran both
    back to back): (min, max), the spread behind a median ratio."""
    return lane.paired(kind, "redirect", field, base_path="loopback")


# The headline figures, in this order, under these names (the
# figures above keep their lane-prefixed names). L7's come from the kfunc
# lane (routes chosen in the kernel); the stock lane's fallback L7 and the
# host's keep their own vm_stock_l7_* / l7_* figures.
HEADLINE = (
    ("l7_p50_vs_direct", ("vm_kfunc_l7_p50_ratio_vs_direct",)),
    ("l7_p99_vs_direct", ("vm_kfunc_l7_p99_ratio_vs_direct",)),
    ("l7_added_latency_vs_haproxy", ("vm_kfunc_l7_added_p50_vs_haproxy_added",)),
    ("l7_rps_per_cpu_vs_haproxy", ("vm_kfunc_l7_req_per_cpu_s_vs_haproxy",)),
    # the stream figure's older name, until the stream part is renamed
    ("redirect_vs_loopback_1k", ("redirect_vs_loopback_1k",)),
    ("kmem_mb_1000svc_10000routes", ("kmem_mb_1000svc_10000routes",)),
    ("apply_ms_1000svc_10000routes", ("apply_ms_1000svc_10000routes",)),
    ("reapply_unchanged_ms_1000svc_10000routes", ("reapply_unchanged_ms_1000svc_10000routes",)),
    # issue 13, host lane (native; the VM lanes' under vm_<lane>_...)
    ("l7_local_c1_vs_direct", ("l7_local_c1_vs_direct",)),
    ("l7_local_c16_vs_direct", ("l7_local_c16_vs_direct",)),
    ("l7_remote_c1_vs_direct", ("l7_remote_c1_vs_direct",)),
    ("l7_remote_c16_vs_direct", ("l7_remote_c16_vs_direct",)),
    ("redirect_vs_veth_1k", ("redirect_vs_veth_1k",)),
    ("redirect_rr_vs_veth_1k", ("redirect_rr_vs_veth_1k",)),
    ("inbound_authz_overhead_ratio", ("inbound_authz_overhead_ratio",)),
    ("resilience_overhead_ratio", ("resilience_overhead_ratio",)),
)


def inbound_figures(lane, fig, prefix=""):
    """The destination's check (issue 18): a protected workload's keep-alive
    throughput over an unprotected one's (ratio of medians, both measured
    in every repetition), and a connection's first request (new connection
    per request) with and without it."""
    why = next((w for (k, p, _n), w in lane.skips.items() if k == "inbound"), None)
    on = lane.m("inbound", "inbound_on", "rps", conc=16)
    off = lane.m("inbound", "inbound_off", "rps", conc=16)
    fig.add(f"{prefix}inbound_authz_overhead_ratio", ratio(on, off),
            skipped=why or "no inbound measurement in this run")
    # the penalty hits the connections whose request beats accept(): a
    # share that varies, so the p50 may miss it; p99 and the rate show it
    for p in ("on", "off"):
        v = lane.m("inbound_conn", f"inbound_{p}", "p99_us", conc=4)
        fig.add(f"{prefix}inbound_first_request_p99_ms_{p}", v / 1000 if v is not None else None,
                skipped=why or "no inbound measurement in this run")
    fig.add(f"{prefix}inbound_newconn_rps_ratio",
            ratio(lane.m("inbound_conn", "inbound_on", "rps", conc=4),
                  lane.m("inbound_conn", "inbound_off", "rps", conc=4)),
            skipped=why or "no inbound measurement in this run", digits=3)


def resilience_figures(lane, fig):
    """Issue 16: L7 keep-alive throughput through a service with a rate
    limit (never reached) and outlier detection over the same service
    without them (ratio of medians, both in every repetition), and the
    same with a new connection per request."""
    why = next((w for (k, p, _n), w in lane.skips.items() if k == "resilience"), None)
    fig.add("resilience_overhead_ratio",
            ratio(lane.m("resilience", "res_on", "rps", conc=16),
                  lane.m("resilience", "res_off", "rps", conc=16)),
            skipped=why or "no resilience measurement in this run")
    fig.add("resilience_newconn_rps_ratio",
            ratio(lane.m("resilience_conn", "res_on", "rps", conc=4),
                  lane.m("resilience_conn", "res_off", "rps", conc=4)),
            skipped=why or "no resilience measurement in this run", digits=3)


def plot_inbound(lane, out, tmp):
    rows = [(k, p) for k in ("inbound", "inbound_conn") for p in ("inbound_off", "inbound_on")]
    if not all(lane.sel(k, p) for k, p in rows):
        return None
    dat = os.path.join(tmp, f"inbound-{lane.name}.dat")
    with open(dat, "w") as f:
        for p, label in (("inbound_off", "unprotected"), ("inbound_on", "protected (checked on receive)")):
            f.write('"%s" %.1f %.1f\n' % (label, lane.m("inbound", p, "rps", conc=16) or 0,
                                          lane.m("inbound_conn", p, "rps", conc=4) or 0))
    png = f"inbound-{lane.name}.png"
    reps = lane.reps("inbound", "inbound_on", conc=16)
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "Inbound authorization: a protected workload vs an unprotected one - {lane.name} lane\\n(unmeshed clients dialing the endpoint; median of {reps} interleaved runs)"
set ylabel 'requests per second'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top right
set grid ytics
set yrange [0:*]
plot '{dat}' using 2:xtic(1) title 'keep-alive, 16 connections' lc rgb '#4477aa', '' using 3 title 'new connection per request, 4 at once' lc rgb '#bb5566'
""", tmp)
    return png


def headline_figures(fig, lanes):
    """Put the headline figures first: a value, or n/a with the reason."""
    by = {l.name: l for l in lanes}
    head = []
    for name, sources in HEADLINE:
        item = next((it for src in sources for it in fig.items if it[0] == src), None)
        if item and item[0] == name:
            fig.items.remove(item)	# computed under its own name: move it up
        if item and (item[1] is not None or item[3]):
            head.append((name,) + item[1:])
            continue
        why = None
        if name.startswith("l7_") and not name.startswith(("l7_local_", "l7_remote_")):
            k = by.get("kfunc")
            if k is None:
                why = "no kfunc lane in this run"
            elif not k.has_traffic():
                why = next(iter(k.skips.values()), "no measurements")
            else:
                why = k.skip_reason("l7") or "no such measurement of L7 in this run"
            why = f"kfunc lane: {why}"
        head.append((name, None, "", why or "not measured in this run", 2))
    fig.items[:0] = head


def apply_cpu_ms(host, path, n):
    """Median CPU ms (user + system) of kmeshctl apply: on a busy machine
    the wall time also counts waiting for a CPU."""
    vals = []
    for r in host.sel("apply", path, n=n):
        m = re.search(r"cpu_ms ([0-9.]+)", r["note"])
        if m:
            vals.append(float(m.group(1)))
    return med(vals)


def mem_value(lanes, path, n, prefer=("host", "kfunc", "stock")):
    by = {l.name: l for l in lanes}
    for name in prefer:
        l = by.get(name)
        if not l:
            continue
        v = l.m("mem", path, "value", n=n)
        if v is not None:
            return v, name
    return None, None


def mem_skip(lanes, path, n):
    for l in lanes:
        why = l.skips.get(("mem", path, str(n)))
        if why:
            return why
    return None


# ---------------------------------------------------------------- plots

def gnuplot(script, workdir):
    if not shutil.which("gnuplot"):
        return False
    p = subprocess.run(["gnuplot"], input=script.encode(), cwd=workdir,
                       capture_output=True)
    if p.returncode or p.stderr:
        sys.stderr.write("report: gnuplot: " + p.stderr[-2000:].decode(errors="replace"))
        return not p.returncode
    return True


TERM = "set terminal pngcairo size 1000,600 font 'DejaVu Sans,11' noenhanced\n"


def plot_latency(lane, out, tmp, rate):
    paths = [p for p in PATH_ORDER if lane.sel("lat", p)]
    if not paths:
        return None
    dat = os.path.join(tmp, f"lat-{lane.name}.dat")
    with open(dat, "w") as f:
        for p in paths:
            f.write('"%s" %s %s %s\n' % (SHORT.get(p, p), lane.m("lat", p, "p50_us"),
                                        lane.m("lat", p, "p90_us"), lane.m("lat", p, "p99_us")))
    png = f"latency-{lane.name}.png"
    reps = max(lane.reps("lat", p) for p in paths)
    tcg = "  [TCG: compare ratios only]" if lane.name != "host" else ""
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "Request latency at {int(rate or 0)} req/s, open loop, 16 connections - {lane.name} lane\\n(median of {reps} interleaved runs; latency counted from each request's scheduled start){tcg}"
set ylabel 'latency (microseconds, log scale)'
set xlabel 'path'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [*:*]
plot '{dat}' using 2:xtic(1) title 'p50' lc rgb '#4477aa', '' using 3 title 'p90' lc rgb '#ddaa33', '' using 4 title 'p99' lc rgb '#bb5566'
""", tmp)
    return png


def plot_throughput(lane, out, tmp):
    paths = [p for p in PATH_ORDER if lane.sel("tput", p)]
    if not paths:
        return None
    concs = sorted({int(r["conc"]) for r in lane.sel("tput")})
    dat = os.path.join(tmp, f"tput-{lane.name}.dat")
    with open(dat, "w") as f:
        for p in paths:
            f.write(f'# {p}\n')
            for c in concs:
                f.write(f"{c} {lane.m('tput', p, 'rps', conc=c)}\n")
            f.write("\n\n")
    png = f"throughput-{lane.name}.png"
    reps = max(lane.reps("tput", p, conc=16) for p in paths)
    tcg = "  [TCG: compare ratios only]" if lane.name != "host" else ""
    plots = ", ".join(f"'{dat}' index {i} using 1:2 with linespoints lw 2 pt 7 title '{SHORT.get(p, p)}'"
                      for i, p in enumerate(paths))
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "Throughput vs concurrency, closed loop, HTTP/1.1 keep-alive - {lane.name} lane\\n(median of {reps} interleaved runs){tcg}"
set xlabel 'concurrent connections (log scale)'
set ylabel 'requests per second'
set logscale x
set xtics ({", ".join(str(c) for c in concs)})
set xrange [{concs[0] * 0.7}:{concs[-1] * 1.4}]
set yrange [0:*]
set format y '%.0f'
set key outside right
set grid
plot {plots}
""", tmp)
    return png


def plot_cpu(lane, out, tmp):
    paths = [p for p in PATH_ORDER if lane.sel("tput", p, conc=16)]
    if not paths:
        return None
    dat = os.path.join(tmp, f"cpu-{lane.name}.dat")
    with open(dat, "w") as f:
        for p in paths:
            c = lane.cpu_per_req(p)
            f.write('"%s" %.4f %.4f %.4f\n' % (SHORT.get(p, p), (c["client"] or 0) * 1e-2,
                                              (c["server"] or 0) * 1e-2, (c["proxy"] or 0) * 1e-2))
    png = f"cpu-{lane.name}.png"
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "CPU per 10,000 requests at 16 connections, by cgroup - {lane.name} lane\\n(client = load generator, server = backend, proxy = HAProxy/nginx; kernel time of each included)"
set ylabel 'CPU seconds per 10,000 requests'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key top left
set grid ytics
set yrange [0:*]
plot '{dat}' using 2:xtic(1) title 'client' lc rgb '#4477aa', '' using 3 title 'server' lc rgb '#228833', '' using 4 title 'proxy' lc rgb '#bb5566'
""", tmp)
    return png


def plot_memory(lanes, out, tmp):
    series = [("kmesh_l4", "kmesh L4 BPF maps+progs (N services)"),
              ("kmesh_l7_tables", "kmesh L7 route tables in the module (N routes)"),
              ("haproxy", "HAProxy RSS (N routes)"),
              ("nginx", "nginx RSS (N routes)")]
    ns = sorted({int(r["n"]) for l in lanes for r in l.sel("mem") if r["n"]})
    blocks = []
    dat = os.path.join(tmp, "mem.dat")
    with open(dat, "w") as f:
        for path, title in series:
            pts = []
            for n in ns:
                v, src = mem_value(lanes, path, n)
                if v is not None:
                    pts.append((n, v / 2**20, src))
            if not pts:
                continue
            src = pts[0][2]
            blocks.append(title + ("" if src == "host" else f" [{src} VM]"))
            for n, v, _ in pts:
                f.write(f"{n} {v}\n")
            f.write("\n\n")
    if not blocks:
        return None
    png = "memory.png"
    plots = ", ".join(f"'{dat}' index {i} using 1:2 with linespoints lw 2 pt 7 title '{t}'"
                      for i, t in enumerate(blocks))
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "Memory vs config size (kmesh: kernel memory; proxies: resident memory after warm-up)\\n(missing points: see summary.md - kmesh L4 holds at most 1023 services)"
set xlabel 'routes / services (log scale)'
set ylabel 'MiB (log scale)'
set logscale xy
set xrange [{ns[0] * 0.6}:{ns[-1] * 1.6}]
set key bottom right
set grid
plot {plots}
""", tmp)
    return png


def plot_stream(lane, out, tmp, png):
    """Three panels, one bar per path: stream throughput, round trips,
    round-trip latency."""
    paths = [p for p in STREAM_ORDER if lane.sel("stream", p) or lane.sel("rr", p)]
    if not paths:
        return None
    dat = os.path.join(tmp, f"stream-{lane.name}.dat")
    with open(dat, "w") as f:
        for p in paths:
            vals = [lane.m("stream", p, "mbps"), lane.m("rr", p, "rps"),
                    lane.m("rr", p, "p50_us"), lane.m("rr", p, "p99_us")]
            f.write('"%s" %s\n' % (STREAM_SHORT[p], " ".join("NaN" if v is None else str(v) for v in vals)))
    reps = max(max(lane.reps("stream", p), lane.reps("rr", p)) for p in paths)
    panel = """set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.8
set grid ytics
set yrange [0:*]
set xtics scale 0
"""
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set multiplot layout 1,3 title "Same-node 1 KB messages: kmesh sk_msg redirect vs plain loopback and pod to pod (veth) - {lane.name} lane\\n(one connection; median of {reps} interleaved runs)"
{panel}
set title 'stream throughput'
set ylabel 'Mbit/s'
plot '{dat}' using 2:xtic(1) notitle lc rgb '#4477aa'
set title 'request/response'
set ylabel 'round trips per second'
plot '{dat}' using 3:xtic(1) notitle lc rgb '#228833'
set title 'round-trip latency'
set ylabel 'microseconds'
set key top left
plot '{dat}' using 4:xtic(1) title 'p50' lc rgb '#ddaa33', '' using 5 title 'p99' lc rgb '#bb5566'
unset multiplot
""", tmp)
    return png


def write_rows(lanes, path):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        for l in lanes:
            for r in l.rows:
                w.writerow([r[k] for k in FIELDS])


def header(tree, what):
    mode = ("smoke run for make check: BENCH_SMOKE=1, one repetition of tiny runs"
            if os.environ.get("BENCH_SMOKE") == "1" else
            "quick smoke run: BENCH_QUICK=1" if os.environ.get("BENCH_QUICK") == "1" else "full run")
    try:
        load_avg = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load_avg = ["?"]
    return (f"Run {time.strftime('%Y-%m-%d %H:%M')} ({mode})"
            + (f" of {tree}" if tree else "") + ", "
            f"`{what}`; {os.cpu_count()} CPUs, kernel {platform.release()}, load average at the end "
            f"{' '.join(load_avg)} (other work shared the machine: only ratios between paths measured "
            "in the same lane, interleaved A B C A B C ..., mean anything; every number is a median over "
            "the repetitions).")


def write_summary(out, md, fig, what):
    """summary.md, then the figures on stdout."""
    md.append("")
    with open(os.path.join(out, "summary.md"), "w") as fh:
        fh.write("\n".join(md))
    for line in fig.lines():
        print(line)
    for line in fig.spread_lines():
        print(line)
    print(f"bench: results in {out}/summary.md{what}", file=sys.stderr)


def method_item(start):
    """One bullet of METHOD.md, the one beginning with @start."""
    lines = open(os.path.join(os.path.dirname(__file__), "METHOD.md")).read().splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith(start))
    j = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("- ")), len(lines))
    return "\n".join(lines[i:j]).strip()


def l4_report(lanes, a, tmp):
    """`make bench-l4`: the same-node stream alone (host lane)."""
    fig = Figures()
    lane = next((l for l in lanes if l.name == "host"), None)
    if lane is None:
        sys.exit("report: no host rows")
    stream_figures(lane, fig, "")
    png = plot_stream(lane, a.out, tmp, "redirect-vs-loopback.png")
    write_rows([lane], os.path.join(a.out, "results.csv"))
    md = ["# kmesh same-node redirect vs loopback", "", header(a.tree, "make bench-l4"), ""]
    md.append("| target | figure | value | verdict |")
    md.append("|---|---|---|---|")
    for t, name, val, verdict in stream_target_rows(lane, fig):
        md.append(f"| {t.strip()} | `{name}` | {val} | {verdict} |")
    md.append("")
    stream_table(lane, md)
    for r in lane.rows:
        if r["kind"] == "info":
            md.append(f"- {r['path']}: {r['note']}")
    for (kind, path, _n), why in sorted(lane.skips.items()):
        md.append(f"- skipped {kind} {path}: {why}")
    md.append("")
    if png:
        md.append(f"![{png}]({png})\n")
    md.append("## Headline figures\n")
    md.append("```")
    md.extend(fig.lines())
    md.append("```\n")
    md.append("## How it is measured\n")
    md.append(method_item("- Stream:"))
    write_summary(a.out, md, fig, "")


# ---------------------------------------------------------------- summary

def target_rows(lanes, fig):
    """(target, figure, value text, verdict)"""
    rows = []

    def verdict(v, ok):
        if v is None:
            return "not measured"
        return "met" if ok(v) else "missed"

    host = next((l for l in lanes if l.name == "host"), None)

    def shown(name, unit=""):
        v = fig.get(name)
        if v is not None:
            return fmt(v) + unit
        why = next((it[3] for it in fig.items if it[0] == name), None)
        return f"n/a ({why})" if why else "n/a"

    # L7 in fallback mode (stock lane, and the host: no module), for reference
    fallback = [(f"vm_stock_l7_", "fallback, stock lane"), ("l7_", "fallback, host")]
    for metric, limit in (("p50", 1.10), ("p99", 1.20)):
        name = f"l7_{metric}_vs_direct"
        v = fig.get(name)
        rows.append((f"kmesh L7 (kfunc) vs direct {metric} <= {limit:.2f}x", name,
                     shown(name, "x"), verdict(v, lambda x, lim=limit: x <= lim)))
        for pre, label in fallback:
            v7 = fig.get(f"{pre}{metric}_ratio_vs_direct")
            if v7 is not None:
                rows.append((f"  (for reference) kmesh L7 ({label}) vs direct {metric}",
                             f"{pre}{metric}_ratio_vs_direct", fmt(v7) + "x",
                             verdict(v7, lambda x, lim=limit: x <= lim)))
        for p in ("l4", "l4redir"):
            v4 = fig.get(f"{p}_{metric}_ratio_vs_direct")
            rng = host.paired("lat", p, f"{metric}_us") if host else None
            rows.append((f"  (for reference) {SHORT[p]} vs direct {metric}, host",
                         f"{p}_{metric}_ratio_vs_direct",
                         fmt(v4) + "x" + (f" (runs: {fmt(rng[0])}..{fmt(rng[1])})" if rng else ""),
                         verdict(v4, lambda x, lim=limit: x <= lim)))
    v = fig.get("l7_added_latency_vs_haproxy")
    rows.append(("kmesh L7 (kfunc) added latency <= 0.3x HAProxy's (p50)", "l7_added_latency_vs_haproxy",
                 shown("l7_added_latency_vs_haproxy"), verdict(v, lambda x: x <= 0.3)))
    for pre, label in fallback:
        v7 = fig.get(f"{pre}added_p50_vs_haproxy_added")
        if v7 is not None:
            rows.append((f"  (for reference) kmesh L7 ({label}) added p50 vs HAProxy's",
                         f"{pre}added_p50_vs_haproxy_added", fmt(v7), verdict(v7, lambda x: x <= 0.3)))
    for p in ("l4", "l4redir"):
        v = fig.get(f"{p}_added_p50_vs_haproxy_added")
        rows.append((f"  (for reference) {SHORT[p]} added p50 vs HAProxy's, host",
                     f"{p}_added_p50_vs_haproxy_added", fmt(v), verdict(v, lambda x: x <= 0.3)))
    v = fig.get("l7_rps_per_cpu_vs_haproxy")
    rows.append((">= 3x HAProxy's requests per CPU-second (L7, kfunc)", "l7_rps_per_cpu_vs_haproxy",
                 shown("l7_rps_per_cpu_vs_haproxy", "x"), verdict(v, lambda x: x >= 3)))
    for pre, label in fallback:
        v7 = fig.get(f"{pre}req_per_cpu_s_vs_haproxy")
        if v7 is not None:
            rows.append((f"  (for reference) kmesh L7 ({label}) requests per CPU-second vs HAProxy",
                         f"{pre}req_per_cpu_s_vs_haproxy", fmt(v7) + "x", verdict(v7, lambda x: x >= 3)))
    for p in ("l4", "l4redir"):
        for kind, label in (("req_per_cpu_s_vs_haproxy", "all CPU"),
                            ("dataplane_req_per_cpu_s_vs_haproxy", "data plane only")):
            v = fig.get(f"{p}_{kind}")
            less = (v is None and host and host.cpu_per_req(p)["total"] is not None and
                    host.cpu_per_req("direct")["total"] is not None and
                    host.cpu_per_req(p)["total"] <= host.cpu_per_req("direct")["total"])
            rows.append((f"  {SHORT[p]} requests per CPU-second vs HAProxy ({label}), host",
                         f"{p}_{kind}",
                         "uses less CPU than direct" if less else fmt(v) + ("x" if v is not None else ""),
                         "met" if less else verdict(v, lambda x: x >= 3)))
    rows.extend(l7_target_rows(lanes, fig))
    rows.extend(stream_target_rows(host, fig))
    v = fig.get("inbound_authz_overhead_ratio")
    rows.append((">= 0.95x an unprotected workload's throughput with inbound authorization (host, keep-alive)",
                 "inbound_authz_overhead_ratio", shown("inbound_authz_overhead_ratio", "x"),
                 verdict(v, lambda x: x >= 0.95)))
    v = fig.get("resilience_overhead_ratio")
    rows.append((">= 0.97x L7 throughput with rate limiting and outlier detection on (host, keep-alive)",
                 "resilience_overhead_ratio", shown("resilience_overhead_ratio", "x"),
                 verdict(v, lambda x: x >= 0.97)))
    rows.append(("  (for reference) new connection per request: with them over without, requests/s",
                 "resilience_newconn_rps_ratio", shown("resilience_newconn_rps_ratio", "x"), "-"))
    for p in ("on", "off"):
        name = f"inbound_first_request_p99_ms_{p}"
        rows.append((f"  (for reference) a new connection's first request, p99 ms, {'protected' if p == 'on' else 'unprotected'}",
                     name, shown(name, " ms"), "-"))
    rows.append(("  (for reference) new connection per request: protected over unprotected requests/s",
                 "inbound_newconn_rps_ratio", shown("inbound_newconn_rps_ratio", "x"), "-"))
    v = fig.get("kmem_mb_1000svc_10000routes")
    _, l4src = mem_value(lanes, "kmesh_l4", 1000)
    note = ("BPF maps+progs at 1,000 services (host, real usage) + route tables at 10,000 routes"
            " + kmesh.ko (VM)" if l4src == "host" else
            "BPF maps from Linux 6.1's max_entries estimate (no host lane) + route tables + kmesh.ko")
    rows.append(("<= 25 MB kernel memory at 1,000 services / 10,000 routes",
                 "kmem_mb_1000svc_10000routes",
                 (fmt(v) + f" MiB ({note})") if v is not None else "n/a (parts missing, see memory)",
                 verdict(v, lambda x: x <= 25 * 1e6 / 2**20)))
    v = fig.get("apply_ms_1000svc_10000routes")
    rows.append(("kmeshctl apply <= 100 ms (1,000 services / 10,000 routes)",
                 "apply_ms_1000svc_10000routes",
                 shown("apply_ms_1000svc_10000routes", " ms"),
                 verdict(v, lambda x: x <= 100)))
    v = fig.get("reapply_unchanged_ms_1000svc_10000routes")
    rows.append(("kmeshctl apply of an unchanged file <= 10 ms (1,000 services / 10,000 routes)",
                 "reapply_unchanged_ms_1000svc_10000routes",
                 shown("reapply_unchanged_ms_1000svc_10000routes", " ms"),
                 verdict(v, lambda x: x <= 10)))
    v = fig.get("apply_cpu_ms_1000svc_10000routes")
    rows.append(("  kmeshctl apply's own CPU time (user + system), same config, host",
                 "apply_cpu_ms_1000svc_10000routes", shown("apply_cpu_ms_1000svc_10000routes", " ms"),
                 verdict(v, lambda x: x <= 100)))
    v = fig.get("apply_1000svc_ms")
    rows.append(("  kmeshctl apply, 1,000 services (L4 only), host", "apply_1000svc_ms",
                 fmt(v) + " ms", verdict(v, lambda x: x <= 100)))
    return rows


def with_spread(fig, name, unit="x"):
    """A figure's value, and the spread of its repetitions when it has one."""
    v = fig.get(name)
    if v is None:
        why = next((it[3] for it in fig.items if it[0] == name), None)
        return f"n/a ({why})" if why else "n/a"
    sp = fig.spread_text(name)
    return fmt(v) + unit + (f" (runs: {sp})" if sp else "")


def stream_target_rows(host, fig):
    rows = []
    for name, label, goal in (
            ("redirect_vs_veth_1k", "sk_msg redirect >= 1.3x pod to pod (veth), 1 KB stream", 1.3),
            ("redirect_rr_vs_veth_1k", "sk_msg redirect >= 2x pod to pod (veth), 1 KB request/response", 2.0),
            ("redirect_vs_loopback_1k", "  (for reference) sk_msg redirect vs loopback, 1 KB stream", None),
            ("redirect_rr_vs_loopback_1k", "  (for reference) same, 1 KB request/response", None)):
        v = fig.get(name)
        rows.append((label, name, with_spread(fig, name),
                     "-" if goal is None else "not measured" if v is None else
                     "met" if v >= goal else "missed"))
    return rows


def l7_target_rows(lanes, fig):
    """Issue 13: L7 against direct, closed loop, host lane (native), and the
    VM lanes' for reference."""
    rows = []
    for where, c, goal, what in (("local", 16, 1.5, "meshed server on this node"),
                                 ("local", 1, 1.0, "meshed server on this node"),
                                 ("remote", 1, 0.95, "server not meshed"),
                                 ("remote", 16, 0.95, "server not meshed")):
        name = f"l7_{where}_c{c}_vs_direct"
        v = fig.get(name)
        rows.append((f"kmesh L7 ({what}) >= {goal}x direct, {c} connection{'s' if c > 1 else ''}, host",
                     name, with_spread(fig, name),
                     "not measured" if v is None else "met" if v >= goal else "missed"))
        for l in lanes:
            vname = f"vm_{l.name}_{name}"
            if l.name != "host" and fig.get(vname) is not None:
                rows.append((f"  (for reference) the same, {l.name} lane", vname,
                             with_spread(fig, vname), "-"))
    return rows


BREAKDOWN_ORDER = ["direct", "l4", "l4redir", "l7", "l7local"]


def breakdown(lane):
    """Issue 13's cost breakdown from the runs with BPF run-time statistics
    on (kind breakdown, 16 connections): per path, the medians over the
    repetitions of requests/s, CPU us per request (client + server
    cgroups, kernel time included), and for each of kmesh's programs that
    ran, runs and ns per request (run_time_ns / requests)."""
    out = {}
    for p in BREAKDOWN_ORDER:
        runs = {r["rep"]: r for r in lane.sel("breakdown", p) if num(r["requests"])}
        if not runs:
            continue
        cpu = lane.cpu_per_req(p, conc=16, kind="breakdown")
        progs = {}
        for r in lane.sel("bprog", p):
            run = runs.get(r["rep"])
            m = re.search(r"prog=(\S+) runs=(\d+) run_ns=(\d+)", r["note"])
            if not run or not m:
                continue
            req = num(run["requests"])
            e = progs.setdefault(m.group(1), {"runs": [], "ns": []})
            e["runs"].append(int(m.group(2)) / req)
            e["ns"].append(int(m.group(3)) / req)
        out[p] = {"rps": lane.m("breakdown", p, "rps", conc=16), "cpu_us": cpu["total"],
                  "progs": {k: (med(v["runs"]), med(v["ns"])) for k, v in progs.items()}}
    return out


def breakdown_table(lane, md, fig, prefix):
    bd = breakdown(lane)
    if not bd:
        return
    names = sorted({k for v in bd.values() for k in v["progs"]})
    base = bd.get("direct", {}).get("cpu_us")
    md.append("Where the time per request goes, 16 connections, closed loop, one more run "
              "per path and repetition with the kernel's BPF run-time statistics on "
              "(`bench/src/bpfrun.c`; medians; ns per request = the program's run_time_ns "
              "over the requests served, runs per request in brackets; \"kernel paths\" = "
              "the CPU added over direct that no kmesh program accounts for: the "
              "sockhash's send and receive paths (tcp_bpf), the redirect, the "
              "connect-time work):\n")
    md.append("| path | requests/s | CPU us/request | added over direct, ns | " +
              " | ".join(f"`{n}` ns" for n in names) + " | kmesh programs, ns | kernel paths, ns |")
    md.append("|---|---|---|---|" + "---|" * len(names) + "---|---|")
    for p in BREAKDOWN_ORDER:
        if p not in bd:
            continue
        b = bd[p]
        added = (b["cpu_us"] - base) * 1e3 if base is not None and b["cpu_us"] is not None else None
        cells = []
        total = 0.0
        for n in names:
            rv = b["progs"].get(n)
            if rv is None:
                cells.append("-")
                continue
            total += rv[1]
            cells.append(f"{fmt(rv[1], 0)} ({fmt(rv[0])})")
        rest = added - total if added is not None and p != "direct" else None
        md.append(f"| {LABEL.get(p, p)} | {fmt(b['rps'])} | {fmt(b['cpu_us'])} | "
                  f"{fmt(added, 0) if p != 'direct' else '-'} | " + " | ".join(cells) +
                  f" | {fmt(total, 0)} | {fmt(rest, 0) if rest is not None else '-'} |")
        if p != "direct":
            fig.add(f"{prefix}{p}_kmesh_prog_ns_per_req", total, digits=0)
            if added is not None:
                fig.add(f"{prefix}{p}_added_ns_per_req", added, digits=0)
    md.append("")


def plot_breakdown(lane, out, tmp):
    bd = breakdown(lane)
    base = bd.get("direct", {}).get("cpu_us")
    paths = [p for p in BREAKDOWN_ORDER if p in bd and p != "direct"]
    if not paths or base is None:
        return None
    names = sorted({k for p in paths for k in bd[p]["progs"]})
    dat = os.path.join(tmp, f"breakdown-{lane.name}.dat")
    with open(dat, "w") as f:
        for p in paths:
            b = bd[p]
            vals = [(b["progs"].get(n) or (0, 0))[1] for n in names]
            added = (b["cpu_us"] - base) * 1e3 if b["cpu_us"] is not None else 0
            vals.append(max(added - sum(vals), 0))
            f.write('"%s" %s\n' % (SHORT.get(p, p), " ".join(f"{v:.1f}" for v in vals)))
    png = f"breakdown-{lane.name}.png"
    cols = ", ".join(
        (f"'{dat}' using {i + 2}:xtic(1)" if i == 0 else f"'' using {i + 2}") + f" title '{t}'"
        for i, t in enumerate(names + ["kernel paths (added CPU not in a kmesh program)"]))
    tcg = "  [TCG: compare ratios only]" if lane.name != "host" else ""
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "CPU added per request over direct, 16 connections - {lane.name} lane\\n(kmesh programs: kernel BPF run-time statistics; the rest: cgroup CPU minus direct's, not drawn when below zero){tcg}"
set ylabel 'ns per request'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key top left opaque
set grid ytics
set yrange [0:*]
set xtics rotate by -15
plot {cols}
""", tmp)
    return png


def plot_ratios(lane, fig, prefix, out, tmp):
    """Issue 13's ratios with the spread of the repetitions as error bars."""
    names = [("l7_local_c1_vs_direct", "L7 local c=1"), ("l7_local_c16_vs_direct", "L7 local c=16"),
             ("l7_remote_c1_vs_direct", "L7 remote c=1"), ("l7_remote_c16_vs_direct", "L7 remote c=16"),
             ("redirect_vs_veth_1k", "redirect/veth stream"),
             ("redirect_rr_vs_veth_1k", "redirect/veth rr"),
             ("redirect_vs_loopback_1k", "redirect/lo stream"),
             ("redirect_rr_vs_loopback_1k", "redirect/lo rr")]
    pts = []
    for n, label in names:
        v = fig.get(prefix + n)
        sp = fig.spread.get(prefix + n)
        if v is not None:
            pts.append((label, v, sp[0] if sp else v, sp[1] if sp else v))
    if not pts:
        return None
    dat = os.path.join(tmp, f"ratios-{lane.name}.dat")
    with open(dat, "w") as f:
        for i, (label, v, lo, hi) in enumerate(pts):
            f.write(f'{i} "{label}" {v} {lo} {hi}\n')
    png = f"ratios-{lane.name}.png"
    tcg = "  [TCG]" if lane.name != "host" else ""
    gnuplot(TERM + f"""set output '{os.path.join(out, png)}'
set title "kmesh over its baseline (direct, or pod to pod / loopback for the 1 KB stream) - {lane.name} lane\\n(bar: ratio of medians; whiskers: min..max of the per-repetition ratios){tcg}"
set ylabel 'ratio (1 = as fast as the baseline)'
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set xrange [-0.6:{len(pts) - 0.4}]
set xtics rotate by -25
plot '{dat}' using 1:3:xtic(2) with boxes notitle lc rgb '#4477aa', '' using 1:3:4:5 with yerrorbars notitle lc rgb '#222222' pt 0, 1 notitle lc rgb '#bb5566' dt 2
""", tmp)
    return png


def stream_table(lane, md):
    """The same-node stream and ping-pong, one row per path."""
    md.append("Same-node stream, 1 KB messages (medians; CPU = client + server "
              "cgroups, kernel time included):\n")
    md.append("| path | stream Mbit/s | messages/s | CPU us per message | "
              "1 KB round trips/s | rr p50 us | rr p99 us |")
    md.append("|---|---|---|---|---|---|---|")
    for p in STREAM_ORDER:
        if not lane.sel("stream", p) and not lane.sel("rr", p):
            continue
        cpu = stream_cpu_us(lane, p)
        md.append(f"| {LABEL[p]} | {fmt(lane.m('stream', p, 'mbps'))} | "
                  f"{fmt(lane.m('stream', p, 'rps'))} | {fmt(cpu)} | {fmt(lane.m('rr', p, 'rps'))} | "
                  f"{fmt(lane.m('rr', p, 'p50_us'))} | {fmt(lane.m('rr', p, 'p99_us'))} |")
    md.append("")
    prog, cpu = skmsg_prog_ns(lane), stream_cpu_us(lane, "redirect")
    if prog is not None:
        share = f", {100 * prog / 1e3 / cpu:.0f}% of the redirect path's CPU per message" if cpu else ""
        md.append(f"kmesh's sk_msg program itself: {prog:.0f} ns per message{share} "
                  "(kernel run-time statistics, one extra stream run); the rest is the "
                  "kernel's own work: both system calls, the copy in and out, and the "
                  "redirect into the peer's queue.\n")


def lane_tables(lane, md, rate, fig):
    md.append(f"### {LANE_TITLE.get(lane.name, lane.name)}\n")
    if lane.name != "host":
        md.append("QEMU/TCG emulates every instruction: absolute times here are meaningless; "
                  "compare the ratios, which are taken between paths of this same VM.\n")
    info = [r for r in lane.rows if r["kind"] == "info"]
    for r in info:
        md.append(f"- {r['path']}: {r['note']}")
    loads = [r["value"] for r in lane.rows if r["kind"] == "loadavg" and r["value"]]
    if loads:
        md.append(f"- load: 1-minute load average after each throughput repetition: {', '.join(loads)}")
    if info:
        md.append("")
    paths = [p for p in PATH_ORDER if lane.sel("tput", p) or lane.sel("lat", p)]
    if paths:
        concs = sorted({int(r["conc"]) for r in lane.sel("tput")})
        md.append("Throughput, closed loop (requests/s; ratio to direct):\n")
        md.append("| path | " + " | ".join(f"c={c}" for c in concs) + " | new conn/req, c=16 |")
        md.append("|---|" + "---|" * (len(concs) + 1))
        for p in paths:
            cells = []
            for c in concs:
                v = lane.m("tput", p, "rps", conc=c)
                b = lane.m("tput", "direct", "rps", conc=c)
                cells.append(f"{fmt(v)} ({fmt(ratio(v, b))}x)" if v is not None else "n/a")
            v = lane.m("conn", p, "rps", conc=16)
            b = lane.m("conn", "direct", "rps", conc=16)
            cells.append(f"{fmt(v)} ({fmt(ratio(v, b))}x)" if v is not None else "-")
            md.append(f"| {LABEL.get(p, p)} | " + " | ".join(cells) + " |")
        md.append("")
        md.append(f"Latency at {int(rate or 0)} requests/s, open loop (microseconds; ratio to direct):\n")
        md.append("| path | p50 | p90 | p99 | p99.9 | errors |")
        md.append("|---|---|---|---|---|---|")
        for p in paths:
            cells = []
            for q in ("p50_us", "p90_us", "p99_us", "p999_us"):
                v = lane.m("lat", p, q)
                b = lane.m("lat", "direct", q)
                cells.append(f"{fmt(v)} ({fmt(ratio(v, b))}x)" if v is not None else "n/a")
            errs = sum(int(num(r["errors"]) or 0) for r in lane.sel("lat", p))
            md.append(f"| {LABEL.get(p, p)} | " + " | ".join(cells) + f" | {errs} |")
        md.append("")
        md.append("CPU per 10,000 requests at 16 connections (CPU-seconds, from the cgroups' "
                  "cpu.stat; kernel share in brackets):\n")
        md.append("| path | client | server | proxy | total | requests per CPU-second |")
        md.append("|---|---|---|---|---|---|")
        for p in paths:
            c = lane.cpu_per_req(p)
            if c["total"] is None:
                continue
            k = lambda v: fmt(v * 1e-2, 3) if v is not None else "n/a"
            md.append(f"| {LABEL.get(p, p)} | {k(c['client'])} | {k(c['server'])} | {k(c['proxy'])} | "
                      f"{k(c['total'])} ({fmt(100 * c['sys'] / c['total'], 0)}% kernel) | "
                      f"{fmt(1e6 / c['total'])} |")
        md.append("")
    if lane.sel("stream") or lane.sel("rr"):
        stream_table(lane, md)
    breakdown_table(lane, md, fig, "" if lane.name == "host" else f"vm_{lane.name}_")
    skipped = sorted({(k[0], k[1], k[2], why) for k, why in lane.skips.items()})
    if skipped:
        md.append("Skipped:\n")
        for kind, path, n, why in skipped:
            md.append(f"- {kind} {path}{(' N=' + n) if n else ''}: {why}")
        md.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--tree", default="", help="what was measured (git describe)")
    ap.add_argument("--l4", action="store_true", help="`make bench-l4`: the stream alone")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    lanes = load(a.files)
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(os.path.abspath(a.run), "plot")
    os.makedirs(tmp, exist_ok=True)
    if a.l4:
        l4_report(lanes, a, tmp)
        return

    fig = Figures()
    by = {l.name: l for l in lanes}
    rates = {l.name: med([num(r["rate"]) for r in l.sel("lat")]) for l in lanes}
    if "host" in by:
        lane_figures(by["host"], fig, "")
    for l in lanes:
        if l.name != "host":
            lane_figures(l, fig, f"vm_{l.name}_")
    # memory
    for path, label in (("kmesh_l4", "kmesh_l4_mem_mb"), ("haproxy", "haproxy_rss_mb"),
                        ("nginx", "nginx_rss_mb"), ("kmesh_l7_tables", "kmesh_l7_tables_mb")):
        unit = "svc" if path == "kmesh_l4" else "routes"
        for n in (10, 1000, 10000):
            v, _src = mem_value(lanes, path, n)
            fig.add(f"{label}_{n}{unit}", v / 2**20 if v is not None else None,
                    skipped=mem_skip(lanes, path, n))
    mod, _ = mem_value(lanes, "kmesh_module", "")
    fig.add("kmesh_module_mb", mod / 2**20 if mod is not None else None,
            skipped=mem_skip(lanes, "kmesh_module", "") or "needs a VM lane")
    l4m, l4src = mem_value(lanes, "kmesh_l4", 1000)
    l7m, _ = mem_value(lanes, "kmesh_l7_tables", 10000)
    total = None
    if l4m is not None and l7m is not None:
        total = (l4m + l7m + (mod or 0)) / 2**20
    fig.add("kmem_mb_1000svc_10000routes", total,
            skipped=None if total is not None else "needs the host lane (maps) and a VM lane (route tables)")
    # apply
    host = by.get("host")
    for n, name in ((10, "apply_10svc_ms"), (1000, "apply_1000svc_ms")):
        v = host.m("apply", "kmeshctl", "value", n=n) if host else None
        fig.add(name, v, skipped=host and host.skips.get(("apply", "kmeshctl", str(n))))
    v = host.m("apply", "kmeshctl_routes", "value", n=10000) if host else None
    fig.add("apply_ms_1000svc_10000routes", v,
            skipped=(host.skips.get(("apply", "kmeshctl_routes", "10000")) if host
                     else "needs the host lane"))
    v = host.m("apply", "kmeshctl_routes_reapply", "value", n=10000) if host else None
    fig.add("reapply_unchanged_ms_1000svc_10000routes", v,
            skipped=(host.skips.get(("apply", "kmeshctl_routes_reapply", "10000")) or
                     host.skips.get(("apply", "kmeshctl_routes", "10000")) if host
                     else "needs the host lane"))
    for n, path, name in ((1000, "kmeshctl", "apply_cpu_ms_1000svc"),
                          (10000, "kmeshctl_routes", "apply_cpu_ms_1000svc_10000routes")):
        fig.add(name, apply_cpu_ms(host, path, n) if host else None,
                skipped=None if host else "needs the host lane")
    if host:
        inbound_figures(host, fig)
        resilience_figures(host, fig)
    # the VM lanes (BENCH_VM_INBOUND=1): with the module's accept hook
    for l in lanes:
        if l.name != "host" and l.m("inbound", "inbound_on", "rps", conc=16) is not None:
            inbound_figures(l, fig, f"{l.name}_")
    headline_figures(fig, lanes)

    # plots
    for f in os.listdir(a.out):
        if f.endswith(".png"):
            os.remove(os.path.join(a.out, f))
    pngs = []
    for l in lanes:
        for fn in (lambda: plot_latency(l, a.out, tmp, rates[l.name]),
                   lambda: plot_throughput(l, a.out, tmp), lambda: plot_cpu(l, a.out, tmp)):
            p = fn()
            if p:
                pngs.append(p)
    for l in lanes:
        pre = "" if l.name == "host" else f"vm_{l.name}_"
        for fn in (lambda: plot_ratios(l, fig, pre, a.out, tmp),
                   lambda: plot_breakdown(l, a.out, tmp),
                   lambda: plot_stream(l, a.out, tmp, f"stream-{l.name}.png")):
            p = fn()
            if p:
                pngs.append(p)
    p = plot_memory(lanes, a.out, tmp)
    if p:
        pngs.append(p)
    if host:
        p = plot_inbound(host, a.out, tmp)
        if p:
            pngs.append(p)

    write_rows(lanes, os.path.join(a.out, "results.csv"))

    md = ["# kmesh benchmark results", ""]
    md.append(header(a.tree, "make bench"))
    md.append("")
    md.append("**The VM lanes run under QEMU/TCG: their absolute times are meaningless, their ratios are the result.**")
    md.append("")
    md.append("## Targets\n")
    md.append("| target | figure | value | verdict |")
    md.append("|---|---|---|---|")
    for t, name, val, verdict in target_rows(lanes, fig):
        md.append(f"| {t} | `{name}` | {val} | {verdict} |")
    md.append("")
    md.append("## Plots\n")
    for p in pngs:
        md.append(f"![{p}]({p})")
    md.append("")
    md.append("## Per lane\n")
    for l in lanes:
        lane_tables(l, md, rates[l.name], fig)
    md.append("## Memory (bytes as MiB)\n")
    md.append("| what | N=10 | N=1,000 | N=10,000 |")
    md.append("|---|---|---|---|")
    for path, label in (("kmesh_l4", "kmesh L4: BPF maps + programs, N services (memlock)"),
                        ("kmesh_l7_tables", "kmesh L7: module route tables, N routes"),
                        ("haproxy", "HAProxy RSS, N routes + backends"),
                        ("nginx", "nginx RSS (master + worker), N locations")):
        cells = []
        for n in (10, 1000, 10000):
            v, src = mem_value(lanes, path, n)
            if v is None:
                why = mem_skip(lanes, path, n)
                cells.append("n/a" + (f" ({why})" if why else ""))
            else:
                cells.append(f"{v / 2**20:.2f}" + ("" if src == "host" else f" ({src} VM)"))
        md.append(f"| {label} | " + " | ".join(cells) + " |")
    if mod is not None:
        md.append(f"| kmesh.ko text + data | {mod / 2**20:.2f} | | |")
    md.append("")
    md.append("## kmeshctl apply (wall time, host)\n")
    if host:
        for n in (10, 1000):
            v = host.m("apply", "kmeshctl", "value", n=n)
            md.append(f"- {n} services: {fmt(v)} ms (median of {len(host.sel('apply', 'kmeshctl', n=n))}), "
                      f"CPU {fmt(apply_cpu_ms(host, 'kmeshctl', n))} ms")
        why = host.skips.get(("apply", "kmeshctl_routes", "10000"))
        v = host.m("apply", "kmeshctl_routes", "value", n=10000)
        if v is not None:
            md.append(f"- 1,000 services + 10,000 routes (http ports): {fmt(v)} ms (median of "
                      f"{len(host.sel('apply', 'kmeshctl_routes', n=10000))}), "
                      f"CPU {fmt(apply_cpu_ms(host, 'kmeshctl_routes', 10000))} ms")
            v = host.m("apply", "kmeshctl_routes_reapply", "value", n=10000)
            md.append(f"- the same file applied again, unchanged: {fmt(v)} ms (median of "
                      f"{len(host.sel('apply', 'kmeshctl_routes_reapply', n=10000))}), "
                      f"CPU {fmt(apply_cpu_ms(host, 'kmeshctl_routes_reapply', 10000))} ms")
        elif why:
            md.append(f"- 1,000 services + 10,000 routes: skipped: {why}")
    md.append("")
    md.append("## Headline figures\n")
    md.append("```")
    md.extend(fig.lines())
    md.append("```")
    md.append("")
    md.append("Spread of the repeated ratios (min..max of the per-repetition ratios, "
              "each repetition running both paths back to back):\n")
    md.append("```")
    md.extend(fig.spread_lines())
    md.append("```")
    md.append("")
    md.append("## How each path is measured\n")
    md.append(open(os.path.join(os.path.dirname(__file__), "METHOD.md")).read().strip())
    write_summary(a.out, md, fig, f" ({len(pngs)} plots)")


if __name__ == "__main__":
    main()
