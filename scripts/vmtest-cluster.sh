#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The multi-node VM lane: N QEMU/TCG guests (each its own kernel, kmesh
# module, kmesh-agent and workload; scripts/vmtest-cluster-guest.sh) on one
# virtual network, fed by one xDS management server
# (selftests/xds/mgmt_server.py on the host), and a TAP test on the host
# that drives the server and runs commands in the guests.
#
#   scripts/vmtest-cluster.sh [--lane stock|kfunc] [--nodes N] [--timeout SEC]
#
# The network is private: a bridge (10.77.0.1/24, the server's address)
# with one tap per guest, inside a network namespace this script creates;
# the guests are 10.77.0.11, .12, ... Everything runs in new mount, network
# and pid namespaces, so whatever is left running dies with the script.
#
# Fails on any "not ok", a missing summary line, a guest that does not come
# up or does not finish, a kernel oops/BUG/WARN in any guest, or a timeout.
# Prints "vmtest-cluster-LANE: N passed, M failed, K skipped" last.
# `make vmtest-cluster` runs three nodes; `scripts/check.sh vm-cluster`
# (in make check) two.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

lane=stock
nodes=3
timeout=900
while [ $# -gt 0 ]; do
	case "$1" in
	--lane) lane=$2; shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "vmtest-cluster: unknown argument $1" >&2; exit 2 ;;
	esac
done
work=$top/build/vm/cluster-$lane

log() { printf 'vmtest-cluster[%s]: %s\n' "$lane" "$*" >&2; }
verdict() {	# verdict PASSED FAILED SKIPPED
	echo "vmtest-cluster-$lane: $1 passed, $2 failed, $3 skipped"
	[ "$2" = 0 ]
}
skip_all() {	# skip_all NAME REASON: the lane cannot run here
	printf 'TAP version 13\nok 1 - %s # SKIP %s\n1..1\n0 passed, 0 failed, 1 skipped\n' "$1" "$2"
	verdict 0 0 1
}

if [ "${KMESH_CLUSTER_INNER:-}" != 1 ]; then
	case "$lane" in
	stock) ;;
	kfunc)
		# The test kernel (built here when missing, as vmtest.sh does) has
		# the guests' NIC driver built in (scripts/kernel/test.config).
		kdir=$("$here/build-test-kernel.sh" | tail -n1)
		if [ ! -f "$kdir/.kmesh-build-done" ]; then
			log "the kfunc test kernel failed to build"; verdict 0 1 0; exit 1
		fi
		if ! grep -q '^CONFIG_VIRTIO_PCI=y' "$kdir/.config" || ! grep -q '^CONFIG_VIRTIO_NET=y' "$kdir/.config"; then
			log "$kdir has no NIC driver (CONFIG_VIRTIO_PCI/CONFIG_VIRTIO_NET): see scripts/kernel/test.config"
			verdict 0 1 0; exit 1
		fi
		;;
	*) log "unknown lane '$lane'"; verdict 0 1 0; exit 1 ;;
	esac
	[ "$nodes" -ge 2 ] && [ "$nodes" -le 9 ] || { log "--nodes: 2 to 9"; exit 2; }
	why=
	if [ "$(id -u)" != 0 ]; then why="needs root"
	elif [ ! -c /dev/net/tun ]; then why="no /dev/net/tun"
	elif ! /usr/bin/python3 -c 'import grpc' 2>/dev/null; then why="python3-grpcio missing"
	elif ! command -v curl >/dev/null; then why="curl missing"
	fi
	if [ -n "$why" ]; then
		skip_all "cluster: $nodes nodes" "$why"; exit
	fi
	mkdir -p "$work"
	log "building the agent"
	make -s -C "$top" agent >"$work/build-agent.log" 2>&1 ||
		{ tail -20 "$work/build-agent.log" >&2; log "agent build failed"; verdict 0 1 0; exit 1; }
	# One initramfs for every node (vmtest.sh's: busybox, module, kmeshctl,
	# curl, the agent with its shared libraries, the virtio drivers).
	info=$(KMESH_VM_OUT=$work KMESH_VM_KMODS="virtio_pci virtio_net" \
		KMESH_VM_EXTRA="$top/build/kmesh-agent" \
		"$here/vmtest.sh" --lane "$lane" --guest "$here/vmtest-cluster-guest.sh" \
		--initramfs-only | tail -n1)
	case "$info" in
	initramfs=*) ;;
	*) log "building the initramfs failed"; verdict 0 1 0; exit 1 ;;
	esac
	start=$(date +%s)
	KMESH_CLUSTER_INNER=1 KMESH_CLUSTER_INFO=$info KMESH_CLUSTER_OUT=$work \
		timeout --foreground "$timeout" \
		unshare -m -n -p -f --mount-proc --propagation private \
		bash "$0" --lane "$lane" --nodes "$nodes"
	rc=$?
	log "finished in $(($(date +%s) - start))s (rc $rc; consoles and logs in $work)"
	if [ "$rc" = 124 ]; then
		log "FAIL: timed out after ${timeout}s"
		verdict 0 1 0; exit 1
	fi
	exit $rc
