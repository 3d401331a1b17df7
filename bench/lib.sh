# SPDX-License-Identifier: GPL-2.0-only
# kmesh benchmark library: POSIX sh, sourced by bench/run.sh on the host
# (bash) and by the VM guest script (busybox sh). One process tree per run:
# every server, proxy and load generator is started here, in child cgroups
# of $CG, and stopped by bench_cleanup (call it from a trap).
#
# Inputs (set before sourcing or before bench_init):
#   LANE      host | stock | kfunc        (written into every row)
#   BIN       directory with loadgen, benchsrv, bpfmem (static)
#   KMESHCTL  kmeshctl to run
#   CG        cgroup2 directory to create and use (must not exist)
#   WORK      scratch directory
#   ROWS      CSV file to append rows to; empty: print "kmesh-bench-row: ..."
#   D_TPUT D_LAT D_STREAM WARMUP REPS CONCS   durations (s), repetitions
#   HAPROXY_BIN NGINX_BIN   binaries, or empty when absent
#
# A path is a name with a setup (path_setup_NAME: start what it needs; on
# success sets T_NAME=ADDR:PORT and C_NAME=client cgroup, else prints the
# reason and returns 1). Paths run interleaved: every repetition runs every
# path once, in the same order (A B C A B C ...), and the report takes
# medians. Add a path by writing path_setup_NAME and listing NAME.

CSV_HEADER=lane,kind,path,n,conc,rate,rep,requests,seconds,rps,p50_us,p90_us,p99_us,p999_us,errors,mbps,client_cpu_us,client_sys_us,server_cpu_us,server_sys_us,proxy_cpu_us,proxy_sys_us,value,note

# Ports, all on loopback: servers 1808x, proxies 1809x; VIPs are loopback
# addresses too, so nothing ever targets an address outside 127.0.0.0/8.
SRV_A=127.0.0.1:18081		# HTTP backend, unmeshed cgroup
SRV_B=127.0.0.1:18082		# HTTP backend, meshed cgroup (sk_msg redirect)
SINK_PLAIN=127.0.0.1:18083	# stream sink, unmeshed
SINK_MESH=127.0.0.1:18084	# stream sink, meshed
ECHO_PLAIN=127.0.0.1:18085
ECHO_MESH=127.0.0.1:18086
SRV_PROBE=127.0.0.1:18087	# HTTP backend tagged "probe": only an L7 route reaches it
PROBE_PATH=/kmesh-bench-probe/
SRV_IN_ON=127.0.0.1:18088	# HTTP backend, meshed, protected (inbound check on receive)
SRV_IN_OFF=127.0.0.1:18089	# the same, unprotected
VIP_IN=127.77.0.15		# -> SRV_IN_ON, protocol http, with authorization
VIP_RES_ON=127.77.0.16		# -> SRV_A, protocol http, rate limit + outlier detection
VIP_RES_OFF=127.77.0.17		# -> SRV_A, protocol http, neither
VIP_L7_LOCAL=127.77.0.18	# -> SRV_B (meshed), protocol http, the same routes
# Same-node pod to pod without a mesh (host lane): two network namespaces,
# each with a veth into one bridge in the lane's own namespace, the way a
# CNI bridge plugs two pods of one node together.
POD_SRV=10.199.0.2		# the server pod (sink, echo)
POD_CLI=10.199.0.3		# the client pod
HAPROXY_ADDR=127.0.0.1:18090
NGINX_ADDR=127.0.0.1:18091
VIP_L4=127.77.0.10		# -> SRV_A
VIP_REDIR=127.77.0.11		# -> SRV_B
VIP_L7=127.77.0.12		# -> SRV_A (and SRV_PROBE by route), protocol http
VIP_SINK=127.77.0.13		# -> SINK_MESH
VIP_ECHO=127.77.0.14		# -> ECHO_MESH
# Request mix: every path sees the same rotation; the routes below send
# them to the same backend (one server keeps the comparison like for like).
REQ_PATHS=/api/v1/items,/static/app.js,/index.html,/api/v1/users/42

PIDS=
KMESH_IS_UP=

log() { echo "bench[$LANE]: $*" >&2; }

# row KIND PATH N CONC RATE REP "LOADGEN OUTPUT" "CPU FIELDS" VALUE NOTE
# Every row goes to $WORK/rows.csv; with ROWS empty (the VM) it is printed
# too, prefixed, for the host to collect from the console.
row() {
	_line=$(echo "$7" | awk -v pre="$LANE,$1,$2,$3,$4,$5,$6" -v cpu="${8:-,,,,,}" \
		-v val="$9" -v note="${10}" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		} END {
			n = split("requests seconds rps p50_us p90_us p99_us p999_us errors mbps", k, " ")
			line = pre
			for (i = 1; i <= n; i++) line = line "," v[k[i]]
			print line "," cpu "," val "," note
		}')
	echo "$_line" >>"$WORK/rows.csv"
	if [ -n "$ROWS" ]; then
		echo "$_line" >>"$ROWS"
	else
		echo "kmesh-bench-row: $_line"
	fi
}

skip_row() {	# KIND PATH REASON [N]
	row "$1" "$2" "${4:-}" "" "" "" "" "" "" "skipped: $3"
	log "$1 $2: skipped: $3"
}

# ---- cgroups and processes ----

bench_init() {
	mkdir "$CG" || return 1
	for d in plain plain/client plain/server plain/proxy plain/memprobe mesh mesh/client mesh/server; do
		mkdir "$CG/$d" || return 1
	done
	mkdir -p "$WORK"
}

# The host lane (bench/host.sh, bench/l4.sh), already in private mount and
# network namespaces: its own bpffs and loopback, the cgroups, and the
# cleanup however the run ends.
host_lane_begin() {
	mount -t bpf bpf /sys/fs/bpf || { log "cannot mount a private bpffs"; exit 1; }
	ip link set lo up
	: >"$ROWS"
	mkdir -p "$WORK"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	bench_init || { log "cannot create cgroup $CG"; exit 1; }
}

