#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench-xds`: how fast an xDS push becomes a switched kmesh
# generation, on the host (no module needed). A benchmark, not a test.
#
#   bench/xds.sh                    1,000 services / 10,000 routes, 5 runs
#   RUNS=3 SERVICES=100 bench/xds.sh
#
# The management server (selftests/xds/mgmt_server.py) serves SERVICES HTTP
# services on one listener, each a virtual host of ROUTES_PER routes and an
# EDS cluster of ENDPOINTS_PER endpoints (8 by default: 10 would be 10,000
# endpoints, over KMESH_L4_MAX_ENDPOINTS = 8192). kmesh-agent logs, for each
# switch, the time from the response's last byte off the stream to the
# generation switched (pipeline_install() returned):
#   xds_apply_ms_1000svc_10000routes  a running agent receiving the whole
#                                     mesh (after an empty one): the last
#                                     response (the one completing it) to
#                                     the switch; median over RUNS
#   xds_eds_update_ms_1000svc         one endpoint changed (one EDS push of
#                                     all clusters' assignments) to the
#                                     switch; median over RUNS, after one
#                                     unmeasured push
#   xdsbench_reapply_unchanged_ms_1000svc_10000routes (make bench prints
#                                     reapply_unchanged_ms_..., host lane)
#                                     kmeshctl apply of the file the live
#                                     generation was applied from (the
#                                     same services and routes as a mesh
#                                     file, bench/lib.sh), wall ms of the
#                                     command; median over RUNS
# Each figure's stages (userspace/lib/stage_clock.h: decode, model, lock,
# l4_build, l7_compile, L7 and L4 map writes, registry, switch) are
# printed as "#" lines, medians and ranges over the runs, and so are
# those of RUNS forced kmeshctl applies of that file.
# Output: "kmesh-figure: NAME VALUE" lines; logs in build/bench/xds/.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RUNS=${RUNS:-5}
SERVICES=${SERVICES:-1000}
ENDPOINTS_PER=${ENDPOINTS_PER:-8}
ROUTES_PER=${ROUTES_PER:-10}
out=$top/build/bench/xds
routes=$((SERVICES * ROUTES_PER))
apply_fig=xds_apply_ms_${SERVICES}svc_${routes}routes
eds_fig=xds_eds_update_ms_${SERVICES}svc

na() {
	echo "kmesh-figure: $apply_fig n/a (skipped: $1)"
	echo "kmesh-figure: $eds_fig n/a (skipped: $1)"
	echo "kmesh-figure: xdsbench_reapply_unchanged_ms_${SERVICES}svc_${routes}routes n/a (skipped: $1)"
	exit 0
}

if [ "${1:-}" != --in-netns ]; then
	[ "$(id -u)" = 0 ] || na "needs root"
	[ -x "$top/build/kmesh-agent" ] && [ -x "$top/build/kmeshctl" ] || na "build first (make)"
	cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$cg_root" ] || na "no cgroup2 mount"
	cg=$cg_root/kmesh-bench-xds-$$
	mkdir -p "$cg" "$out" || na "cannot create $cg"
	BENCH_CG=$cg unshare -m -n -p -f --mount-proc --propagation private "$0" --in-netns
	rc=$?
	rmdir "$cg" 2>/dev/null
	exit $rc
fi

mount -t bpf bpf /sys/fs/bpf || na "cannot mount a private bpffs"
ip link set lo up
export PYTHONPATH=$top/build/xds/py:$top/selftests/xds
# /run is the host's even in this mount namespace: keep the status file here.
export KMESH_AGENT_STATUS=$out/agent.status
rm -f "$out"/*.log "$out"/requests.jsonl
"$top/build/kmeshctl" up --cgroup "$BENCH_CG" >"$out/up.log" 2>&1 || na "kmeshctl up failed"
scale="scale:$SERVICES:$ENDPOINTS_PER:$ROUTES_PER"
echo "$scale" >"$out/scenario"
/usr/bin/python3 "$top/selftests/xds/mgmt_server.py" --listen 127.0.0.1:15010 \
	--scenario-file "$out/scenario" --log "$out/requests.jsonl" >"$out/server.log" 2>&1 &

# Wait until $1 has more than $2 "switched" lines (up to 120 s).
wait_switches() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(grep -c "switched .* ms after receipt" "$1" 2>/dev/null)" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
last_ms() {
	grep "switched .* ms after receipt" "$1" | tail -1 | sed 's/.*switched \([0-9.]*\) ms.*/\1/'
}
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