fi

# ---- inside the namespaces ----
info=$KMESH_CLUSTER_INFO
work=$KMESH_CLUSTER_OUT
initramfs=$(sed -n 's/.*initramfs=\([^ ]*\).*/\1/p' <<<"$info")
kernel=$(sed -n 's/.*kernel=\([^ ]*\).*/\1/p' <<<"$info")
guest_lane=$(sed -n 's/.*guest_lane=\([^ ]*\).*/\1/p' <<<"$info")
py=/usr/bin/python3
export PYTHONPATH=$top/build/xds/py:$top/selftests/xds
server=10.77.0.1:15010
node_ip() { echo "10.77.0.$((10 + $1))"; }
rm -f "$work"/node*.console "$work"/requests.jsonl "$work"/server.out

ip link set lo up
ip link add br0 type bridge
ip addr add 10.77.0.1/24 dev br0
ip link set br0 up
for ((i = 1; i <= nodes; i++)); do
	ip tuntap add "tap$i" mode tap
	ip link set "tap$i" master br0
	ip link set "tap$i" up
done

scenario() {
	echo "cluster:$1:$nodes" >"$work/scenario.tmp" && mv "$work/scenario.tmp" "$work/scenario"
}
start_server() {
	"$py" "$top/selftests/xds/mgmt_server.py" --listen "$server" \
		--scenario-file "$work/scenario" --log "$work/requests.jsonl" >>"$work/server.out" 2>&1 &
	server_pid=$!
}
scenario all
start_server

qemu_pids=()
for ((i = 1; i <= nodes; i++)); do
	qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 512M \
		-kernel "$kernel" -initrd "$initramfs" \
		-nographic -no-reboot -nodefaults -serial stdio \
		-netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:$((10 + i))" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=5 KMESH_LANE=$guest_lane KMESH_NODE=$i KMESH_NODES=$nodes KMESH_AGENT_BIN=$top/build/kmesh-agent KMESH_XDS=$server" \
		</dev/null 2>&1 | stdbuf -oL tr -d '\r' >"$work/node$i.console" &
	qemu_pids+=($!)
done

. "$top/selftests/host/tap.sh"

# gx NODE SCRIPT: run SCRIPT (sh) on NODE through its control port; its
# output, and its exit status as ours.
gx() {
	local o rc
	o=$(printf '%s\n' "$2" | curl -sS -m 60 --data-binary @- "http://$(node_ip "$1"):9000/cgi-bin/run") ||
		{ echo "node $1: control port: no answer"; return 1; }
	rc=${o##*kmesh-rc=}
	o=${o%kmesh-rc=*}
	o=${o%$'\n'}
	[ -n "$o" ] && printf '%s\n' "$o"
	case "$rc" in [0-9]*) return "$rc" ;; *) echo "node $1: no exit status"; return 1 ;; esac
}
wait_for() {	# wait_for SECONDS COMMAND...
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	"$@"
}
all_nodes() {	# all_nodes FUNC ARGS...: FUNC NODE ARGS... on every node
	local i rc=0 f=$1
	shift
	for ((i = 1; i <= nodes; i++)); do
		"$f" "$i" "$@" || { echo "(node $i)"; rc=1; }
	done
	return $rc
}

