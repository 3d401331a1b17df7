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
row info kmeshctl "" "" "" "" "" "" "" "l7 mode on this kernel: $(l7_mode); $("$KMESHCTL" version); kernel $(uname -r)"
row info load "" "" "" "" "" "" "" "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine)"

# ---- kmeshctl apply time and kernel memory vs config size ----
apply_time() {	# N FILE: one row per apply, APPLY_REPS applies
	local r t TIMEFORMAT='%R %U %S'
	# untimed: the file's ids and both slots' maps exist from here on
	"$KMESHCTL" apply -f "$2" >/dev/null 2>&1
	for ((r = 1; r <= APPLY_REPS; r++)); do
		# wall, user and system seconds of the command: wall is the figure,
		# CPU says how much of it was kmeshctl's own work on a busy machine
		# --force: the same file again would be a no-op (docs/config.md)
		if ! t=$( { time "$KMESHCTL" apply --force -f "$2" >"$WORK/apply.out" 2>&1; } 2>&1); then
			skip_row apply "${APPLY_PATH:-kmeshctl}" "apply failed: $(head -n1 "$WORK/apply.out" | tr ',' ';')" "$1"
			return
		fi
		set -- "$1" "$2" $t
		row apply "${APPLY_PATH:-kmeshctl}" "$1" "" "" "$r" "" "" \
			"$(awk -v w="$3" 'BEGIN { printf "%.2f", w * 1000 }')" \
			"wall ms of kmeshctl apply; cpu_ms $(awk -v u="$4" -v s="$5" 'BEGIN { printf "%.1f", (u + s) * 1000 }')"
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
		APPLY_PATH=kmeshctl_routes apply_time 10000 "$WORK/apply-l7.yaml"
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
bench_traffic "direct l4 l4redir l7 haproxy nginx"
run_inbound
run_resilience
log "done"
