#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: kmesh against no mesh and against a proxy, side by side, in
# one run on one machine. A benchmark, not a test: it fails only when it
# cannot run at all, and reports whatever comes out.
#
#   bench/run.sh            full run (about 15 min on 2 cores)
#   BENCH_QUICK=1 bench/run.sh    quick run (about 2 min: host lane only,
#                           short and few repetitions)
#   BENCH_SMOKE=1 bench/run.sh    smoke run for make check (one repetition of
#                           tiny runs: the host lane, then one VM lane, kfunc
#                           if its kernel is ready else stock, with the
#                           paths of the L7 figures only: direct, l7, haproxy)
#   BENCH_OUT=DIR           where results go (default bench/results)
#   BENCH_VM=0              skip the VM lanes; BENCH_LANES="stock kfunc"
#                           picks them (default: both when their kernel is
#                           ready; the kfunc kernel is never built here)
#   BENCH_HOST=0            skip the host lane
#   BENCH_VM_INBOUND=1      the VM lanes also run the inbound rows (with
#                           the module: data before accept() parsed at
#                           accept instead of dropped at the door)
#
# Lanes, each one self-contained (every path of a comparison runs in the
# same lane, interleaved A B C A B C ..., and only ratios inside a lane are
# compared):
#   host    this machine's kernel, native speed, no module: direct, kmesh
#           L4 (+ sk_msg redirect), HAProxy, nginx, stream; memory and
#           kmeshctl apply time.
#   stock   QEMU/TCG, Debian 6.1 with the module: L7 in fallback mode.
#   kfunc   QEMU/TCG, 6.1 + common kfunc hook with the module: L7 kfunc.
#           The VM lanes repeat direct, L4 and HAProxy so L7 is compared
#           with them in the same VM; TCG makes their absolute times
#           meaningless, their ratios are the result.
#
# Output: bench/results/{summary.md,results.csv,*.png}, "kmesh-figure: NAME
# VALUE" lines on stdout; the run's raw files in build/bench/run-*/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$top/scripts/env.sh"

