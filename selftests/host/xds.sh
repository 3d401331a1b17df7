#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The xDS node agent on the host's own kernel (BPF without the module):
# kmesh-agent holds an ADS stream to a real gRPC management server
# (selftests/xds/mgmt_server.py on Debian's grpcio, serving an istiod-shaped
# mesh from selftests/xds/fixtures.py) and real traffic (curl from a child
# cgroup to python HTTP endpoints on loopback) follows what xDS says:
# routes, endpoint updates, a NACKed update, the server and the agent going
# away and coming back. Runs in private mount, network and pid namespaces
# with its own bpffs; the cgroup is created here and always removed.
#
#   selftests/host/xds.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

if [ "${KMESH_XDS_INNER:-}" != 1 ]; then
	cg_root=${KMESH_CGROUP2:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)}
	cg=$cg_root/kmesh-host-xds-$$
	why=
	if [ "$(id -u)" != 0 ]; then
		why="needs root"
	elif [ -z "$cg_root" ] || [ ! -w "$cg_root/cgroup.procs" ]; then
		why="no writable cgroup2 mount"
	elif ! unshare -m -n -p -f true 2>/dev/null; then
		why="cannot create mount, network and pid namespaces"
	elif [ ! -x "$top/build/kmeshctl" ] || [ ! -x "$top/build/kmesh-agent" ] ||
	     [ ! -d "$top/build/xds/py/envoy" ]; then
		why="build first (make)"
	elif ! /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
		why="python3-grpcio missing (scripts/install-deps.sh)"
	elif ! command -v curl >/dev/null; then
		why="curl missing"
	elif [ ! -e /sys/kernel/btf/vmlinux ]; then
		why="kernel without BTF"
	fi
	if [ -z "$why" ] && ! mkdir "$cg"; then
		why="cannot create $cg"
	fi
	if [ -n "$why" ]; then
		. "$here/tap.sh"
		skip "xds host: agent" "$why"
		tap_done
		exit
	fi
	t=$(mktemp -d)
	# The pid namespace's end kills whatever the test left running.
	KMESH_XDS_INNER=1 KMESH_XDS_CG=$cg KMESH_XDS_TMP=$t \
		unshare -m -n -p -f --mount-proc --propagation private bash "$0"
	rc=$?
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		rmdir "$cg" 2>/dev/null && break
		sleep 0.2
	done
	if [ "${KMESH_XDS_KEEP:-}" = 1 ]; then
		echo "# logs kept in $t" >&2
	else
		rm -rf "$t"
	fi
	exit $rc
fi

# ---- inside the namespaces ----
. "$here/tap.sh"
cg=$KMESH_XDS_CG
t=$KMESH_XDS_TMP
kmeshctl=$top/build/kmeshctl
agent=${KMESH_AGENT:-$top/build/kmesh-agent}
py=/usr/bin/python3
export PYTHONPATH=$top/build/xds/py:$top/selftests/xds
export KMESH_AGENT_STATUS=$t/agent.status
server_addr=127.0.0.1:15010

mount -t bpf bpf /sys/fs/bpf || { skip "xds host: agent" "cannot mount a private bpffs"; tap_done; exit; }
ip link set lo up

# Run a command in the meshed cgroup.
meshed() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}
get() {
	meshed curl -sS -m 3 "$@"
}
# Poll (up to $1 seconds) until the command succeeds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@"
}
generation() {
	"$kmeshctl" dump 2>/dev/null | sed -n 's/^generation //p'
}
start_server() {
	"$py" "$top/selftests/xds/mgmt_server.py" --listen "$server_addr" \
		--scenario-file "$t/scenario" --log "$t/requests.jsonl" >>"$t/server.out" 2>&1 &
	server_pid=$!
}
start_agent() {
	"$agent" --xds "$server_addr" --node-id "kmesh~127.0.0.1~node-1~cluster.local" \
		--cluster kmesh-test --metadata NAMESPACE=default --metadata CLUSTER_ID=Kubernetes \
		>>"$t/agent.log" 2>&1 &
	agent_pid=$!
}
scenario() {
	echo "$1" >"$t/scenario.tmp" && mv "$t/scenario.tmp" "$t/scenario"
}
# The last request the server logged of this kind and type (JSON).
last_event() {
	grep "\"event\": \"$1\"" "$t/requests.jsonl" | grep "\"type\": \"$2\"" | tail -1
}
json() {
	"$py" -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"
}
# How many of N requests to URL each endpoint answered: "127.0.0.11=5 ..."
spread() {
	local n=$1 url=$2 i
	for ((i = 0; i < n; i++)); do
		get "$url" | sed -n 's/^ep=\([^ ]*\) .*/\1/p'
	done | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'
}
expect_only() {	# expect_only EP N URL: every one of N requests reaches EP
	local out
	out=$(spread "$2" "$3")
	[ "$out" = "$1=$2 " ] || { echo "want $1=$2, got: $out"; return 1; }
}

for ep in 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16; do
	"$py" "$top/selftests/xds/backend.py" "$ep" 8080 &
done
"$kmeshctl" up --cgroup "$cg" >"$t/up.out" 2>&1 ||
	{ check "xds: kmeshctl up" cat "$t/up.out"; tap_done; exit; }

scenario initial
start_server
start_agent