# cg_exec CGROUP CMD...: run CMD (foreground) inside CGROUP.
cg_exec() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"
}

# cg_spawn CGROUP LOG CMD...: start CMD in the background inside CGROUP.
cg_spawn() {
	_cg=$1 _log=$2
	shift 2
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$_cg" "$@" >"$_log" 2>&1 &
	PIDS="$PIDS $!"
	LAST_PID=$!
}

# wait_port ADDR:PORT: until something accepts there (at most 5 s).
wait_port() {
	_i=0
	while [ $_i -lt 50 ]; do
		"$BIN/loadgen" http --target "$1" --conns 1 --duration 0.05 --warmup 0 \
			>/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

wait_ready() {	# LOG: until benchsrv printed "ready" (at most 5 s)
	_i=0
	while [ $_i -lt 50 ]; do
		grep -q 'benchsrv: ready' "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	log "server did not start: $(cat "$1")"
	return 1
}

cpu_snap() {	# CLIENT_CG -> "client_u client_s server_u server_s proxy_u proxy_s"
	awk 'FNR == 1 { f++ } $1 == "usage_usec" { u[f] = $2 } $1 == "system_usec" { s[f] = $2 }
		END { print u[1] + 0, s[1] + 0, u[2] + u[3], s[2] + s[3], u[4] + 0, s[4] + 0 }' \
		"$1/cpu.stat" "$CG/plain/server/cpu.stat" "$CG/mesh/server/cpu.stat" \
		"$CG/plain/proxy/cpu.stat"
}

cpu_delta() {	# BEFORE AFTER -> CSV fields
	echo "$1 $2" | awk '{ printf "%d,%d,%d,%d,%d,%d", $7-$1, $8-$2, $9-$3, $10-$4, $11-$5, $12-$6 }'
}

bench_cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$KMESH_IS_UP" ]; then
		"$KMESHCTL" down >/dev/null 2>&1
		KMESH_IS_UP=
	fi
	if [ -d "$CG" ]; then
		for d in plain/client plain/server plain/proxy plain/memprobe mesh/client mesh/server plain mesh ""; do
			[ -d "$CG/$d" ] || continue
			for p in $(cat "$CG/$d/cgroup.procs" 2>/dev/null); do
				kill -9 "$p" 2>/dev/null
			done
			_i=0
			while [ $_i -lt 20 ] && ! rmdir "$CG/$d" 2>/dev/null; do
				sleep 0.1
				_i=$((_i + 1))
			done
		done
	fi
}

# ---- kmesh ----

