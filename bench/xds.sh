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
"$top/build/kmeshctl" down >/dev/null 2>&1

echo "# $SERVICES services, $((SERVICES * ENDPOINTS_PER)) endpoints, $routes routes; first switch of a fresh agent $cold ms; runs: apply $(tr '\n' ' ' <"$out/apply.ms")ms; eds $(tr '\n' ' ' <"$out/eds.ms")ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kmesh-figure: $apply_fig $(median <"$out/apply.ms")"
echo "kmesh-figure: $eds_fig $(median <"$out/eds.ms")"