node_ready() { grep -q "^kmesh-cluster\[node $1\]: ready" "$work/node$1.console"; }
boot_start=$(date +%s)
for ((i = 1; i <= nodes; i++)); do
	check "cluster: node $i boots, loads kmesh, starts its agent and workload" \
		wait_for 400 node_ready "$i"
done
log "nodes up in $(($(date +%s) - boot_start))s"
grep -h "^kmesh-cluster\[node [0-9]*\]: ready" "$work"/node*.console | sed 's/^/# /'

# spread NODE N URL: which endpoints answered N requests from NODE's meshed cgroup
spread() {
	gx "$1" "i=0; while [ \$i -lt $2 ]; do meshed curl -sS -m 5 $3; i=\$((i+1)); done" |
		sed -n 's/^ep=//p' | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'
}
generation() { gx "$1" "kmeshctl dump | sed -n 's/^generation //p'"; }
applied() {	# applied NODE VERSION-PREFIX: the node's agent applied that scenario
	gx "$1" "grep -q 'version $2-[0-9]*: applied as generation' /tmp/agent.log"
}

check "cluster: every node's agent applies the server's snapshot" \
	wait_for 120 all_nodes applied cluster:all:$nodes
every_node_reached() {	# NODE: 6 requests per node reach every node's endpoint
	local s want=$((nodes * 6)) i
	s=$(spread "$1" "$want" http://10.96.0.10/)
	for ((i = 1; i <= nodes; i++)); do
		case " $s" in *" $(node_ip "$i")="*) ;; *) echo "node $1: got $s"; return 1 ;; esac
	done
	echo "node $1: $s"
}
check "cluster: web's endpoints on every node are load-balanced across nodes, from every node" \
	all_nodes every_node_reached