check "xds: the agent applies the initial snapshot once every type has arrived" \
	wait_for 15 grep -q "RouteConfiguration version initial-[0-9]*: applied as generation 1 (3 services, 4 clusters)" "$t/agent.log"
for type in Cluster ClusterLoadAssignment Listener RouteConfiguration; do
	check "xds: $type ACKed with the response's version_info and nonce" sh -c '
		resp=$(grep "\"event\": \"response\"" "$1" | grep "\"type\": \"$2\"" | tail -1)
		ack=$(grep "\"event\": \"ack\"" "$1" | grep "\"type\": \"$2\"" | tail -1)
		[ -n "$ack" ] || { echo "no ACK of $2"; exit 1; }
		v() { printf "%s" "$1" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d[\"version_info\"], d[\"nonce\"])"; }
		[ "$(v "$resp")" = "$(v "$ack")" ] || { echo "response $(v "$resp") acked as $(v "$ack")"; exit 1; }' \
		sh "$t/requests.jsonl" "$type"
done
check "xds: the node identity (id, cluster, metadata) reaches the server" sh -c '
	grep -q "\"node\": \"kmesh~127.0.0.1~node-1~cluster.local\"" "$1" &&
	grep -q "\"node_cluster\": \"kmesh-test\", \"node_metadata\": {\"CLUSTER_ID\": \"Kubernetes\", \"NAMESPACE\": \"default\"}" "$1"' sh "$t/requests.jsonl"
check "xds: EDS and RDS are asked for by the names CDS and LDS refer to (not the inline routes)" sh -c '
	grep "\"event\": \"request\"" "$1" | grep -q "\"names\": \[\"outbound|5000||db.default.svc.cluster.local\", \"outbound|8000||api.default.svc.cluster.local\", \"outbound|80|v2|web.default.svc.cluster.local\", \"outbound|80||web.default.svc.cluster.local\"\], .*\"type\": \"ClusterLoadAssignment\"" &&
	grep "\"event\": \"request\"" "$1" | grep -q "\"names\": \[\"80\"\], .*\"type\": \"RouteConfiguration\""' sh "$t/requests.jsonl"
cp_status() {	# cp_status PATTERN...: kmeshctl status shows every one
	local out p
	out=$("$kmeshctl" status 2>&1)
	for p in "$@"; do
		printf '%s\n' "$out" | grep -q -- "$p" || { printf '%s\n' "$out" | grep -A8 "^control plane"; echo "missing: $p"; return 1; }
	done
}
# The agent rewrites its status file right after it logs: poll briefly.
check "xds: kmeshctl status shows the server connected and the ACKed versions and nonces" \
	wait_for 5 cp_status "^control plane: xDS server 127.0.0.1:15010, connected since " \
		"^  ACKed Cluster  *version initial-[0-9]* nonce [0-9]" \
		"^  ACKed RouteConfiguration  *version initial-[0-9]* nonce [0-9]" \
		"updates applied 1, rejected 0; last generation applied 1"
prom_has() {	# prom_has LINE...: kmeshctl stats --prometheus prints each exactly
	local out l
	out=$("$kmeshctl" stats --prometheus 2>&1)
	for l in "$@"; do
		printf '%s\n' "$out" | grep -qxF -- "$l" || { printf '%s\n' "$out" | grep kmesh_xds; echo "missing: $l"; return 1; }
	done
}
check "xds: Prometheus: updates by type and result, connected, switch time" wait_for 5 sh -c '
	"$1" stats --prometheus >"$2/prom1" &&
	grep -qx "kmesh_xds_updates_total{type=\"RouteConfiguration\",result=\"applied\"} 1" "$2/prom1" &&
	grep -qx "kmesh_xds_updates_total{type=\"Cluster\",result=\"accepted\"} 1" "$2/prom1" &&
	grep -qx "kmesh_xds_updates_total{type=\"Cluster\",result=\"rejected\"} 0" "$2/prom1" &&
	grep -qx "kmesh_xds_connected 1" "$2/prom1" &&
	grep -qx "kmesh_xds_switches_total 1" "$2/prom1" &&
	grep -qE "^kmesh_xds_switch_seconds_total [0-9]+\.[0-9]+$" "$2/prom1" &&
	grep -qE "^kmesh_xds_last_switch_seconds [0-9]+\.[0-9]+$" "$2/prom1"' sh "$kmeshctl" "$t"
check "xds: ...and the scrape, the agent's metrics included, is well-formed Prometheus text" \
	awk -f "$here/prom_wellformed.awk" "$t/prom1"
check "xds: the catch-all allow_any virtual host is reported as not applicable" \
	grep -q "virtual_hosts\[1\] 'allow_any'): no IP address among its domains: not applicable" "$t/agent.log"
check "xds: HTTP to the VIP takes the default route to web's endpoint" \
	expect_only 127.0.0.11 3 http://10.96.0.10/index
check "xds: the host:port form of the VIP reaches the same service" \
	sh -c "$(declare -f meshed get); cg='$cg'; get -H 'Host: 10.96.0.10:80' http://10.96.0.10/x | grep -q '^ep=127.0.0.11 '"
# Routing to another cluster per request needs the module's deferred
# connect (kfunc mode); in fallback mode the connect takes the port's
# cluster and the route is decided (and counted) per request
# (docs/config.md, "routes").
v2_route() {
	if "$kmeshctl" status 2>/dev/null | grep -q "l7 requests: *kfunc mode"; then
		expect_only 127.0.0.12 3 http://10.96.0.10/v2/items
	else
		expect_only 127.0.0.11 3 http://10.96.0.10/v2/items &&
		"$kmeshctl" stats | grep -q "^http web.default.svc.cluster.local_80 route v2 GET: allowed 3 "
	fi
}
check "xds: a prefix route takes /v2 (to the v2 subset in kfunc mode; named in the counters in fallback mode)" \
	v2_route
not_my_host() {
	local code
	code=$(get -o /dev/null -w '%{http_code}' -H 'Host: other.example' http://10.96.0.10/)
	[ "$code" = 404 ] || { echo "status $code"; return 1; }
}
check "xds: a Host outside the virtual host's domains gets 404 (no route)" not_my_host
check "xds: a direct response answers without any endpoint" \
	sh -c "$(declare -f meshed get); cg='$cg'; [ \"\$(get http://10.96.0.10/hello)\" = 'hello from xds' ]"
status_of() {	# status_of URL WANT
	local code
	code=$(get -o /dev/null -w '%{http_code}' "$1")
	[ "$code" = "$2" ] || { echo "$1: status $code, want $2"; return 1; }
}
check "xds: an HTTP RBAC DENY policy (istiod's and_rules/or_rules shape) refuses /admin with 403" \
	status_of http://10.96.0.10/admin/users 403
check "xds: ...and lets other paths through" \
	status_of http://10.96.0.10/public 200
check "xds: a TCP proxy listener on VIP:port reaches its cluster (maglev)" \
	expect_only 127.0.0.13 3 http://10.96.0.20:5000/db
check "xds: an HTTP listener on one VIP:port with inline routes: weighted_clusters" \
	expect_only 127.0.0.16 3 http://10.96.0.30:8000/x
check "xds: ...and its inline direct response" \
	status_of http://10.96.0.30:8000/teapot 418
check "xds: path_with_escaped_slashes_action REJECT_REQUEST: a path with %2F is refused (400)" \
	status_of "http://10.96.0.30:8000/x%2Fy" 400
check "xds: ...Envoy's default (KEEP_UNCHANGED): %2F is matched as sent, passed" \
	status_of "http://10.96.0.10/public%2Fx" 200
check "xds: kmeshctl dump shows istiod's cluster names mapped, the lb policies, connect_timeout (Envoy's 5s when left out) and outlier_detection" sh -c '
	"$1" dump >"$2/dump1" &&
	grep -q "^cluster outbound_80__web.default.svc.cluster.local (id [0-9]*) lb round_robin.* connect_timeout_ms 10000$" "$2/dump1" &&
	grep -q "^  outlier_detection consecutive_5xx 7 consecutive_gateway_errors 0 consecutive_connect_failures 0 interval_ms 10000 base_ejection_ms 15000 max_ejection_ms 300000 max_ejection_percent 100 min_health_percent 0$" "$2/dump1" &&
	grep -q "^cluster outbound_5000__db.default.svc.cluster.local (id [0-9]*) lb maglev" "$2/dump1" &&
	grep -q "^cluster outbound_8000__api.default.svc.cluster.local (id [0-9]*) lb weighted.* connect_timeout_ms 5000$" "$2/dump1" &&
	grep -q "^service db.default.svc.cluster.local-5000 (id [0-9]*) 10.96.0.20:5000/tcp" "$2/dump1"' sh "$kmeshctl" "$t"
check "xds: an EDS locality at priority 1 stands by while priority 0 has a healthy endpoint" \
	grep -q "^  endpoint 1 127.0.0.14:8080 (id [0-9]*) weight 1 standby$" "$t/dump1"

# ---- the fixtures read by an independent xDS client ----
# gRPC's own xDS resolver for Node (@grpc/grpc-js-xds) resolves web through
# the same server: its API-listener form of the listener (what istiod gives
# a proxyless gRPC client), the same RouteConfiguration, Clusters and
# ClusterLoadAssignments; it NACKs what it finds malformed, so the agent and
# the fixtures cannot share a mistake unseen.
grpc_client=$top/selftests/xds/grpc_xds_client.js
if ! command -v node >/dev/null; then
	skip "xds: an independent xDS client (@grpc/grpc-js-xds) reads the fixtures" "node missing"
elif ! "$top/scripts/xds-client-deps.sh" >"$t/npm.log" 2>&1; then
	skip "xds: an independent xDS client (@grpc/grpc-js-xds) reads the fixtures" \
		"npm install failed: $(tail -1 "$t/npm.log")"
else
	GRPC_TRACE=subchannel GRPC_VERBOSITY=DEBUG NODE_PATH=$top/build/xds/client/node_modules \
		timeout 60 node "$grpc_client" "$server_addr" web.default.svc.cluster.local:80 4000 \
		>"$t/grpc-client.out" 2>&1
	grpc_acked() {
		local ty
		for ty in Listener RouteConfiguration Cluster ClusterLoadAssignment; do
			grep '"node": "proxyless~' "$t/requests.jsonl" | grep '"event": "ack"' |
				grep -q "\"type\": \"$ty\"" || { echo "no ACK of $ty from the gRPC client"; return 1; }
		done
		if grep '"node": "proxyless~' "$t/requests.jsonl" | grep -q '"event": "nack"'; then
			grep '"node": "proxyless~' "$t/requests.jsonl" | grep '"event": "nack"' | head -3
			return 1
		fi
	}
	check "xds: @grpc/grpc-js-xds ACKs the same routes, clusters and endpoints (API-listener form), no NACK" \
		grpc_acked
	# 127.0.0.14 is the v2 subset's priority-1 standby: the test backend
	# speaks HTTP/1, so gRPC's call fails on 127.0.0.12 and gRPC fails over
	# to it, as priorities say; .13, .15 and .16 it must never try
	check "xds: ...and connects to the endpoints EDS gives (web 127.0.0.11, its v2 subset 127.0.0.12)" sh -c '
		grep -q "subchannel | ([0-9]*) 127.0.0.11:8080 IDLE -> CONNECTING" "$1" &&
		grep -q "subchannel | ([0-9]*) 127.0.0.12:8080 IDLE -> CONNECTING" "$1" &&
		! grep -q "subchannel | ([0-9]*) 127.0.0.1[356]:8080 IDLE" "$1"' sh "$t/grpc-client.out"
	# gRPC applies RBAC on servers only: an XdsServer takes the mesh's
	# RBAC filter message on its listener, a gRPC client calls it.
	GRPC_XDS_EXPERIMENTAL_RBAC=true NODE_PATH=$top/build/xds/client/node_modules \
		timeout 60 node "$top/selftests/xds/grpc_xds_server.js" "$server_addr" 127.0.0.1:50051 \
		>"$t/grpc-server.out" 2>&1
	grpc_server_acked() {
		grep '"node": "proxyless-server~' "$t/requests.jsonl" | grep '"event": "ack"' |
			grep -q '"type": "Listener"' || { echo "no ACK of the server's Listener"; cat "$t/grpc-server.out"; return 1; }
		! grep '"node": "proxyless-server~' "$t/requests.jsonl" | grep '"event": "nack"'
	}
	check "xds: @grpc/grpc-js-xds's xDS server ACKs a listener holding the mesh's RBAC filter" \
		grpc_server_acked
	check "xds: ...and its RBAC engine denies a method under /admin (the DENY rule) and allows another" sh -c '
		grep -qx "call /admin.Users/Get PERMISSION_DENIED" "$1" &&
		grep -qx "call /public.Items/Get OK" "$1" || { cat "$1"; exit 1; }' sh "$t/grpc-server.out"
fi

# ---- EDS updates ----
nacks() {
	grep '"event": "nack"' "$t/requests.jsonl" | grep -c "\"type\": \"$1\""
}
nack_is() {	# nack_is TYPE EXPECTED-PREFIX
	local msg
	msg=$(last_event nack "$1" | json error_detail)
	case "$msg" in
	"$2"*) ;;
	*) echo "error_detail: $msg"; echo "want: $2..."; return 1 ;;
	esac
}
gen=$(generation)
scenario scale-up
check "xds: an endpoint added by EDS is applied as a new generation" \
	wait_for 10 sh -c "[ \"\$('$kmeshctl' dump | sed -n 's/^generation //p')\" -gt $gen ]"