: >"$out/apply.ms"
: >"$out/eds.ms"
: >"$out/apply.ms.stages"
: >"$out/eds.ms.stages"
log=$out/agent.log
"$top/build/kmesh-agent" --xds 127.0.0.1:15010 >"$log" 2>&1 &
pid=$!
wait_switches "$log" 0 || na "the agent did not apply (see $log)"
# The agent's first switch pays once for the process (libbpf opening the
# pinned state, BTF): reported, not the figure.
cold=$(last_ms "$log")
# Switch the server to scenario $1 and wait for the switch that completes
# it: a response of that scenario (its version names it) applied with $2
# services; its time is appended to file $3 (if given).
set_scenario() {
	local i line
	echo "$1" >"$out/scenario.tmp" && mv "$out/scenario.tmp" "$out/scenario"
	for ((i = 0; i < 1200; i++)); do
		line=$(grep -F "version $1-" "$log" | grep -F "($2 services" | grep -F switched | tail -1)
		[ -n "$line" ] && break
		sleep 0.1
	done
	[ -n "$line" ] || na "$1 was not applied (see $log)"
	[ -z "${3:-}" ] || echo "$line" | sed 's/.*switched \([0-9.]*\) ms.*/\1/' >>"$3"
	[ -z "${3:-}" ] || echo "$line" | sed -n 's/.*; stages ms: //p' >>"$3.stages"
}
# Per-stage medians of file $1 (lines "name ms name ms ..."; "-": the
# stage did not run): "name median (min-max)" per stage, in order.
stage_medians() {
	awk '{ for (i = 1; i < NF; i += 2) { if (!(($i) in seen)) { seen[$i] = 1; order[++n] = $i }
		if ($(i + 1) != "-") v[$i] = v[$i] " " $(i + 1) } }
	END { for (k = 1; k <= n; k++) { m = split(v[order[k]], a, " ")
		if (!m) { printf "%s%s -", (k > 1 ? ", " : ""), order[k]; continue }
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		med = m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		printf "%s%s %.2f (%s-%s)", (k > 1 ? ", " : ""), order[k], med, a[1], a[m] } print "" }' "$1"
}
# The whole mesh pushed to a running agent: from an empty mesh to the
# full one, the last response (completing it) to the switch.
for ((r = 1; r <= RUNS; r++)); do
	set_scenario "scale:0:$ENDPOINTS_PER:$ROUTES_PER:$r" 0
	set_scenario "$scale:$((100 + r))" "$SERVICES" "$out/apply.ms"
done
# One endpoint moved. The first push is not measured: it goes into the
# slot the empty mesh left above, which the agent must write whole (every
# later one finds there the mesh it wrote two switches before, as an agent
# following a live mesh does, and writes what changed: docs/xds.md).
set_scenario "$scale:0" "$SERVICES"
for ((r = 1; r <= RUNS; r++)); do
	set_scenario "$scale:$r" "$SERVICES" "$out/eds.ms"
done
kill "$pid"
wait "$pid" 2>/dev/null
grep -q "ClusterLoadAssignment version" "$log" || na "the updates were not EDS pushes"

# The same compile path from a file: kmeshctl apply of SERVICES http
# services with ROUTES_PER routes each (bench/lib.sh's l7_scale_yaml, the
# host lane's apply file), RUNS applies with --force (each compiles and
# installs) for the stage breakdown, then RUNS re-applies of the unchanged
# file (a no-op: docs/config.md), wall ms of the command.
. "$here/lib.sh"
reapply_fig=xdsbench_reapply_unchanged_ms_${SERVICES}svc_${routes}routes
l7_scale_yaml "$SERVICES" "$ROUTES_PER" >"$out/apply.yaml"
# a fresh pinned state: the id registry keeps the xDS mesh's ids, and
# both meshes' would not fit in it
"$top/build/kmeshctl" down >/dev/null 2>&1
"$top/build/kmeshctl" up --cgroup "$BENCH_CG" >>"$out/up.log" 2>&1
: >"$out/kmeshctl.ms.stages"
: >"$out/kmeshctl.ms"
: >"$out/reapply.ms"
wall_ms() {	# COMMAND...: run it, print its wall ms; stdout to $out/cmd.out
	local s e
	s=$EPOCHREALTIME	# bash's clock: no process around the command
	"$@" >"$out/cmd.out" 2>&1 || return 1
	e=$EPOCHREALTIME
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f\n", (e - s) * 1000 }'
}
reapply=ok
# untimed: both slots get their maps (later applies refill them in place)
for r in 1 2; do
	"$top/build/kmeshctl" apply --force -f "$out/apply.yaml" >"$out/cmd.out" 2>&1 ||
		reapply="apply failed: $(head -1 "$out/cmd.out")"
done
for ((r = 1; r <= RUNS; r++)); do
	[ "$reapply" = ok ] || break
	wall_ms "$top/build/kmeshctl" apply --force --timings -f "$out/apply.yaml" >>"$out/kmeshctl.ms" || { reapply="apply failed: $(head -1 "$out/cmd.out")"; break; }
	sed -n 's/^stages ms: //p' "$out/cmd.out" >>"$out/kmeshctl.ms.stages"
done
for ((r = 1; r <= RUNS; r++)); do
	[ "$reapply" = ok ] || break
	wall_ms "$top/build/kmeshctl" apply -f "$out/apply.yaml" >>"$out/reapply.ms" &&
		grep -q "^unchanged: " "$out/cmd.out" || { reapply="the re-apply was not a no-op: $(head -1 "$out/cmd.out")"; break; }
done
"$top/build/kmeshctl" down >/dev/null 2>&1

echo "# $SERVICES services, $((SERVICES * ENDPOINTS_PER)) endpoints, $routes routes; first switch of a fresh agent $cold ms; runs: apply $(tr '\n' ' ' <"$out/apply.ms")ms; eds $(tr '\n' ' ' <"$out/eds.ms")ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
# Where the time goes, stage by stage (stage_clock.h; ms, median (min-max)
# over the runs; the stages' sum is the figure up to the log's rounding).
echo "# apply stages ms: $(stage_medians "$out/apply.ms.stages")"
echo "# eds stages ms: $(stage_medians "$out/eds.ms.stages")"
echo "# kmeshctl apply --force of the file, runs: $(tr '\n' ' ' <"$out/kmeshctl.ms")ms; stages ms: $(stage_medians "$out/kmeshctl.ms.stages")"
echo "kmesh-figure: $apply_fig $(median <"$out/apply.ms")"
echo "kmesh-figure: $eds_fig $(median <"$out/eds.ms")"
if [ "$reapply" = ok ]; then
	echo "# kmeshctl apply of the unchanged file, runs: $(tr '\n' ' ' <"$out/reapply.ms")ms"
	echo "kmesh-figure: $reapply_fig $(median <"$out/reapply.ms")"
else
	echo "kmesh-figure: $reapply_fig n/a (skipped: $reapply)"
fi
