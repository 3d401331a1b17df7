#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench-l4`: kmesh's same-node sk_msg redirect against plain
# loopback, 1 KB messages, on this machine's kernel (native speed, no
# module needed). A benchmark, not a test: it fails only when it cannot
# run at all, and reports whatever comes out.
#
#   bench/l4.sh                   full run (about 2 minutes)
#   BENCH_QUICK=1 bench/l4.sh     smoke run (under a minute)
#
# Two paths, interleaved A B A B (bench/lib.sh run_stream): a 1 KB-write
# stream (throughput) and a 1 KB ping-pong (round trips/s, p50/p99), each
# over one connection. The redirect path is a meshed client (child cgroup,
# `kmeshctl up --cgroup`) dialing a service whose endpoint is a meshed
# server; loopback is the same pair of programs, unmeshed.
#
# Output: bench/results/l4/{summary.md,results.csv,redirect-vs-loopback.png},
# "kmesh-figure: NAME VALUE" lines on stdout; raw files in build/bench/l4-*/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

# Inside private mount and network namespaces (own bpffs, own loopback):
# the measurement itself, as in bench/host.sh.
if [ "${1:-}" = --in-netns ]; then
	set +e
	LANE=host WORK=$RUN/host ROWS=$RUN/rows-host.csv
	. "$here/lib.sh"
	host_lane_begin
	kmesh_up || log "kmeshctl up failed: $KMESH_UP_ERR"
	start_stream_backends || { log "backends did not start"; exit 1; }
	pods_up || log "pod-to-pod baseline skipped: $POD_WHY"
	row info kmeshctl "" "" "" "" "" "" "" "$("$KMESHCTL" version); kernel $(uname -r); load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
	run_stream
	# Where a redirected message's time goes: one more stream run (not one
	# of the measured ones, the timing costs a little itself) with the
	# kernel timing kmesh's programs; the sk_msg one runs once per write.
	if [ -n "$KMESH_IS_UP" ]; then
		_out=$(cg_exec "$CG/mesh/client" "$BIN/bpfrun" "${KMESH_PIN_DIR:-/sys/fs/bpf/kmesh}" \
			"$BIN/loadgen" stream --size 1024 --duration "$D_STREAM" --warmup "$WARMUP" \
			--target "$VIP_SINK:80" 2>&1)
		echo "$_out" | sed -n 's/^bpfrun: prog=\(kmesh_sk_msg[a-z0-9_]*\) .*ns_per_run=\([0-9.]*\).*/\1 \2/p' |
			while read -r _prog _ns; do
				row prog "$_prog" "" 1 "" "" "" "" "$_ns" "ns per run while streaming 1 KB writes (BPF_ENABLE_STATS)"
			done
	fi
	# Evidence that the redirect path took the kernel path it claims.
	if [ -n "$KMESH_IS_UP" ]; then
		row info kmeshctl-stats "" "" "" "" "" "" "" \
			"$("$KMESHCTL" stats 2>&1 | grep -E '^service bench-(sink|echo) ' | sed 's/ refused_[a-z_]* 0//g; s/ duration_ns [0-9]*//; s/ retransmits 0//' | tr '\n,' '|;')"
	fi
	exit 0
fi

QUICK=${BENCH_QUICK:-0}
t0=$(date +%s)
say() { printf 'bench-l4 [+%ss]: %s\n' "$(($(date +%s) - t0))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cgroups, bpffs, namespaces)"
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cg_root" ] && [ -w "$cg_root/cgroup.procs" ] || die "no writable cgroup2 mount"
[ -e /sys/kernel/btf/vmlinux ] || die "kernel without BTF"
unshare -m -n true 2>/dev/null || die "cannot create mount and network namespaces"

if [ "$QUICK" = 1 ]; then
	export REPS=3 D_STREAM=1 WARMUP=0.3
else
	export REPS=7 D_STREAM=2 WARMUP=0.5
fi

say "building kmeshctl and the bench tools"
make -s -C "$top" userspace >/dev/null || die "make userspace failed"
make -s -C "$here" O="$top/build/bench" >/dev/null || die "building bench tools failed"
export BIN=$top/build/bench KMESHCTL=$top/build/kmeshctl
export RUN=$top/build/bench/l4-$(date +%Y%m%d-%H%M%S)
export CG=$cg_root/kmesh-bench-l4-$$
mkdir -p "$RUN"
say "$REPS repetitions of loopback and redirect, ${D_STREAM}s each; raw output in $RUN"
unshare -m -n --propagation private bash "$0" --in-netns 2>&1 | tee "$RUN/host.log" |
	grep --line-buffered -E 'repetition|skipped|failed|error' >&2 || true
[ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true
[ -s "$RUN/rows-host.csv" ] || die "no measurements (see $RUN/host.log)"

tree=$(git -C "$top" describe --always --dirty 2>/dev/null || echo "a tree without git")
python3 "$here/report.py" --l4 --out "$here/results/l4" --run "$RUN" --tree "$tree" "$RUN/rows-host.csv"
say "done in $(($(date +%s) - t0))s"