both_endpoints() {
	local out
	out=$(spread 10 http://10.96.0.10/)
	case "$out" in
	"127.0.0.11="*" 127.0.0.14="*" ") ;;
	*) echo "got: $out"; return 1 ;;
	esac
}
check "xds: ...and new connections spread over both endpoints, none to the UNHEALTHY one" \
	both_endpoints
gen=$(generation)
scenario drain
check "xds: an endpoint marked DRAINING by EDS is applied" \
	wait_for 10 sh -c "[ \"\$('$kmeshctl' dump | sed -n 's/^generation //p')\" -gt $gen ]"
check "xds: ...and takes no new connections" \
	expect_only 127.0.0.14 10 http://10.96.0.10/
check "xds: ...dump shows it draining" \
	sh -c "'$kmeshctl' dump | grep -q '127.0.0.11:8080 (id [0-9]*) weight 1 draining'"
gen=$(generation)
scenario scale-down
check "xds: an endpoint removed by EDS is applied" \
	wait_for 10 sh -c "[ \"\$('$kmeshctl' dump | sed -n 's/^generation //p')\" -gt $gen ]"
check "xds: ...and no new connection goes to the removed endpoint" \
	expect_only 127.0.0.14 10 http://10.96.0.10/
# After its first two switches the agent writes only what differs from
# what the slot held; the maps must be those a whole install of the same
# state gives: a second agent (no memory of the slots) installs it whole.
check "xds: ...that EDS update was installed as what changed (the slot held the agent's generation)" \
	grep -q "ClusterLoadAssignment version scale-down-[0-9]*: applied as generation .*installed what changed)" "$t/agent.log"