status_is() {	# NODE URL WANT
	local code
	code=$(gx "$1" "meshed curl -s -m 5 -o /dev/null -w '%{http_code}' $2")
	[ "$code" = "$3" ] || { echo "node $1: $2: status $code, want $3"; return 1; }
}
deny_holds() { status_is "$1" http://10.96.0.10/admin/users 403 && status_is "$1" http://10.96.0.10/public 200; }
check "cluster: the DENY /admin RBAC rule from xDS holds on every node (and /public passes)" \
	all_nodes deny_holds
direct() { [ "$(gx "$1" "meshed curl -sS -m 5 http://10.96.0.10/hello")" = "hello from xds" ]; }
check "cluster: the HTTP direct-response route from xDS answers on every node" all_nodes direct
# /v2 goes to web's v2 subset (the last node) in kfunc mode; in fallback
# mode the connect takes the port's cluster and the route is decided and
# counted per request (docs/config.md, "routes").
v2_route() {
	local s
	if gx "$1" "kmeshctl status | grep -q 'l7 requests: *kfunc mode'"; then
		s=$(spread "$1" 3 http://10.96.0.10/v2/items)
		[ "$s" = "$(node_ip "$nodes")=3 " ] || { echo "node $1: $s"; return 1; }
	else
		spread "$1" 3 http://10.96.0.10/v2/items >/dev/null
		gx "$1" "kmeshctl stats | grep '^http web.default.svc.cluster.local_80 route v2 GET: allowed [3-9]'" ||
			{ echo "node $1: no route v2 count"; return 1; }
	fi
}
check "cluster: the /v2 prefix route from xDS holds on every node (to the v2 subset in kfunc mode, counted by name in fallback mode)" \
	all_nodes v2_route
# Responses of other nodes' servers are read on the client's receive
# path (bpf/include/resp.h): every one counted once, in its class, with a
# latency. The local server's are read by its own sk_msg, which gives up
# on a head split over writes, as busybox httpd writes a CGI's (its status
# line first): those may count unknown, never in a wrong class.
route_stat() {	# NODE FIELD: the default route's GET counter on NODE (0: no line yet)
	gx "$1" "kmeshctl stats" | awk -v f="$2" '
		/^http web.default.svc.cluster.local_80 route default GET:/ {
			for (i = 1; i < NF; i++) if ($i == f) v = $(i + 1) }
		END { print v + 0 }'
}
cross_node_counts() {	# NODE: 200s and 503s from every node's server, counted
	local k=$((nodes * 4)) b2 b5 bu a2 a5 au lat s f remote5
	b2=$(route_stat "$1" 2xx); b5=$(route_stat "$1" 5xx); bu=$(route_stat "$1" unknown)
	s=$(spread "$1" "$k" http://10.96.0.10/public)
	f=$(spread "$1" "$k" http://10.96.0.10/cgi-bin/fail)
	a2=$(route_stat "$1" 2xx); a5=$(route_stat "$1" 5xx); au=$(route_stat "$1" unknown)
	lat=$(route_stat "$1" latency_avg_us)
	remote5=$(echo "$f" | tr ' ' '\n' | grep -v "^$(node_ip "$1")=" | awk -F= '{ n += $2 } END { print n + 0 }')
	echo "node $1: 200s from $s, 503s from $f; 2xx +$((a2 - b2)) 5xx +$((a5 - b5)) unknown +$((au - bu)) latency_avg_us $lat"
	[ "$remote5" -gt 0 ] || { echo "node $1: no cross-node 503"; return 1; }
	[ $((a2 - b2)) = "$k" ] && [ $((a5 - b5)) -ge "$remote5" ] &&
		[ $((a5 - b5 + au - bu)) = "$k" ] && [ "$lat" -gt 0 ]
}
check "cluster: per-route 2xx/5xx counts and latency for cross-node calls match what the servers answered" \
	all_nodes cross_node_counts
remote_tcp() {	# the tcp_proxy service's one endpoint is node 2
	local s
	s=$(spread "$1" 3 http://10.96.0.20:5000/)
	[ "$s" = "$(node_ip 2)=3 " ] || { echo "node $1: $s"; return 1; }
}
check "cluster: a TCP service (tcp_proxy, maglev) reaches its endpoint on node 2 from every node" \
	all_nodes remote_tcp

# ---- EDS changes reach every node ----
only_others() {	# NODE: no request reaches node 1's endpoint, every other node gets some
	local s i
	s=$(spread "$1" $((nodes * 5)) http://10.96.0.10/)
	case " $s" in *" $(node_ip 1)="*) echo "node $1: node 1 still gets requests: $s"; return 1 ;; esac
	for ((i = 2; i <= nodes; i++)); do
		case " $s" in *" $(node_ip "$i")="*) ;; *) echo "node $1: $s"; return 1 ;; esac
	done
}
scenario without-first
check "cluster: scale down (node 1's endpoint removed by EDS) is applied on every node" \
	wait_for 60 all_nodes applied cluster:without-first:$nodes
check "cluster: ...and no new connection from any node goes to the removed endpoint" \
	all_nodes only_others
scenario all
check "cluster: scale up (node 1's endpoint back) is applied on every node" \
	wait_for 60 all_nodes applied cluster:all:$nodes
check "cluster: ...and every node's endpoint takes connections again, from every node" \
	all_nodes every_node_reached
scenario first-draining
check "cluster: node 1's endpoint DRAINING is applied on every node" \
	wait_for 60 all_nodes applied cluster:first-draining:$nodes
check "cluster: ...and it takes no new connection from any node" all_nodes only_others

# ---- a NACKed update ----
nacked() { gx "$1" "grep -q 'NACK' /tmp/agent.log && kmeshctl status | grep -q \"last NACK: Cluster version cluster:bad:$nodes-[0-9]* at .*lb_subset_config: not supported\""; }
gens=$(all_nodes generation | tr '\n' ' ')
scenario bad
check "cluster: an update kmesh cannot express is NACKed by every node and kmeshctl status shows it" \
	wait_for 60 all_nodes nacked
same_generations() {
	local now
	now=$(all_nodes generation | tr '\n' ' ')
	[ "$now" = "$gens" ] || { echo "generations before: $gens, now: $now"; return 1; }
}
check "cluster: ...no node switched generation" same_generations
check "cluster: ...and traffic stays on the last good config (draining node 1 gets nothing)" \
	all_nodes only_others
scenario first-draining

# ---- the control plane is not on the data path ----
# Requests during a disruption: N in the background, one after another
# (each takes about a second under TCG), their status codes in /tmp/loop.
loop_start() {	# NODE N
	gx "$1" "rm -f /tmp/loop /tmp/loop.done; (i=0; while [ \$i -lt $2 ]; do meshed curl -s -m 5 -o /dev/null -w '%{http_code}\n' http://10.96.0.10/ >>/tmp/loop; i=\$((i+1)); sleep 0.2; done; touch /tmp/loop.done) >/dev/null 2>&1 &"
}
loop_done() { gx "$1" "test -e /tmp/loop.done"; }
loop_clean() {	# NODE N: N requests, every one answered 200
	local o
	wait_for 240 loop_done "$1" >/dev/null
	o=$(gx "$1" "sort /tmp/loop | uniq -c")
	[ "$(printf '%s\n' "$o" | awk '{ print $2 "=" $1 }' | tr -d ' ')" = "200=$2" ] ||
		{ echo "node $1: $o"; return 1; }
}
all_nodes loop_start 20 >/dev/null
sleep 2
{ kill -9 "$server_pid"; wait "$server_pid"; } 2>/dev/null
sleep 4
server_gone() { gx "$1" "grep -q 'keeps the last applied config' /tmp/agent.log"; }
check "cluster: the management server killed mid-traffic: every agent sees it gone" \
	wait_for 30 all_nodes server_gone
start_server
check "cluster: ...no request lost on any node while it was gone and restarted" \
	all_nodes loop_clean 20
reconnected() { gx "$1" "kmeshctl status | grep -q '^control plane: xDS server $server, connected since'"; }
check "cluster: ...every agent reconnects to the restarted server" \
	wait_for 60 all_nodes reconnected

all_nodes loop_start 20 >/dev/null
sleep 2
kill_agent() { gx "$1" 'kill -9 $(cat /tmp/agent.pid)'; }
check "cluster: kmesh-agent killed with -9 mid-traffic on every node" all_nodes kill_agent
sleep 3
restart_agent() { gx "$1" 'mv /tmp/agent.log /tmp/agent.1.log; start-agent'; }
all_nodes restart_agent >/dev/null
check "cluster: ...no request lost on any node while the agent was dead and restarted" \
	all_nodes loop_clean 20
check "cluster: ...the new agents resync from the server" \
	wait_for 60 all_nodes applied cluster:first-draining:$nodes
scenario all
check "cluster: ...and follow the next EDS change (node 1 back) on every node" \
	wait_for 60 all_nodes applied cluster:all:$nodes
check "cluster: ...which traffic follows from every node" all_nodes every_node_reached

# ---- the end: stop the guests, judge their consoles ----
for ((i = 1; i <= nodes; i++)); do gx "$i" "touch /tmp/stop" >/dev/null 2>&1; done
for pid in "${qemu_pids[@]}"; do
	for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	kill "$pid" 2>/dev/null
done
wait "${qemu_pids[@]}"
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null
guest_clean() {
	local c=$work/node$1.console
	grep -q '^kmesh-vm: guest exited 0$' "$c" || { echo "node $1: the guest script failed"; tail -20 "$c"; return 1; }
	grep -q '^kmesh-vm: done' "$c" || { echo "node $1: did not finish"; return 1; }
	if grep -qE 'kmesh-vm: kernel-problem|Kernel panic|^\[ *[0-9.]+\] (BUG|WARNING):' "$c"; then
		grep -E 'kernel-problem|Kernel panic|BUG|WARNING' "$c" | head -10
		return 1
	fi
}
check "cluster: every guest finished cleanly (no oops, BUG, WARN)" all_nodes guest_clean
tap_done >"$work/tap.tail"
rc=$?
cat "$work/tap.tail"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$work/tap.tail" | tail -n1)
[ -n "$summary" ] || { verdict 0 1 0; exit 1; }
read -r p _ f _ s _ <<<"$summary"
verdict "$p" "$f" "$s"