QUICK=${BENCH_QUICK:-0}
SMOKE=${BENCH_SMOKE:-0}
OUT=${BENCH_OUT:-$here/results}
[ "$QUICK" = 1 ] && default_vm=0 || default_vm=1
VM=${BENCH_VM:-$default_vm}
t0=$(date +%s)
say() { printf 'bench [+%ss]: %s\n' "$(($(date +%s) - t0))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cgroups, bpffs, namespaces)"

# ---- settings: durations in seconds; REPS repetitions of every path ----
VM_PATHS="direct l4 l4redir l7 l7local haproxy"
VM_MEM_COUNTS=
if [ "$SMOKE" = 1 ]; then
	# memory only where a headline figure needs it: BPF maps at 1,000
	# services (host), route tables at 10,000 routes (VM)
	export REPS=1 CONCS="16" D_TPUT=0.3 D_LAT=0.5 D_STREAM=0.3 WARMUP=0.1 \
		APPLY_REPS=1 MEM_COUNTS="1000" PROXY_MEM_COUNTS="10"
	VM_MEM_COUNTS="10000"
	VM_SETTINGS="REPS=1 CONCS='16' D_TPUT=0.5 D_LAT=1 D_STREAM=0.3 WARMUP=0.2 RUN_CONN=0 BREAKDOWN_REPS=1"
	VM_PATHS="direct l7 l7local haproxy"
elif [ "$QUICK" = 1 ]; then
	export REPS=2 CONCS="1 16 256" D_TPUT=1 D_LAT=2 D_STREAM=1 WARMUP=0.3 \
		APPLY_REPS=3 MEM_COUNTS="10 1000 10000"
	VM_SETTINGS="REPS=2 CONCS='1 16' D_TPUT=1 D_LAT=2 D_STREAM=1 WARMUP=0.3 RUN_CONN=0 BREAKDOWN_REPS=1"
else
	export REPS=5 CONCS="1 16 256" D_TPUT=2 D_LAT=4 D_STREAM=2 WARMUP=0.5 \
		APPLY_REPS=5 MEM_COUNTS="10 1000 10000"
	VM_SETTINGS="REPS=3 CONCS='1 16' D_TPUT=1.5 D_LAT=3 D_STREAM=1.5 WARMUP=0.5 RUN_CONN=0 BREAKDOWN_REPS=2"
fi
export LAT_FRACTION=0.1

# ---- build ----
say "building kmeshctl and the bench tools"
make -s -C "$top" userspace >/dev/null || die "make userspace failed"
make -s -C "$here" O="$top/build/bench" >/dev/null || die "building bench tools failed"
export BIN=$top/build/bench KMESHCTL=$top/build/kmeshctl
export HAPROXY_BIN=$(command -v haproxy || true)
export NGINX_BIN=$(command -v nginx || true)

RUN=$top/build/bench/run-$(date +%Y%m%d-%H%M%S)
export RUN
mkdir -p "$RUN"
say "raw output in $RUN"

# ---- host lane ----
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
host_skip=
if [ "${BENCH_HOST:-1}" = 0 ]; then
	host_skip="BENCH_HOST=0"
elif [ -z "$cg_root" ] || [ ! -w "$cg_root/cgroup.procs" ]; then
	host_skip="no writable cgroup2 mount"
elif ! unshare -m -n true 2>/dev/null; then
	host_skip="cannot create mount and network namespaces"
elif [ ! -e /sys/kernel/btf/vmlinux ]; then
	host_skip="kernel without BTF"
fi
if [ -n "$host_skip" ]; then
	echo "host,info,host,,,,,,,,,,,,,,,,,,,,,skipped: $host_skip" >"$RUN/rows-host.csv"
	say "host lane skipped: $host_skip"
else
	export CG=$cg_root/kmesh-bench-$$
	say "host lane: direct, kmesh L4, sk_msg redirect, HAProxy, nginx (native speed)"
	unshare -m -n --propagation private bash "$here/host.sh" 2>&1 | tee "$RUN/host.log" |
		grep --line-buffered -E 'repetition|paths ready|latency at|skipped|failed|error' >&2 || true
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true
fi

# ---- VM lanes ----
if [ "$VM" = 1 ] && [ "$SMOKE" = 1 ]; then
	# the first lane whose kernel is ready (checked below)
	lanes=${BENCH_LANES:-kfunc stock}
elif [ "$VM" = 1 ]; then
	lanes=${BENCH_LANES:-stock kfunc}
else
	lanes=
fi
for lane in $lanes; do
	rows=$RUN/rows-$lane.csv
	case $lane in
	stock)
		ready=$([ -f "$KMESH_CACHE/$KMESH_KABI/objtree/.kmesh-ready" ] && echo 1 || true) ;;
	kfunc)
		ready=$("$top/scripts/build-test-kernel.sh" --print-dir >/dev/null 2>&1 && echo 1 || true) ;;
	*) die "unknown lane $lane" ;;
	esac
	if [ -z "$ready" ]; then
		echo "$lane,info,vm,,,,,,,,,,,,,,,,,,,,,skipped: kernel not prepared (make vmtest LANE=$lane builds it)" >"$rows"
		say "$lane lane skipped: kernel not prepared"
		continue
	fi
	[ "$SMOKE" = 1 ] && [ -n "${smoke_lane_done:-}" ] && { rm -f "$rows"; continue; }
	smoke_lane_done=1
	say "$lane lane: booting the VM under TCG (ratios only)"
	guest=$RUN/guest-$lane.sh
	{
		echo "LANE=$lane BIN=$BIN KMESHCTL=/usr/bin/kmeshctl WORK=/tmp/bench CG=/sys/fs/cgroup/bench ROWS="
		echo "LAT_FRACTION=$LAT_FRACTION HAPROXY_BIN=${HAPROXY_BIN} NGINX_BIN= MEM_COUNTS='${VM_MEM_COUNTS:-$MEM_COUNTS}' $VM_SETTINGS"
		echo "BENCH_PATHS='$VM_PATHS'"
		echo "RUN_INBOUND=${BENCH_VM_INBOUND:-0}"
		cat "$here/lib.sh" "$here/guest.sh"
	} >"$guest"
	extra="$BIN/loadgen $BIN/benchsrv $BIN/bpfmem $BIN/bpfrun $BIN/routemem ${HAPROXY_BIN}"
	KMESH_VM_EXTRA=$extra KMESH_VM_OUT=$RUN/vm-$lane \
		"$top/scripts/vmtest.sh" --lane "$lane" --guest "$guest" --timeout 900 \
		>"$RUN/vm-$lane.log" 2>&1 || say "$lane lane: the VM run reported a failure (see $RUN/vm-$lane.log)"
	sed -n 's/^kmesh-bench-row: //p' "$RUN/vm-$lane/console.log" 2>/dev/null >"$rows" || true
	if [ ! -s "$rows" ]; then
		why=$(grep -m1 -E '^vmtest\[[a-z]*\]: (error|FAIL)' "$RUN/vm-$lane.log" | sed 's/^vmtest\[[a-z]*\]: //' | tr ',' ';' || true)
		echo "$lane,info,vm,,,,,,,,,,,,,,,,,,,,,skipped: the VM run produced no rows: ${why:-see vm-$lane.log}" >"$rows"
	fi
	grep -h 'skipped' "$rows" | cut -d, -f2,3,24 | sed 's/^/  /' >&2 || true
done

# ---- report ----
say "writing bench/results"
tree=$(git -C "$top" describe --always --dirty 2>/dev/null || echo "a tree without git")
python3 "$here/report.py" --out "$OUT" --run "$RUN" --tree "$tree" "$RUN"/rows-*.csv
say "done in $(($(date +%s) - t0))s"