# Listeners, routes and clusters unchanged: the agent kept the applied
# model and translated again only the assignments that changed.
check "xds: ...those EDS updates (scale-up, drain, scale-down) were translated alone" sh -c '
	for v in scale-up drain scale-down; do
		grep -q "ClusterLoadAssignment version $v-[0-9]*: applied as generation .*translated by [0-9.]* ms: changed assignments," "$1" ||
			{ echo "$v: not translated alone"; exit 1; }
	done' sh "$t/agent.log"
if command -v bpftool >/dev/null; then
	"$py" "$here/gen_dump.py" >"$t/maps.incremental" 2>"$t/maps.err"
	gen=$(generation)
	KMESH_AGENT_STATUS=$t/agent-whole.status "$agent" --xds "$server_addr" \
		--node-id "kmesh~127.0.0.1~node-1~cluster.local" >"$t/agent-whole.log" 2>&1 &
	whole_pid=$!
	check "xds: a second agent installs the same state whole" \
		wait_for 20 grep -q "applied as generation $((gen + 1)) .*installed whole)" "$t/agent-whole.log"
	kill "$whole_pid"
	wait "$whole_pid" 2>/dev/null
	"$py" "$here/gen_dump.py" >"$t/maps.whole" 2>>"$t/maps.err"
	check "xds: ...every map entry of the generation is what the incremental install left ($(wc -l <"$t/maps.whole") entries)" sh -c '
		[ "$(grep -c "^kmesh_endpoints " "$1")" -gt 0 ] && diff "$1" "$2" && ! [ -s "$3" ]' \
		sh "$t/maps.incremental" "$t/maps.whole" "$t/maps.err"
	check "xds: ...and still no new connection goes to the removed endpoint" \
		expect_only 127.0.0.14 10 http://10.96.0.10/
	# EDS updates kmesh refuses, taken alone: NACKed with the error a
	# whole translation gives; maps and traffic as they were (with
	# endpoint-address, db's valid change translated before web's bad one
	# must not stay either).
	gen=$(generation)
	"$py" "$here/gen_dump.py" >"$t/maps.before-bad" 2>>"$t/maps.err"
	while IFS=$'\t' read -r name type want; do
		case $name in endpoint-*) ;; *) continue ;; esac
		before=$(nacks ClusterLoadAssignment)
		scenario "bad:$name"
		if wait_for 10 sh -c "[ \$(grep '\"event\": \"nack\"' '$t/requests.jsonl' | grep -c '\"type\": \"ClusterLoadAssignment\"') -gt $before ]"; then
			check "xds: an EDS update alone, $name, is NACKed: $want" \
				nack_is ClusterLoadAssignment "$want"
		else
			check "xds: an EDS update alone, $name, is NACKed: $want" \
				sh -c "echo no NACK of ClusterLoadAssignment came; false"
		fi
		check "xds: ...switched nothing (generation $gen stays)" \
			sh -c "[ \"\$('$kmeshctl' dump | sed -n 's/^generation //p')\" = $gen ]"
		"$py" "$here/gen_dump.py" >"$t/maps.after-bad" 2>>"$t/maps.err"
		check "xds: ...every map entry as it was" \
			sh -c 'diff "$1" "$2" && ! [ -s "$3" ]' sh "$t/maps.before-bad" "$t/maps.after-bad" "$t/maps.err"
		check "xds: ...and traffic on the last good config" \
			expect_only 127.0.0.14 5 http://10.96.0.10/
		last_bad_want=$want
	done < <("$py" "$top/selftests/xds/fixtures.py" bad-cases)
	# An agent that meets the same state translates it whole: it refuses
	# it with the very same error.
	KMESH_AGENT_STATUS=$t/agent-bad.status "$agent" --xds "$server_addr" \
		--node-id "kmesh~127.0.0.1~node-1~cluster.local" >"$t/agent-bad.log" 2>&1 &
	bad_pid=$!
	check "xds: ...a whole translation of that state gives the same error" \
		wait_for 20 grep -qF ": $last_bad_want" "$t/agent-bad.log"
	kill "$bad_pid"
	wait "$bad_pid" 2>/dev/null
	check "xds: ...and applied nothing (generation $gen stays)" \
		sh -c "[ \"\$('$kmeshctl' dump | sed -n 's/^generation //p')\" = $gen ]"
