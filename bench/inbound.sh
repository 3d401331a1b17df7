#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench-inbound`: the destination's check (issue 18) alone, on this
# machine's kernel (native speed, no module): keep-alive L7 throughput at
# 16 connections and a new connection per request, to a protected
# workload (every head parsed and checked on receive) and to the same
# server unprotected, interleaved (bench/lib.sh run_inbound). A benchmark,
# not a test: it fails only when it cannot run at all.
#
#   bench/inbound.sh                 full run (about 3 minutes)
#   BENCH_QUICK=1 bench/inbound.sh   short run
#   INBOUND_KMESHCTL=PATH            use that kmeshctl (e.g. a build with
#                                    parts of the check switched off)
#
# Then one more keep-alive run to the protected workload (not a measured
# one: timing costs a little itself) with BPF_ENABLE_STATS on, for the
# time each inbound program takes per run (bench/METHOD.md, "Where the
# inbound check's time goes").
#
# Output: "kmesh-figure: NAME VALUE" lines (median and spread of the
# repetitions) on stdout; raw rows in build/bench/inbound-*/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

if [ "${1:-}" = --in-netns ]; then
	set +e
	LANE=host WORK=$RUN/host ROWS=$RUN/rows-host.csv
	. "$here/lib.sh"
	host_lane_begin
	kmesh_up || log "kmeshctl up failed: $KMESH_UP_ERR"
	row info kmeshctl "" "" "" "" "" "" "" "$("$KMESHCTL" version); kernel $(uname -r); load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
	run_inbound
	row info inbound-node "" "" "" "" "" "" "" "$("$KMESHCTL" stats 2>/dev/null | grep -m1 '^inbound node:' | tr ',' ';')"
	if [ -n "$KMESH_IS_UP" ]; then
		# run_inbound put the base config back: the policy again
		"$KMESHCTL" apply -f "$WORK/mesh-inbound.yaml" >/dev/null 2>&1
		for p in on off; do
			_t=$SRV_IN_ON
			[ $p = off ] && _t=$SRV_IN_OFF
			_out=$(cg_exec "$CG/plain/client" "$BIN/bpfrun" "${KMESH_PIN_DIR:-/sys/fs/bpf/kmesh}" \
				"$BIN/loadgen" http --conns 16 --duration "$D_TPUT" --warmup "$WARMUP" \
				--paths "$REQ_PATHS" --target "$_t" 2>&1)
			_rps=$(echo "$_out" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p' | head -n1)
			echo "$_out" | sed -n 's/^bpfrun: prog=\([a-z0-9_]*\) runs=\([0-9]*\) .*ns_per_run=\([0-9.]*\).*/\1 \2 \3/p' |
				while read -r _prog _runs _ns; do
					row prog "$_prog" "$_runs" 16 "" "" "" "" "$_ns" \
						"ns per run; keep-alive to the $p workload at ${_rps:-?} rps (BPF_ENABLE_STATS)"
				done
		done
		# INBOUND_PERF=DIR: a system-wide perf profile of one more run each
		if [ -n "${INBOUND_PERF:-}" ] && command -v perf >/dev/null; then
			for p in on off; do
				_t=$SRV_IN_ON
				[ $p = off ] && _t=$SRV_IN_OFF
				perf record -a -g -o "$INBOUND_PERF/perf-$p.data" -- sleep "$D_TPUT" >/dev/null 2>&1 &
				_pp=$!
				cg_exec "$CG/plain/client" "$BIN/loadgen" http --conns 16 --duration "$D_TPUT" \
					--paths "$REQ_PATHS" --target "$_t" >/dev/null 2>&1
				wait $_pp
			done
		fi
	fi
	exit 0
fi

QUICK=${BENCH_QUICK:-0}
t0=$(date +%s)
say() { printf 'bench-inbound [+%ss]: %s\n' "$(($(date +%s) - t0))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cgroups, bpffs, namespaces)"
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cg_root" ] && [ -w "$cg_root/cgroup.procs" ] || die "no writable cgroup2 mount"
[ -e /sys/kernel/btf/vmlinux ] || die "kernel without BTF"
unshare -m -n true 2>/dev/null || die "cannot create mount and network namespaces"

if [ "$QUICK" = 1 ]; then
	export REPS=3 D_TPUT=1 WARMUP=0.3
else
	export REPS=${REPS:-7} D_TPUT=${D_TPUT:-2} WARMUP=0.5
fi

say "building kmeshctl and the bench tools"
make -s -C "$here" O="$top/build/bench" >/dev/null || die "building bench tools failed"
export BIN=$top/build/bench
# INBOUND_KMESHCTL: another build's kmeshctl (its BPF programs), to compare
if [ -n "${INBOUND_KMESHCTL:-}" ]; then
	export KMESHCTL=$INBOUND_KMESHCTL
else
	make -s -C "$top" userspace >/dev/null || die "make userspace failed"
	export KMESHCTL=$top/build/kmeshctl
fi
export RUN=$top/build/bench/inbound-$(date +%Y%m%d-%H%M%S)
export CG=$cg_root/kmesh-bench-in-$$
mkdir -p "$RUN"
say "$REPS interleaved repetitions of protected and unprotected, ${D_TPUT}s each; raw output in $RUN"
unshare -m -n --propagation private bash "$0" --in-netns 2>&1 | tee "$RUN/host.log" |
	grep --line-buffered -E 'repetition|skipped|failed|error' >&2 || true
[ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true

# Medians and spread (min..max) of the interleaved repetitions.
python3 - "$RUN/rows-host.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
def vals(kind, path, col):
    return [float(r[col]) for r in rows if r[1] == kind and r[2] == path and r[col]]
def show(name, v, unit=""):
    if v:
        print(f"kmesh-figure: {name} {statistics.median(v):.3f}  # {unit}n={len(v)} min {min(v):.3f} max {max(v):.3f}")
RPS, P99 = 9, 12
on, off = vals("inbound", "inbound_on", RPS), vals("inbound", "inbound_off", RPS)
show("inbound_rps_on", on); show("inbound_rps_off", off)
# the ratio of each repetition's interleaved pair, then the median
show("inbound_authz_overhead_ratio", [a / b for a, b in zip(on, off) if b])
con, coff = vals("inbound_conn", "inbound_on", RPS), vals("inbound_conn", "inbound_off", RPS)
show("inbound_newconn_rps_ratio", [a / b for a, b in zip(con, coff) if b])
for p in ("on", "off"):
    show(f"inbound_first_request_p99_ms_{p}", [v / 1000 for v in vals("inbound_conn", f"inbound_{p}", P99)], "ms ")
for r in rows:
    if r[1] == "prog":
        print(f"kmesh-inbound-prog: {r[2]} runs={r[3]} ns_per_run={r[22]}  # {r[23]}")
    if r[1] == "info":
        print(f"kmesh-inbound-info: {r[2]}: {r[23]}")
PY
say "done in $(($(date +%s) - t0))s"