# mesh_yaml [EXTRA_SERVICES]: the benchmark's mesh, plus N filler services
# that only size the config (loopback VIPs and endpoints nothing dials).
mesh_yaml() {
	cat <<EOF
services:
  - {name: bench-l4, addresses: [$VIP_L4], ports: [{port: 80}], cluster: srv-a}
  - {name: bench-redir, addresses: [$VIP_REDIR], ports: [{port: 80}], cluster: srv-b}
  - {name: bench-sink, addresses: [$VIP_SINK], ports: [{port: 80}], cluster: sink}
  - {name: bench-echo, addresses: [$VIP_ECHO], ports: [{port: 80}], cluster: echo}
EOF
	_i=0
	while [ "$_i" -lt "${1:-0}" ]; do
		echo "  - {name: fill-$_i, addresses: [127.100.$((_i / 250)).$((_i % 250 + 1))], ports: [{port: 80}], cluster: fill-$_i}"
		_i=$((_i + 1))
	done
	cat <<EOF
clusters:
  - {name: srv-a, endpoints: [{address: ${SRV_A%:*}, port: ${SRV_A#*:}}]}
  - {name: srv-b, endpoints: [{address: ${SRV_B%:*}, port: ${SRV_B#*:}}]}
  - {name: sink, endpoints: [{address: ${SINK_MESH%:*}, port: ${SINK_MESH#*:}}]}
  - {name: echo, endpoints: [{address: ${ECHO_MESH%:*}, port: ${ECHO_MESH#*:}}]}
EOF
	_i=0
	while [ "$_i" -lt "${1:-0}" ]; do
		echo "  - {name: fill-$_i, endpoints: [{address: 127.200.$((_i / 250)).$((_i % 250 + 1)), port: 8080}]}"
		_i=$((_i + 1))
	done
}

# The L7 part: an http service on VIP_L7 with the routes HAProxy and nginx
# get too (docs/config.md, `routes:`). Until kmeshctl accepts them the L7
# paths print "skipped" with kmeshctl's own message.
l7_yaml() {
	cat <<EOF
  - {name: bench-l7, addresses: [$VIP_L7], ports: [{port: 80, protocol: http}], cluster: web}
  - {name: bench-l7-local, addresses: [$VIP_L7_LOCAL], ports: [{port: 80, protocol: http}], cluster: web-b}
EOF
	echo "clusters:"
	for c in web api static canary; do
		echo "  - {name: $c, endpoints: [{address: ${SRV_A%:*}, port: ${SRV_A#*:}}]}"
		echo "  - {name: $c-b, endpoints: [{address: ${SRV_B%:*}, port: ${SRV_B#*:}}]}"
	done
	echo "  - {name: probe, endpoints: [{address: ${SRV_PROBE%:*}, port: ${SRV_PROBE#*:}}]}"
	cat <<EOF
routes:
  - service: bench-l7
    hosts: ["*"]
    http:
      - {name: probe, match: [{uri: {prefix: $PROBE_PATH}}], route: [{cluster: probe}]}
      - {name: canary, match: [{headers: {x-canary: {exact: "1"}}}], route: [{cluster: canary}]}
      - {name: api, match: [{uri: {prefix: /api/}}], route: [{cluster: api}]}
      - {name: static, match: [{uri: {prefix: /static/}}], route: [{cluster: static}]}
      - {name: default, route: [{cluster: web}]}
  - service: bench-l7-local
    hosts: ["*"]
    http:
      - {name: canary, match: [{headers: {x-canary: {exact: "1"}}}], route: [{cluster: canary-b}]}
      - {name: api, match: [{uri: {prefix: /api/}}], route: [{cluster: api-b}]}
      - {name: static, match: [{uri: {prefix: /static/}}], route: [{cluster: static-b}]}
      - {name: default, route: [{cluster: web-b}]}
EOF
}

# SERVICES http services with ROUTES_PER_SERVICE routes each, for the
# apply time of 1,000 services / 10,000 routes.
l7_scale_yaml() {	# SERVICES ROUTES_PER_SERVICE
	echo "services:"
	_i=0
	while [ "$_i" -lt "$1" ]; do
		echo "  - {name: s$_i, addresses: [127.100.$((_i / 250)).$((_i % 250 + 1))], ports: [{port: 80, protocol: http}], cluster: c$_i}"
		_i=$((_i + 1))
	done
	echo "clusters:"
	_i=0
	while [ "$_i" -lt "$1" ]; do
		echo "  - {name: c$_i, endpoints: [{address: 127.200.$((_i / 250)).$((_i % 250 + 1)), port: 8080}]}"
		_i=$((_i + 1))
	done
	echo "routes:"
	_i=0
	while [ "$_i" -lt "$1" ]; do
		echo "  - service: s$_i"
		echo "    http:"
		_j=0
		while [ "$_j" -lt "$2" ]; do
			echo "      - {name: r$_j, match: [{uri: {prefix: /r$_j/}}], route: [{cluster: c$_i}]}"
			_j=$((_j + 1))
		done
		_i=$((_i + 1))
	done
}

# Both: the L4 mesh with the L7 service and routes merged in.
mesh_l7_yaml() {
	mesh_yaml | sed '/^clusters:/,$d'
	l7_yaml | sed '/^clusters:/,$d'
	echo "clusters:"
	mesh_yaml | sed '1,/^clusters:/d'
	l7_yaml | sed '1,/^clusters:/d' | sed '/^routes:/,$d'
	l7_yaml | sed -n '/^routes:/,$p'
}

kmesh_up() {
	mesh_yaml >"$WORK/mesh.yaml"
	if ! "$KMESHCTL" up --cgroup "$CG/mesh" -f "$WORK/mesh.yaml" >"$WORK/up.out" 2>&1; then
		KMESH_UP_ERR=$(tr '\n' ' ' <"$WORK/up.out")
		"$KMESHCTL" down >/dev/null 2>&1
		return 1
	fi
	KMESH_IS_UP=1
}

# L7 mode as kmeshctl status reports it: kfunc | fallback | "" (unknown)
l7_mode() {
	"$KMESHCTL" status 2>/dev/null | sed -n 's/^l7 mode: *\([a-z]*\).*/\1/p'
}

# ---- paths: setup ----

start_backends() {
	cg_spawn "$CG/plain/server" "$WORK/srv-a.log" "$BIN/benchsrv" http ${SRV_A%:*} ${SRV_A#*:} --tag a --max-seconds 3600
	wait_ready "$WORK/srv-a.log" || return 1
	cg_spawn "$CG/mesh/server" "$WORK/srv-b.log" "$BIN/benchsrv" http ${SRV_B%:*} ${SRV_B#*:} --tag b --max-seconds 3600
	wait_ready "$WORK/srv-b.log" || return 1
	cg_spawn "$CG/plain/server" "$WORK/srv-probe.log" "$BIN/benchsrv" http ${SRV_PROBE%:*} ${SRV_PROBE#*:} --tag probe --max-seconds 3600
	wait_ready "$WORK/srv-probe.log" || return 1
	start_stream_backends
}

# The pod-to-pod baseline (host lane): two network namespaces held by a
# sleeping process each (no names under /run/netns to collide with another
# run), a veth from each into a bridge in the lane's namespace, the sink
# and the echo server in the server pod (unmeshed cgroups: no kmesh on
# this path). Sets POD_CLI_PID (the load generator runs under
# nsenter into it, X_veth), or POD_WHY.
POD_CLI_PID=
pods_up() {
	POD_WHY="cannot create the pods' network namespaces and veth pair (ip, nsenter, unshare)"
	command -v nsenter >/dev/null && command -v unshare >/dev/null || return 1
	unshare -n sleep 3600 &
	_srv=$!
	PIDS="$PIDS $_srv"
	unshare -n sleep 3600 &
	_cli=$!
	PIDS="$PIDS $_cli"
	sleep 0.1
	ip link add kbr0 type bridge 2>/dev/null && ip link set kbr0 up || return 1
	for _p in "$_srv $POD_SRV s" "$_cli $POD_CLI c"; do
		set -- $_p
		ip link add kv$3 type veth peer name eth0 netns "$1" || return 1
		ip link set kv$3 master kbr0 up || return 1
		nsenter -t "$1" -n sh -c "ip link set lo up && ip addr add $2/24 dev eth0 && ip link set eth0 up" || return 1
	done
	for s in "sink $SINK_PLAIN" "echo $ECHO_PLAIN"; do
		set -- $s
		cg_spawn "$CG/plain/server" "$WORK/$1-pod.log" nsenter -t "$_srv" -n "$BIN/benchsrv" "$1" "$POD_SRV" ${2#*:} --max-seconds 3600
		wait_ready "$WORK/$1-pod.log" || { POD_WHY="the server pod's $1 did not start"; return 1; }
	done
	POD_CLI_PID=$_cli
	X_veth="nsenter -t $_cli -n"
}

# The sink and echo servers of run_stream, plain and meshed.
start_stream_backends() {
	for s in "sink $SINK_PLAIN plain" "sink $SINK_MESH mesh" "echo $ECHO_PLAIN plain" "echo $ECHO_MESH mesh"; do
		set -- $s
		cg_spawn "$CG/$3/server" "$WORK/$1-$3.log" "$BIN/benchsrv" "$1" ${2%:*} ${2#*:} --max-seconds 3600
		wait_ready "$WORK/$1-$3.log" || return 1
	done
}

path_setup_direct() {
	T_direct=$SRV_A
	C_direct=$CG/plain/client
}

path_setup_l4() {
	[ -n "$KMESH_IS_UP" ] || { echo "kmeshctl up failed: $KMESH_UP_ERR"; return 1; }
	T_l4=$VIP_L4:80
	C_l4=$CG/mesh/client
}

path_setup_l4redir() {
	[ -n "$KMESH_IS_UP" ] || { echo "kmeshctl up failed: $KMESH_UP_ERR"; return 1; }
	T_l4redir=$VIP_REDIR:80
	C_l4redir=$CG/mesh/client
}

# L7: one path, named after the mode kmeshctl status reports (kfunc on
# the kfunc lane, fallback on the stock lane and wherever kfuncs are not
# callable from sk_msg). Available when kmeshctl accepts the routes and
# they are seen at work: in kfunc mode a request for the probe prefix
# reaches the probe backend, which nothing but its route leads to (the
# connect waits for the first request, routed in the kernel); in fallback
# mode the connect is made before any request, so the route cannot pick
# the backend, and the evidence is every request head checked in eBPF.
path_setup_l7() {
	[ -n "$KMESH_IS_UP" ] || { echo "kmeshctl up failed: $KMESH_UP_ERR"; return 1; }
	_mode=$(l7_mode)
	[ -n "$_mode" ] || { echo "kmeshctl status reports no l7 mode"; return 1; }
	mesh_l7_yaml >"$WORK/mesh-l7.yaml"
	if ! "$KMESHCTL" apply -f "$WORK/mesh-l7.yaml" >"$WORK/apply-l7.out" 2>&1; then
		echo "l7 $_mode: kmeshctl apply refuses the routes: $(head -n1 "$WORK/apply-l7.out" | sed 's/^kmeshctl: //; s/^[^ ]*\.yaml:[0-9]*: //' | cut -c1-110)"
		# Put the plain mesh back (a refused apply changes nothing, but be sure).
		"$KMESHCTL" apply -f "$WORK/mesh.yaml" >/dev/null 2>&1
		return 1
	fi
	_heads=$(l7_heads_checked)
	if [ "$_mode" = kfunc ]; then
		_paths=${PROBE_PATH}x _expect="x-backend: probe"
	else
		_paths=/api/x _expect="x-backend: a"
	fi
	if ! cg_exec "$CG/mesh/client" "$BIN/loadgen" http --target "$VIP_L7:80" --conns 1 \
		--duration 0.3 --warmup 0 --paths "$_paths" --expect "$_expect" \
		>"$WORK/l7-probe.out" 2>&1; then
		echo "l7 $_mode: kmeshctl accepts the routes but a request for $_paths gets no answer from the backend expected ($_expect): $(tail -n1 "$WORK/l7-probe.out" | cut -c1-80)"
		"$KMESHCTL" apply -f "$WORK/mesh.yaml" >/dev/null 2>&1
		return 1
	fi
	if [ "$(l7_heads_checked)" -le "${_heads:-0}" ]; then
		echo "l7 $_mode: requests were answered but kmesh checked no request head (kmeshctl status)"
		"$KMESHCTL" apply -f "$WORK/mesh.yaml" >/dev/null 2>&1
		return 1
	fi
	T_l7=$VIP_L7:80
	C_l7=$CG/mesh/client
	L7_MODE=$_mode
}

# L7 to a local meshed server (issue 13's l7_local_*): the same routes on
# VIP_L7_LOCAL, every cluster the meshed backend SRV_B, so both sockets
# can enter the sockhash. Set up after l7 (its config holds both
# services); evidence: the meshed backend answers and kmesh checked the
# request heads. Whether the messages went socket to socket shows in the
# run's stats (bench-l7-local redirected).
path_setup_l7local() {
	[ -n "${L7_MODE:-}" ] || { echo "needs the l7 path (its config holds this service): not set up"; return 1; }
	_heads=$(l7_heads_checked)
	if ! cg_exec "$CG/mesh/client" "$BIN/loadgen" http --target "$VIP_L7_LOCAL:80" --conns 1 \
		--duration 0.3 --warmup 0 --paths /api/x --expect "x-backend: b" \
		>"$WORK/l7local-probe.out" 2>&1; then
		echo "l7 $L7_MODE: a request to the local http service gets no answer from the meshed backend: $(tail -n1 "$WORK/l7local-probe.out" | cut -c1-80)"
		return 1
	fi
	if [ "$(l7_heads_checked)" -le "${_heads:-0}" ]; then
		echo "l7 $L7_MODE: requests to the local http service were answered but kmesh checked no request head"
		return 1
	fi
	T_l7local=$VIP_L7_LOCAL:80
	C_l7local=$CG/mesh/client
}

# Request heads kmesh's sk_msg program has checked so far (kmeshctl status).
l7_heads_checked() {
	_n=$("$KMESHCTL" status 2>/dev/null | sed -n 's/^ *\([0-9][0-9]*\) request heads checked.*/\1/p')
	echo "${_n:-0}"
}

haproxy_cfg() {	# LISTEN [EXTRA_ROUTES]
	cat <<EOF
global
    maxconn 4096
    nbthread 1
    pidfile $WORK/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option http-keep-alive
frontend fe
    bind $1
    acl probe path_beg $PROBE_PATH
    acl canary req.hdr(x-canary) -m str 1
    acl api path_beg /api/
    acl static path_beg /static/
    use_backend probe if probe
    use_backend canary if canary
    use_backend api if api
    use_backend static if static
EOF
	_i=0
	while [ "$_i" -lt "${2:-0}" ]; do
		echo "    use_backend fill$_i if { path_beg /r$_i/ }"
		_i=$((_i + 1))
	done
	echo "    default_backend web"
	for b in web api static canary; do
		printf 'backend %s\n    server s1 %s\n' $b $SRV_A
	done
	printf 'backend probe\n    server s1 %s\n' $SRV_PROBE
	_i=0
	while [ "$_i" -lt "${2:-0}" ]; do
		printf 'backend fill%d\n    server s1 %s\n' $_i $SRV_A
		_i=$((_i + 1))
	done
}

path_setup_haproxy() {
	[ -n "$HAPROXY_BIN" ] || { echo "haproxy not installed (scripts/install-bench-deps.sh)"; return 1; }
	haproxy_cfg "$HAPROXY_ADDR" >"$WORK/haproxy.cfg"
	cg_spawn "$CG/plain/proxy" "$WORK/haproxy.log" "$HAPROXY_BIN" -db -f "$WORK/haproxy.cfg"
	wait_port "$HAPROXY_ADDR" || { echo "haproxy did not start: $(tail -n2 "$WORK/haproxy.log" | tr '\n' ' ')"; return 1; }
	T_haproxy=$HAPROXY_ADDR
	C_haproxy=$CG/plain/client
}

nginx_cfg() {	# LISTEN [EXTRA_ROUTES]
	cat <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-tmp;
    proxy_temp_path $WORK/nginx-tmp;
    upstream a { server $SRV_A; keepalive 512; }
    upstream probe { server $SRV_PROBE; keepalive 16; }
    keepalive_requests 1000000;
    server {
        listen $1;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        location $PROBE_PATH { proxy_pass http://probe; }
        location /api/ { proxy_pass http://a; }
        location /static/ { proxy_pass http://a; }
EOF
	_i=0
	while [ "$_i" -lt "${2:-0}" ]; do
		echo "        location /r$_i/ { proxy_pass http://a; }"
		_i=$((_i + 1))
	done
	cat <<EOF
        location / {
            if (\$http_x_canary = "1") { proxy_pass http://a; }
            proxy_pass http://a;
        }
    }
}
EOF
}

path_setup_nginx() {
	[ -n "$NGINX_BIN" ] || { echo "nginx not installed (scripts/install-bench-deps.sh)"; return 1; }
	mkdir -p "$WORK/nginx-tmp"
	nginx_cfg "$NGINX_ADDR" >"$WORK/nginx.conf"
	cg_spawn "$CG/plain/proxy" "$WORK/nginx.log" "$NGINX_BIN" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
	wait_port "$NGINX_ADDR" || { echo "nginx did not start: $(tail -n2 "$WORK/nginx-error.log" | tr '\n' ' ')"; return 1; }
	T_nginx=$NGINX_ADDR
	C_nginx=$CG/plain/client
}

# setup_paths KIND NAME...: set up each; AVAIL lists the ready ones, the
# others get a skipped row of KIND.
setup_paths() {
	_kind=$1
	shift
	AVAIL=
	for p in "$@"; do
		if path_setup_$p >"$WORK/why" 2>&1; then
			AVAIL="$AVAIL $p"
		else
			skip_row "$_kind" "$p" "$(head -n1 "$WORK/why" | tr ',' ';')"
		fi
	done
}

# ---- measurements ----

# measure KIND PATH CONC RATE REP LOADGEN_ARGS...
measure() {
	_kind=$1 _path=$2 _conc=$3 _rate=$4 _rep=$5
	shift 5
	# X_PATH: what runs the load generator (nsenter into a pod's netns;
	# bpfrun for the program times), empty for most paths
	eval "_t=\$T_$_path _c=\$C_$_path _x=\${X_$_path:-}"
	_before=$(cpu_snap "$_c")
	_out=$(cg_exec "$_c" $_x ${MEASURE_WRAP:-} "$BIN/loadgen" "$@" --target "$_t" 2>"$WORK/loadgen.err")
	_rc=$?
	_after=$(cpu_snap "$_c")
	if [ -z "$_out" ]; then
		row "$_kind" "$_path" "" "$_conc" "$_rate" "$_rep" "" "" "" \
			"error: $(head -c 120 "$WORK/loadgen.err" | tr ',\n' ';;')"
		return 1
	fi
	_note=
	case "$_out" in *saturated=1*) _note=saturated ;; esac
	[ $_rc = 0 ] || _note="error: no request succeeded"
	row "$_kind" "$_path" "" "$_conc" "$_rate" "$_rep" "$_out" "$(cpu_delta "$_before" "$_after")" "" "$_note"
	LAST_OUT=$_out
}

# Throughput at fixed concurrency, closed loop, interleaved.
run_tput() {	# PATHS...
	_r=1
	while [ $_r -le "$REPS" ]; do
		for c in $CONCS; do
			for p in "$@"; do
				measure tput "$p" "$c" "" "$_r" http --conns "$c" --duration "$D_TPUT" \
					--warmup "$WARMUP" --paths "$REQ_PATHS"
			done
		done
		# the machine's load next to the figures (shared machine)
		row loadavg tput "" "" "" "$_r" "" "" "$(cut -d' ' -f1 /proc/loadavg)" "1-minute load average after the repetition"
		log "throughput: repetition $_r/$REPS done"
		_r=$((_r + 1))
	done
}

# New connection per request: connect-time LB is paid per connect.
run_conn() {	# PATHS...
	_r=1
	while [ $_r -le "$REPS" ]; do
		for p in "$@"; do
			measure conn "$p" 16 "" "$_r" http --new-conn --conns 16 --duration "$D_TPUT" \
				--warmup "$WARMUP" --paths "$REQ_PATHS"
		done
		_r=$((_r + 1))
	done
}

# Latency at a fixed rate, open loop, interleaved.
run_lat() {	# RATE PATHS...
	_rate=$1
	shift
	_r=1
	while [ $_r -le "$REPS" ]; do
		for p in "$@"; do
			measure lat "$p" 16 "$_rate" "$_r" http --rate "$_rate" --conns 16 \
				--duration "$D_LAT" --warmup "$WARMUP" --paths "$REQ_PATHS"
		done
		log "latency: repetition $_r/$REPS done"
		_r=$((_r + 1))
	done
}

# Same-node stream: plain loopback vs kmesh's sk_msg redirect, 1 KB
# writes (throughput), and 1 KB ping-pong (round trips, latency). Both
# ends of the redirect path are meshed (client and server cgroups), so
# both sockets enter the sockhash; the loopback path's are not.
run_stream() {
	C_loopback=$CG/plain/client C_redirect=$CG/mesh/client C_veth=$CG/plain/client
	_paths=loopback
	if [ -n "$POD_CLI_PID" ]; then
		_paths="$_paths veth"
	else
		skip_row stream veth "${POD_WHY:-no pod-to-pod baseline in this lane}"
	fi
	if [ -n "$KMESH_IS_UP" ]; then
		_paths="$_paths redirect"
	else
		skip_row stream redirect "kmeshctl up failed: $KMESH_UP_ERR"
		skip_row rr redirect "kmeshctl up failed: $KMESH_UP_ERR"
	fi
	_r=1
	while [ $_r -le "$REPS" ]; do
		T_loopback=$SINK_PLAIN T_redirect=$VIP_SINK:80 T_veth=$POD_SRV:${SINK_PLAIN#*:}
		for p in $_paths; do
			measure stream "$p" 1 "" "$_r" stream --size 1024 --duration "$D_STREAM" --warmup "$WARMUP"
		done
		T_loopback=$ECHO_PLAIN T_redirect=$VIP_ECHO:80 T_veth=$POD_SRV:${ECHO_PLAIN#*:}
		for p in $_paths; do
			measure rr "$p" 1 "" "$_r" rr --size 1024 --duration "$D_STREAM" --warmup "$WARMUP"
		done
		log "stream: repetition $_r/$REPS done"
		_r=$((_r + 1))
	done
}

# Where an L7 request's added time goes (issue 13): every path once more
# per repetition at 16 connections, closed loop, with the kernel timing
# kmesh's programs (bench/src/bpfrun.c: BPF_ENABLE_STATS for that run
# only, so these runs are not among the measured ones). Rows: kind
# breakdown (the run itself: requests, CPU), kind bprog (one per program
# that ran: value = ns per run, note = "prog=NAME runs=N run_ns=T").
run_breakdown() {	# PATHS...
	[ -n "$KMESH_IS_UP" ] || return 0
	[ -x "$BIN/bpfrun" ] || { skip_row breakdown l7 "bpfrun not built"; return 0; }
	_r=1
	while [ $_r -le "${BREAKDOWN_REPS:-$REPS}" ]; do
		for p in "$@"; do
			MEASURE_WRAP="$BIN/bpfrun ${KMESH_PIN_DIR:-/sys/fs/bpf/kmesh}" \
				measure breakdown "$p" 16 "" "$_r" http --conns 16 --duration "$D_TPUT" \
				--warmup "$WARMUP" --paths "$REQ_PATHS" || continue
			echo "$LAST_OUT" | sed -n 's/^bpfrun: \(prog=[^ ]*\) \(runs=[0-9]*\) \(run_ns=[0-9]*\) ns_per_run=\([0-9.]*\).*/\4 \1 \2 \3/p' |
				while read -r _ns _note; do
					row bprog "$p" "" 16 "" "$_r" "" "" "$_ns" "$_note"
				done
		done
		log "breakdown: repetition $_r/${BREAKDOWN_REPS:-$REPS} done"
		_r=$((_r + 1))
	done
}

# Median of the rps of tput rows of PATH at CONC in ROWS-like text on stdin.
# (Used to pick the latency run's rate: a fraction of the slowest path's
# throughput, so every path is below saturation.)
pick_rate() {	# FRACTION MIN MAX PATHS...
	_file=$WORK/rows.csv _frac=$1 _min=$2 _max=$3
	shift 3
	_list=$(echo "$*" | tr ' ' '|')
	awk -F, -v paths="^($_list)\$" -v frac="$_frac" \
		-v lo="$_min" -v hi="$_max" '
		$2 == "tput" && $5 == 16 && $3 ~ paths && $10 != "" { v[$3] = v[$3] " " $10 }
		END {
			best = -1
			for (p in v) {
				n = split(v[p], a, " ")
				for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
				m = a[int((n + 1) / 2)]
				if (best < 0 || m < best) best = m
			}
			r = best * frac
			if (best < 0 || r < lo) r = lo
			if (r > hi) r = hi
			printf "%d\n", int(r / 10) * 10
		}' "$_file"
}

# ---- the traffic part, the same on the host and in the VM ----

# bench_traffic HTTP_PATHS: every measurement (backends and kmesh are up).
bench_traffic() {
	setup_paths tput $1
	_avail=$AVAIL
	log "paths ready:$_avail"
	run_tput $_avail
	_conn=
	for p in $_avail; do
		case $p in direct|l4|l4redir|haproxy) _conn="$_conn $p" ;; esac
	done
	[ "${RUN_CONN:-1}" = 1 ] && run_conn $_conn
	# Latency at LAT_FRACTION (10%) of the slowest path's closed-loop throughput at 16
	# connections: below saturation for every path, the same rate for all.
	LAT_RATE=$(pick_rate "$LAT_FRACTION" 50 20000 $_avail)
	log "latency at $LAT_RATE requests/s"
	run_lat "$LAT_RATE" $_avail
	run_stream
	_bd=
	for p in $_avail; do
		case $p in direct|l4|l4redir|l7|l7local) _bd="$_bd $p" ;; esac
	done
	run_breakdown $_bd
	# Evidence that the kmesh paths took the kernel path they claim.
	if [ -n "$KMESH_IS_UP" ]; then
		row info kmeshctl-stats "" "" "" "" "" "" "" \
			"$("$KMESHCTL" stats 2>&1 | grep -E '^node:|^service bench-(l4|redir|sink|l7|l7-local) ' | sed 's/ refused_[a-z_]* 0//g; s/ duration_ns [0-9]*//; s/ retransmits 0//' | tr '\n,' '|;')"
	fi
	row info load "" "" "" "" "" "" "" "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---- inbound authorization: a protected workload vs an unprotected one ----

# Two backends in the meshed cgroup, alike but for a policy: SRV_IN_ON is
# the endpoint of an http service with authorization (a DENY no request of
# the mix matches: every head is parsed and checked on receive, all pass),
# SRV_IN_OFF of none. Unmeshed clients dial them directly: the destination's
# check is the whole cost. The config adds to whatever is applied
# (the L7 routes when accepted, else the plain mesh).
inbound_yaml() {	# BASE_YAML
	sed '/^clusters:/,$d' "$1"
	echo "  - {name: bench-in, addresses: [$VIP_IN], ports: [{port: 80, protocol: http}], cluster: in-on}"
	sed -n '/^clusters:/,/^routes:/p' "$1" | sed '/^routes:/d'
	echo "  - {name: in-on, endpoints: [{address: ${SRV_IN_ON%:*}, port: ${SRV_IN_ON#*:}}]}"
	sed -n '/^routes:/,$p' "$1"
	cat <<EOF
authorization:
  - name: bench-deny
    service: bench-in
    action: DENY
    rules: [{to: [{operation: {paths: ["/kmesh-bench-never*"]}}]}]
EOF
}

# run_inbound: keep-alive throughput at 16 connections (kind inbound) and a
# new connection per request (kind inbound_conn: the first request of a
# connection, where data that beats accept() waits a retransmission),
# both paths interleaved in every repetition.
run_inbound() {
	[ -n "$KMESH_IS_UP" ] || { skip_row inbound inbound_on "kmeshctl up failed: $KMESH_UP_ERR"; return; }
	for s in "$SRV_IN_ON on" "$SRV_IN_OFF off"; do
		set -- $s
		cg_spawn "$CG/mesh/server" "$WORK/srv-in-$2.log" "$BIN/benchsrv" http ${1%:*} ${1#*:} --tag a --max-seconds 3600
		wait_ready "$WORK/srv-in-$2.log" || { skip_row inbound inbound_on "backend $1 did not start"; return; }
	done
	_base=$WORK/mesh.yaml
	[ -s "$WORK/mesh-l7.yaml" ] && "$KMESHCTL" apply --dry-run -f "$WORK/mesh-l7.yaml" >/dev/null 2>&1 &&
		_base=$WORK/mesh-l7.yaml
	inbound_yaml "$_base" >"$WORK/mesh-inbound.yaml"
	if ! "$KMESHCTL" apply -f "$WORK/mesh-inbound.yaml" >"$WORK/apply-in.out" 2>&1; then
		skip_row inbound inbound_on "kmeshctl apply refuses the policy: $(head -n1 "$WORK/apply-in.out" | tr ',' ';' | cut -c1-110)"
		return
	fi
	T_inbound_on=$SRV_IN_ON C_inbound_on=$CG/plain/client
	T_inbound_off=$SRV_IN_OFF C_inbound_off=$CG/plain/client
	_checked=$(inbound_requests_checked)
	_r=1
	while [ $_r -le "$REPS" ]; do
		for p in inbound_off inbound_on; do
			measure inbound "$p" 16 "" "$_r" http --conns 16 --duration "$D_TPUT" \
				--warmup "$WARMUP" --paths "$REQ_PATHS"
		done
		for p in inbound_off inbound_on; do
			measure inbound_conn "$p" 4 "" "$_r" http --new-conn --conns 4 --duration "$D_TPUT" \
				--warmup "$WARMUP" --paths "$REQ_PATHS"
		done
		log "inbound: repetition $_r/$REPS done"
		_r=$((_r + 1))
	done
	# evidence: the protected path's requests were checked on receive
	row info inbound-stats "" "" "" "" "" "" "" \
		"request heads checked on receive during the run: $(($(inbound_requests_checked) - ${_checked:-0}))"
	"$KMESHCTL" apply -f "$_base" >/dev/null 2>&1
}

# Two http services alike, one with a per-source rate limit no load here
# reaches and outlier detection on its cluster, one with neither.
resilience_yaml() {	# BASE_YAML
	sed '/^clusters:/,$d' "$1"
	cat <<EOF
  - name: bench-res-on
    addresses: [$VIP_RES_ON]
    ports: [{port: 80, protocol: http}]
    cluster: res-on
    rate_limit: {requests_per_second: 1000000, burst: 65535, per_source: true}
  - {name: bench-res-off, addresses: [$VIP_RES_OFF], ports: [{port: 80, protocol: http}], cluster: res-off}
EOF
	sed -n '/^clusters:/,/^routes:/p' "$1" | sed '/^routes:/d'
	cat <<EOF
  - name: res-on
    outlier_detection: {consecutive_connect_failures: 5, split_external_local_origin_errors: true, consecutive_5xx: 0}
    endpoints: [{address: ${SRV_A%:*}, port: ${SRV_A#*:}}]
  - {name: res-off, endpoints: [{address: ${SRV_A%:*}, port: ${SRV_A#*:}}]}
EOF
	sed -n '/^routes:/,$p' "$1"
}

# run_resilience (issue 16): keep-alive L7 throughput at 16 connections
# through the service with the rate limit and outlier detection and
# through the one without, interleaved in every repetition; then a new
# connection per request (every connect through the outlier pick, every
# request through the request bucket).
run_resilience() {
	[ -n "$KMESH_IS_UP" ] || { skip_row resilience res_on "kmeshctl up failed: $KMESH_UP_ERR"; return; }
	_base=$WORK/mesh.yaml
	[ -s "$WORK/mesh-l7.yaml" ] && "$KMESHCTL" apply --dry-run -f "$WORK/mesh-l7.yaml" >/dev/null 2>&1 &&
		_base=$WORK/mesh-l7.yaml
	resilience_yaml "$_base" >"$WORK/mesh-resilience.yaml"
	if ! "$KMESHCTL" apply -f "$WORK/mesh-resilience.yaml" >"$WORK/apply-res.out" 2>&1; then
		skip_row resilience res_on "kmeshctl apply refuses it: $(head -n1 "$WORK/apply-res.out" | tr ',' ';' | cut -c1-110)"
		return
	fi
	T_res_on=$VIP_RES_ON:80 C_res_on=$CG/mesh/client
	T_res_off=$VIP_RES_OFF:80 C_res_off=$CG/mesh/client
	_r=1
	while [ $_r -le "$REPS" ]; do
		for p in res_off res_on; do
			measure resilience "$p" 16 "" "$_r" http --conns 16 --duration "$D_TPUT" \
				--warmup "$WARMUP" --paths "$REQ_PATHS"
		done
		for p in res_off res_on; do
			measure resilience_conn "$p" 4 "" "$_r" http --new-conn --conns 4 --duration "$D_TPUT" \
				--warmup "$WARMUP" --paths "$REQ_PATHS"
		done
		log "resilience: repetition $_r/$REPS done"
		_r=$((_r + 1))
	done
	# evidence: the limit was on the path and limited nothing
	row info resilience-stats "" "" "" "" "" "" "" \
		"$("$KMESHCTL" stats 2>/dev/null | grep -m1 "^rate_limit service bench-res-on " | tr ',' ';')"
	"$KMESHCTL" apply -f "$_base" >/dev/null 2>&1
}

# Request heads checked on receive so far (kmeshctl stats, "inbound node:").
inbound_requests_checked() {
	_n=$("$KMESHCTL" stats 2>/dev/null | sed -n 's/^inbound node:.* requests \([0-9][0-9]*\).*/\1/p' | head -n1)
	echo "${_n:-0}"
}

# RSS in bytes of every process of a cgroup.
cg_rss() {
	_sum=0
	for _p in $(cat "$1/cgroup.procs"); do
		_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$_p/status" 2>/dev/null)
		_sum=$((_sum + ${_kb:-0}))
	done
	echo $((_sum * 1024))
}

# Proxy memory at N routes: its own instance in plain/memprobe, warmed up
# with a second of traffic spread over its routes (backends must be up),
# then the RSS of its processes.
proxy_mem() {	# haproxy|nginx N
	_port=18093
	case $1 in
	haproxy)
		[ -n "$HAPROXY_BIN" ] || { skip_row mem haproxy "haproxy not installed" "$2"; return; }
		haproxy_cfg "127.0.0.1:$_port" "$2" >"$WORK/memprobe.cfg"
		cg_spawn "$CG/plain/memprobe" "$WORK/memprobe.log" "$HAPROXY_BIN" -db -f "$WORK/memprobe.cfg" ;;
	nginx)
		[ -n "$NGINX_BIN" ] || { skip_row mem nginx "nginx not installed" "$2"; return; }
		mkdir -p "$WORK/nginx-tmp"
		nginx_cfg "127.0.0.1:$_port" "$2" | sed "s|$WORK/nginx.pid|$WORK/memprobe.pid|" >"$WORK/memprobe.cfg"
		cg_spawn "$CG/plain/memprobe" "$WORK/memprobe.log" "$NGINX_BIN" -c "$WORK/memprobe.cfg" -e "$WORK/memprobe-error.log" ;;
	esac
	if wait_port "127.0.0.1:$_port"; then
		_paths=/r0/x
		_i=1
		while [ $_i -lt "$2" ] && [ $_i -lt 64 ]; do
			_paths="$_paths,/r$((_i * $2 / 64))/x"
			_i=$((_i + 1))
		done
		"$BIN/loadgen" http --target "127.0.0.1:$_port" --conns 16 --duration 1 --warmup 0 \
			--paths "$_paths,$REQ_PATHS" >/dev/null 2>&1
		row mem "$1" "$2" "" "" "" "" "" "$(cg_rss "$CG/plain/memprobe")" "RSS of all its processes"
	else
		skip_row mem "$1" "did not start with $2 routes" "$2"
	fi
	for _p in $(cat "$CG/plain/memprobe/cgroup.procs"); do
		kill "$_p" 2>/dev/null
	done
	_i=0
	while [ -n "$(cat "$CG/plain/memprobe/cgroup.procs")" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	for _p in $(cat "$CG/plain/memprobe/cgroup.procs"); do
		kill -9 "$_p" 2>/dev/null
	done
}

# kmesh's BPF objects with N services applied (N <= 1023: the L4 limit).
kmesh_mem() {	# N
	if [ -z "$KMESH_IS_UP" ]; then
		skip_row mem kmesh_l4 "kmeshctl up failed: $KMESH_UP_ERR" "$1"
		return
	fi
	if [ "$1" -gt 1023 ]; then
		skip_row mem kmesh_l4 "L4 holds at most 1023 services (docs/config.md limits)" "$1"
		return
	fi
	mesh_yaml $(($1 - 4)) >"$WORK/mesh-$1.yaml"
	if ! "$KMESHCTL" apply -f "$WORK/mesh-$1.yaml" >"$WORK/apply.out" 2>&1; then
		skip_row mem kmesh_l4 "apply failed: $(head -n1 "$WORK/apply.out" | tr ',' ';')" "$1"
		return
	fi
	_m=$("$BIN/bpfmem" "${KMESH_PIN_DIR:-/sys/fs/bpf/kmesh}")
	_b=$(echo "$_m" | tr ' ' '\n' | awk -F= '$1 == "map_bytes" || $1 == "prog_bytes" { s += $2 } END { print s + 0 }')
	row mem kmesh_l4 "$1" "" "" "" "" "" "$_b" "BPF maps and programs: $_m"
}