else
	skip "xds: a second agent installs the same state whole" "bpftool missing"
	skip "xds: ...every map entry of the generation is what the incremental install left" "bpftool missing"
fi

# ---- a service deleted, then back ----
gen=$(generation)
scenario no-db
check "xds: a service removed from CDS/EDS/LDS is applied" \
	wait_for 10 sh -c "'$kmeshctl' dump | grep -q '^generation' && ! '$kmeshctl' dump | grep -q '10.96.0.20:5000'"
db_gone() {
	if get -o /dev/null http://10.96.0.20:5000/ 2>/dev/null; then
		echo "10.96.0.20:5000 still answers"
		return 1
	fi
}
check "xds: ...its address is no longer steered anywhere" db_gone
if [ -s "$t/maps.whole" ]; then
	check "xds: ...written whole by the first agent: the second one switched since" \
		grep -q "version no-db-[0-9]*: applied as generation .*installed whole)" "$t/agent.log"
fi
check "xds: ...and the other services are untouched" \
	expect_only 127.0.0.14 3 http://10.96.0.10/
scenario scale-down
check "xds: the service added back is steered again" \
	wait_for 10 sh -c "$(declare -f meshed get); cg='$cg'; get http://10.96.0.20:5000/ | grep -q '^ep=127.0.0.13 '"

