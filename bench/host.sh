#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The host lane of `make bench`: everything that needs no kmesh module, at
# native speed on this machine's kernel. bench/run.sh starts it inside
# private mount and network namespaces (own bpffs, own loopback), so
# nothing here can meet another run's pins or ports; the cgroups it makes
# are children of the cgroup2 mount and go away in the EXIT trap.
#
# Environment: see bench/run.sh (RUN BIN KMESHCTL and the durations).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LANE=host
WORK=$RUN/host
ROWS=$RUN/rows-host.csv
. "$here/lib.sh"

host_lane_begin

kmesh_up || log "kmeshctl up failed: $KMESH_UP_ERR"
start_backends || { log "backends did not start"; exit 1; }
pods_up || log "pod-to-pod baseline skipped: $POD_WHY"
row info kmeshctl "" "" "" "" "" "" "" "l7 mode on this kernel: $(l7_mode); $("$KMESHCTL" version); kernel $(uname -r)"
row info load "" "" "" "" "" "" "" "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine)"

# ---- kmeshctl apply time and kernel memory vs config size ----
timed_apply() {	# PATH N REP FILE [APPLY_OPTION...]: one row, the apply's wall and CPU time
	local path=$1 n=$2 rep=$3 file=$4 t TIMEFORMAT='%R %U %S'
	shift 4
	# wall, user and system seconds of the command: wall is the figure,
	# CPU says how much of it was kmeshctl's own work on a busy machine
	if ! t=$( { time "$KMESHCTL" apply "$@" -f "$file" >"$WORK/apply.out" 2>&1; } 2>&1); then
		skip_row apply "$path" "apply failed: $(head -n1 "$WORK/apply.out" | tr ',' ';')" "$n"
		return 1
	fi
	set -- $t
	row apply "$path" "$n" "" "" "$rep" "" "" \
		"$(awk -v w="$1" 'BEGIN { printf "%.2f", w * 1000 }')" \
		"wall ms of kmeshctl apply; cpu_ms $(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.1f", (u + s) * 1000 }')"
}
apply_time() {	# N FILE: one row per apply, APPLY_REPS applies
	local r
	# untimed: the file's ids and both slots' maps exist from here on
	"$KMESHCTL" apply -f "$2" >/dev/null 2>&1
	for ((r = 1; r <= APPLY_REPS; r++)); do
		# --force: the same file again would be a no-op (docs/config.md)
		timed_apply "${APPLY_PATH:-kmeshctl}" "$1" "$r" "$2" --force || return
	done
}
# 1,000 http services / 10,000 routes, each repetition: the bench mesh
# (untimed), then the file (timed: kmeshctl_routes, every table changes),
# then the same file again (timed: kmeshctl_routes_reapply, nothing
# changes: the no-op apply, docs/config.md).
apply_change_time() {	# FROM_FILE FILE
	local r
	"$KMESHCTL" apply -f "$2" >/dev/null 2>&1
	for ((r = 1; r <= APPLY_REPS; r++)); do
		"$KMESHCTL" apply -f "$1" >/dev/null 2>&1
		timed_apply kmeshctl_routes 10000 "$r" "$2" || return
		timed_apply kmeshctl_routes_reapply 10000 "$r" "$2" || return
	done
}
if [ -n "$KMESH_IS_UP" ]; then
	for n in $MEM_COUNTS; do
		kmesh_mem "$n"
	done
	for n in 10 1000; do
		mesh_yaml $((n - 4)) >"$WORK/apply-$n.yaml"
		apply_time "$n" "$WORK/apply-$n.yaml"
	done
	# 1,000 services and 10,000 routes: needs HTTP routes in the config.
	mesh_l7_yaml >"$WORK/l7-probe.yaml"
	if "$KMESHCTL" apply -f "$WORK/l7-probe.yaml" >"$WORK/apply.out" 2>&1; then
		l7_scale_yaml 1000 10 >"$WORK/apply-l7.yaml"
		apply_change_time "$WORK/mesh.yaml" "$WORK/apply-l7.yaml"
	else
		skip_row apply kmeshctl_routes "kmeshctl apply refuses the routes: $(head -n1 "$WORK/apply.out" | sed 's/^kmeshctl: //; s/^[^ ]*\.yaml:[0-9]*: //' | tr ',' ';' | cut -c1-100)" 10000
	fi
	"$KMESHCTL" apply -f "$WORK/mesh.yaml" >/dev/null 2>&1
else
	for n in $MEM_COUNTS; do
		skip_row mem kmesh_l4 "kmeshctl up failed: $KMESH_UP_ERR" "$n"
	done
fi
log "memory and apply time done"
for n in ${PROXY_MEM_COUNTS:-$MEM_COUNTS}; do
	proxy_mem haproxy "$n"
	proxy_mem nginx "$n"
done
log "proxy memory done"
skip_row mem kmesh_l7_tables "route tables live in the kmesh module: measured in the VM lanes"

# ---- traffic ----
bench_traffic "${BENCH_HOST_PATHS:-direct l4 l4redir l7 l7local haproxy nginx}"
run_inbound
run_resilience
log "done"