# ---- a resource kmesh cannot express ----
gen=$(generation)
good_cds=$(last_event ack Cluster | json version_info)
scenario bad-cluster
check "xds: a Cluster with lb_subset_config is NACKed" \
	wait_for 10 sh -c "grep '\"event\": \"nack\"' '$t/requests.jsonl' | grep -q '\"type\": \"Cluster\"'"
nack=$(last_event nack Cluster)
check "xds: the NACK's error_detail names the resource and the field" sh -c '
	msg=$(printf "%s" "$1" | "$2" -c "import json,sys; print(json.load(sys.stdin)[\"error_detail\"])")
	echo "error_detail: $msg"
	case "$msg" in
	"Cluster '"'"'outbound|80||web.default.svc.cluster.local'"'"'.lb_subset_config: not supported by kmesh"*) ;;
	*) exit 1 ;; esac' sh "$nack" "$py"
nack_fields() {
	[ "$(printf "%s" "$nack" | json error_code)" = 3 ] &&
	[ "$(printf "%s" "$nack" | json version_info)" = "$good_cds" ] ||
		{ echo "NACK: $nack (last good: $good_cds)"; return 1; }
}
check "xds: the NACK carries INVALID_ARGUMENT and the last good version" nack_fields
check "xds: kmeshctl status shows the last NACK and its reason" \
	wait_for 5 cp_status "^  last NACK: Cluster version bad-cluster-[0-9]* at .*: Cluster 'outbound|80||web.default.svc.cluster.local'.lb_subset_config: not supported"
check "xds: Prometheus counts the rejected Cluster update" \
	wait_for 5 prom_has 'kmesh_xds_updates_total{type="Cluster",result="rejected"} 1'
check "xds: the NACKed update switched nothing (generation $gen stays)" \
	sh -c "[ \"\$('$kmeshctl' dump | sed -n 's/^generation //p')\" = $gen ]"
check "xds: ...and traffic keeps the last good config" \
	expect_only 127.0.0.14 5 http://10.96.0.10/

gen=$(generation)
good_lds=$(last_event ack Listener | json version_info)
scenario bad-rbac
check "xds: an RBAC principal kmesh cannot check (authenticated) is NACKed" \
	wait_for 10 sh -c "grep '\"event\": \"nack\"' '$t/requests.jsonl' | grep -q '\"type\": \"Listener\"'"
nack=$(last_event nack Listener)
rbac_nack() {
	local msg
	msg=$(printf "%s" "$nack" | json error_detail)
	echo "error_detail: $msg"
	case "$msg" in
	"Listener '0.0.0.0_80': filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.rules.policies['ns[default]-policy[deny-admin]-rule[0]'].principals[0].authenticated: not supported"*) ;;
	*) return 1 ;;
	esac
	[ "$(printf "%s" "$nack" | json version_info)" = "$good_lds" ]
}
check "xds: ...the error_detail walks from the Listener to the principal" rbac_nack
check "xds: ...and the DENY policy of the last good Listener still holds" \
	status_of http://10.96.0.10/admin/users 403

# More of what kmesh cannot express, one resource at a time: each is
# NACKed with an error_detail naming the resource and the field.
while IFS=$'\t' read -r name type want; do
	before=$(nacks "$type")
	scenario "bad:$name"
	if wait_for 10 sh -c "[ \$(grep '\"event\": \"nack\"' '$t/requests.jsonl' | grep -c '\"type\": \"$type\"') -gt $before ]"; then
		check "xds: NACK $name: $want" nack_is "$type" "$want"
	else
		check "xds: NACK $name: $want" sh -c "echo no NACK of $type came; false"
	fi
done < <("$py" "$top/selftests/xds/fixtures.py" bad-cases)
check "xds: after every NACK, traffic is on the last good config" \
	expect_only 127.0.0.14 5 http://10.96.0.10/
check "xds: ...and so is the DENY policy" \
	status_of http://10.96.0.10/admin/users 403

# ---- what an unmodified istiod adds: accepted as not applicable ----
scenario istiod-defaults
check "xds: istiod's default HTTP filters and route retry policies are accepted and applied (no NACK)" \
	wait_for 10 grep -q "version istiod-defaults-[0-9]*: applied as generation" "$t/agent.log"
na_logged() {	# na_logged PATTERN...: the agent logged each note
	local p
	for p in "$@"; do
		grep -q -- "$p" "$t/agent.log" || { echo "not logged: $p"; return 1; }
	done
}
check "xds: ...each is logged once as not applicable: retry_policy, telemetry and empty placeholder HTTP filters" \
	na_logged "routes\[0\].route.retry_policy: not applicable (kmesh makes no retries)" \
		"'istio.metadata_exchange' (type.googleapis.com/io.istio.http.peer_metadata.Config): telemetry, not applicable" \
		"'istio.stats' (type.googleapis.com/stats.PluginConfig): telemetry, not applicable" \
		"'envoy.filters.http.fault' (type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault), empty: not applicable"
check "xds: ...istiod's connection manager settings: access log, tracing, request ids, websocket upgrades, path normalization; per route and virtual host: stream duration, attempt count" \
	na_logged "typed_config.access_log: not applicable (kmesh's own access log" \
		"typed_config.tracing: not applicable (kmesh makes no spans" \
		"typed_config: request ids: not applicable" \
		"typed_config: normalize_path/merge_slashes: kmesh refuses (400)" \
		"route.max_stream_duration.grpc_timeout_header_max: not applicable" \
		"include_request_attempt_count: not applicable"
check "xds: ...istiod's KEEP_UNCHANGED: %2F is matched as sent (passed, not refused)" \
	status_of "http://10.96.0.10/public%2Fx" 200
check "xds: ...and a DENY on /admin still holds for /admin%2Fusers" \
	status_of "http://10.96.0.10/admin%2Fusers" 403
check "xds: ...the cluster defaults (mTLS transport_socket_matches, protocol options, locality lb, upstream filters)" \
	na_logged "Cluster 'outbound|80||web.default.svc.cluster.local'.transport_socket_matches: not applicable (kmesh has no mTLS" \
		"Cluster 'outbound|80||web.default.svc.cluster.local'.typed_extension_protocol_options: not applicable" \
		"Cluster 'outbound|80||web.default.svc.cluster.local'.common_lb_config: not applicable" \
		"Cluster 'outbound|80||web.default.svc.cluster.local'.filters: not applicable (istio.metadata_exchange"
check "xds: ...istiod's catch-all clusters, capture listeners and listener filters" \
	na_logged "Cluster 'PassthroughCluster': istiod's catch-all cluster: not applicable" \
		"Cluster 'BlackHoleCluster': istiod's catch-all cluster: not applicable" \
		"Cluster 'InboundPassthroughClusterIpv4': istiod's catch-all cluster: not applicable" \
		"Listener 'virtualOutbound': a sidecar's capture listener: not applicable" \
		"Listener 'virtualInbound': a sidecar's capture listener: not applicable" \
		"Listener '10.96.0.20_5000'.listener_filters: not applicable (envoy.filters.listener.tls_inspector"
check "xds: ...each note once, however many translations repeat it" sh -c '
	[ "$(grep -c "Cluster '"'"'PassthroughCluster'"'"': istiod" "$1")" = 1 ]' sh "$t/agent.log"
check "xds: ...and kmeshctl status counts them in the applied config" \
	wait_for 5 cp_status "^  not applicable in the applied config: [0-9]* (accepted, no effect; the first: "
check "xds: ...traffic follows that config" expect_only 127.0.0.14 3 http://10.96.0.10/
check "xds: ...the TCP service too (its listener filters had no effect)" \
	expect_only 127.0.0.13 2 http://10.96.0.20:5000/
check "xds: ...and the DENY policy among those filters still holds" \
	status_of http://10.96.0.10/admin/users 403

# ---- a local rate limit (an EnvoyFilter's envoy.filters.http.local_ratelimit) ----
scenario local-ratelimit
check "xds: a local_ratelimit filter (token bucket, 100% enabled and enforced) is applied, no NACK" \
	wait_for 10 grep -q "version local-ratelimit-[0-9]*: applied as generation" "$t/agent.log"
rate_limited() {	# max_tokens 2, one token per 10 s: 200, 200, then 429
	local a b c
	a=$(get -o /dev/null -w '%{http_code}' http://10.96.0.30:8000/rl-1)
	b=$(get -o /dev/null -w '%{http_code}' http://10.96.0.30:8000/rl-2)
	c=$(get -D - -o /dev/null http://10.96.0.30:8000/rl-3 | tr -d '\r')
	[ "$a $b" = "200 200" ] && printf '%s\n' "$c" | grep -q '^HTTP/1.1 429 Too Many Requests$' &&
		printf '%s\n' "$c" | grep -Eq '^retry-after: ([1-9]|10)$' ||
		{ echo "got $a $b, then: $c"; return 1; }
}
check "xds: ...its bucket (max_tokens 2, 1 per 10 s): the third request is answered 429 with a retry-after" \
	rate_limited
check "xds: ...counted per service: kmeshctl stats" sh -c '
	"$1" stats | grep -q "^rate_limit service .* requests: passed 2 limited 1$"' sh "$kmeshctl"
check "xds: ...other services are not limited" expect_only 127.0.0.14 5 http://10.96.0.10/

# ---- per virtual host and per route (typed_per_filter_config) ----
scenario route-ratelimit
check "xds: local_ratelimit per virtual host and per route (the filter itself without a bucket) is applied, no NACK" \
	wait_for 10 grep -q "version route-ratelimit-[0-9]*: applied as generation" "$t/agent.log"
codes() {	# codes PATH...: the status of a request to each, in order
	local p
	for p in "$@"; do
		get -o /dev/null -w '%{http_code} ' "http://10.96.0.30:8000$p"
	done
}
route_limited() {	# route limited: max_tokens 2 of its own; the virtual host's 3
	local c r
	c=$(codes /limited/1 /limited/2)
	r=$(get -D - -o /dev/null http://10.96.0.30:8000/limited/3 | tr -d '\r')
	[ "$c" = "200 200 " ] && printf '%s\n' "$r" | grep -q '^HTTP/1.1 429 Too Many Requests$' &&
		printf '%s\n' "$r" | grep -Eq '^retry-after: ([1-9]|10)$' ||
		{ echo "got $c, then: $r"; return 1; }
}
check "xds: ...the route's own bucket (max_tokens 2): its third request is answered 429 with a retry-after" \
	route_limited
check "xds: ...the virtual host's bucket (max_tokens 3) paid nothing for the route's requests: 3 pass, then 429" \
	sh -c '[ "$1" = "200 200 200 429 " ] || { echo "got $1"; false; }' sh "$(codes /free/1 /free/2 /free/3 /free/4)"
check "xds: ...counted per route and per service: kmeshctl stats" sh -c '
	s=$("$1" stats)
	printf "%s\n" "$s" | grep -q "^rate_limit service .* route limited requests: passed 2 limited 1$" &&
	printf "%s\n" "$s" | grep -q "^rate_limit service .* requests: passed 3 limited 1$" ||
	{ printf "%s\n" "$s" | grep rate_limit; false; }' sh "$kmeshctl"
check "xds: ...other services are not limited" expect_only 127.0.0.14 5 http://10.96.0.10/

# ---- the control plane is not on the data path ----
{ kill -9 "$server_pid"; wait "$server_pid"; } 2>/dev/null
check "xds: the agent sees the server gone and keeps the last applied config" \
	wait_for 10 grep -q "keeps the last applied config" "$t/agent.log"
check "xds: Prometheus shows the server disconnected" wait_for 5 prom_has "kmesh_xds_connected 0"
check "xds: kmeshctl status shows the server disconnected" \
	wait_for 5 cp_status "^control plane: xDS server 127.0.0.1:15010, disconnected since "
check "xds: with the server dead, traffic still flows as xDS last said" \
	expect_only 127.0.0.14 5 http://10.96.0.10/
check "xds: ...the TCP service too" \
	expect_only 127.0.0.13 2 http://10.96.0.20:5000/
check "xds: the agent retries with backoff (more than one attempt, growing waits)" sh -c '
	grep -o "reconnecting in [0-9]* ms" "$1" | awk "{ print \$3 }" | tail -3 >"$2/waits"
	[ "$(wc -l <"$2/waits")" -ge 2 ]' sh "$t/agent.log" "$t"
{ kill -9 "$agent_pid"; wait "$agent_pid"; } 2>/dev/null
check "xds: the agent killed (-9): traffic still flows" \
	expect_only 127.0.0.14 5 http://10.96.0.10/
mv "$t/agent.log" "$t/agent.1.log"
start_agent
sleep 1
check "xds: a new agent with no server changes nothing while it waits" \
	expect_only 127.0.0.14 3 http://10.96.0.10/
gen=$(generation)
scenario restarted
start_server
check "xds: the server back, the new agent resubscribes and applies its state" \
	wait_for 30 grep -q "applied as generation $((gen + 1))" "$t/agent.log"
check "xds: ...and traffic follows the restarted server's endpoints" \
	expect_only 127.0.0.11 5 http://10.96.0.10/
check "xds: ...direct responses too" \
	sh -c "$(declare -f meshed get); cg='$cg'; [ \"\$(get http://10.96.0.10/hello)\" = 'hello from xds' ]"

kill "$agent_pid" 2>/dev/null
wait "$agent_pid" 2>/dev/null
check "xds: SIGTERM stops the agent cleanly, leaving the data plane" sh -c '
	grep -q "stopped (1 applied, 0 rejected)" "$1" && "$2" dump | grep -q "^generation"' sh "$t/agent.log" "$kmeshctl"

# ---- TLS and a bearer token (istiod's secure port) ----
{ kill -9 "$server_pid"; wait "$server_pid"; } 2>/dev/null
tls_setup() {
	cd "$t" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca \
		-keyout ca.key -out ca.pem &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca \
		-keyout other.key -out other.pem &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=istiod -keyout server.key -out server.csr &&
	printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
		-extfile san.ext -out server.pem
} >"$t/openssl.log" 2>&1
if tls_setup; then
	echo "test-token-123" >"$t/token"
	scenario scale-up
	"$py" "$top/selftests/xds/mgmt_server.py" --listen "$server_addr" \
		--scenario-file "$t/scenario" --log "$t/requests.jsonl" \
		--tls-cert "$t/server.pem" --tls-key "$t/server.key" >>"$t/server.out" 2>&1 &
	server_pid=$!
	timeout 3 "$agent" --xds "$server_addr" --ca "$t/other.pem" >"$t/agent-wrong-ca.log" 2>&1
	check "xds: an agent that does not trust the server's certificate never applies anything" sh -c '
		grep -q "stream closed" "$1" && ! grep -q "applied as generation" "$1"' sh "$t/agent-wrong-ca.log"
	gen=$(generation)
	"$agent" --xds "$server_addr" --ca "$t/ca.pem" --token-file "$t/token" \
		--node-id "kmesh~127.0.0.1~node-1~cluster.local" >"$t/agent-tls.log" 2>&1 &
	agent_pid=$!
	check "xds: over TLS (--ca) the agent resyncs and applies" \
		wait_for 15 grep -q "applied as generation $((gen + 1))" "$t/agent-tls.log"
	check "xds: ...sending the --token-file token as a bearer token" \
		grep -q '"authorization": "Bearer test-token-123"' "$t/requests.jsonl"
	check "xds: ...and traffic follows (both endpoints of the scale-up)" both_endpoints
	kill "$agent_pid" 2>/dev/null
	wait "$agent_pid" 2>/dev/null
else
	skip "xds: TLS and bearer token" "openssl could not make test certificates: $(tail -1 "$t/openssl.log")"
fi
"$kmeshctl" down >/dev/null 2>&1
tap_done
