#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `kmeshctl metrics` and `kmeshctl log` on the host's own kernel (no module:
# L7 in fallback mode): known HTTP traffic through service VIPs from a child
# cgroup created here (always removed), then a Prometheus scrape over HTTP
# with curl whose numbers must match the traffic exactly, connection and
# request counters alike, and the access log's records of the same traffic.
# Runs in a private mount and network namespace (own bpffs, own loopback),
# like l4.sh; the root cgroup is never touched.
#
#   selftests/host/metrics.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

host_require root cgroup2 netns btf
host_require_exe "$kmeshctl"
host_require_cmd curl busybox
[ -n "$host_why" ] || busybox httpd --help >/dev/null 2>&1 ||
	host_why="needs busybox httpd (scripts/install-deps.sh)"
host_ready "metrics: kmeshctl metrics serves the counters" kmesh-host-metrics
# The whole test runs inside the namespaces; it prints the TAP.
cat >"$t/inner.sh" <<'INNER'
set -uo pipefail
. "$here/tap.sh" >/dev/null	# the header is printed already
. "$here/lib.sh"
mount -t bpf bpf /sys/fs/bpf || { skip "metrics: kmeshctl metrics serves the counters" "cannot mount a private bpffs"; tap_done; exit; }
ip link set lo up
pids=()
stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$kmeshctl" down >/dev/null 2>&1
}
trap stop_all EXIT

in_cg() { bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }
# Two endpoints with bodies of known, different sizes.
for i in 1 2; do
	mkdir -p "$t/www$i"
	head -c $((1000 * i)) /dev/zero | tr '\0' "$i" >"$t/www$i/index.html"
	busybox httpd -f -p 127.0.0.1:1808$i -h "$t/www$i" &
	pids+=($!)
done
# The http service's backend runs in the meshed cgroup: kmesh sees both
# ends and pairs responses with requests (status classes, latency).
mkdir -p "$t/shop/items"
echo item >"$t/shop/items/a"
in_cg busybox httpd -f -p 127.0.0.1:18083 -h "$t/shop" &
pids+=($!)
cat >"$t/mesh.yaml" <<YAML
services:
  - {name: web, addresses: [10.96.0.20], ports: [{port: 80}], cluster: web}
  - {name: nowhere, addresses: [10.96.0.21], ports: [{port: 80}], cluster: empty}
  - {name: shop, addresses: [10.96.0.22], ports: [{port: 80, protocol: http}], cluster: shop}
clusters:
  - name: web
    lb: round_robin
    endpoints:
      - {address: 127.0.0.1, port: 18081}
      - {address: 127.0.0.1, port: 18082}
  - {name: empty, endpoints: []}
  - {name: shop, endpoints: [{address: 127.0.0.1, port: 18083}]}
routes:
  - service: shop
    http:
      - name: items
        match: [{uri: {prefix: /items}}]
        route: [{cluster: shop}]
      - name: other
        route: [{cluster: shop}]
authorization:
  - name: no-admin
    service: shop
    action: DENY
    rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
YAML
check "metrics: kmeshctl up -f mesh.yaml" "$kmeshctl" up --cgroup "$cg" -f "$t/mesh.yaml"

port=15020
"$kmeshctl" metrics --listen 127.0.0.1:$port >"$t/metrics.out" 2>&1 &
mpid=$!
pids+=($mpid)
wait_until 5 grep -q serving "$t/metrics.out"
check "metrics: kmeshctl metrics says where it listens" \
	grep -q "serving Prometheus text at http://127.0.0.1:$port/metrics" "$t/metrics.out"
"$kmeshctl" metrics --listen 127.0.0.1:$port >"$t/second.out" 2>&1
check "metrics: a second server on the same port exits 1" test $? = 1
check "metrics: ...naming the address and errno" \
	grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$t/second.out"
check "metrics: a bad --listen is a usage error" \
	sh -c "'$kmeshctl' metrics --listen nonsense 2>&1 | grep -q 'expected HOST:PORT'"

# Known traffic from inside the meshed cgroup: 6 requests through the VIP
# (round robin: 3 per endpoint), 1 to a service without endpoints.
sent=0 received=0 ok=0
for i in 1 2 3 4 5 6; do
	w=$(in_cg curl -s -o /dev/null --max-time 5 \
		-w '%{http_code} %{size_request} %{size_header} %{size_download}' \
		http://10.96.0.20/) || continue
	read -r code req hdr body <<<"$w"
	[ "$code" = 200 ] && ok=$((ok + 1))
	sent=$((sent + req)) received=$((received + hdr + body))
done
check "metrics: 6 requests through the VIP got 200" test "$ok" = 6
check "metrics: a connect to a service without endpoints is refused" \
	sh -c "! bash -c 'echo \$\$ >\"$cg/cgroup.procs\" && exec curl -s --max-time 5 http://10.96.0.21/'"

# HTTP: 4 GET /items/a (200), 2 GET /items/none (404 from the server),
# 1 HEAD /items/a (200), 1 GET /admin/x (403 from kmesh: the DENY rule).
codes=
for req in "GET /items/a" "GET /items/a" "GET /items/a" "GET /items/a" \
	"GET /items/none" "GET /items/none" "HEAD /items/a" "GET /admin/x"; do
	opts=(-s -o /dev/null --max-time 5 -w '%{http_code}')
	[ "${req% *}" = HEAD ] && opts+=(-I)
	codes="$codes $(in_cg curl "${opts[@]}" "http://10.96.0.22${req#* }")"
done
check "metrics: 8 HTTP requests got 200 x4, 404 x2, 200 (HEAD), 403" \
	sh -c "[ '$codes' = ' 200 200 200 200 404 404 200 403' ] || { echo 'got$codes'; false; }"

scrape() { curl -s --max-time 5 "$@" "http://127.0.0.1:$port/metrics"; }
value() { awk -v m="$1" '$1 == m { print $2 }' "$t/scrape.txt"; }
# Closes are counted when the kernel closes the sockets: wait for them.
all_closed() {
	scrape >"$t/scrape.txt"
	[ "$(value 'kmesh_service_tcp_connections_closed_total{service="web"}')" = 6 ]
}
wait_until 5 all_closed

curl -s -o /dev/null -D "$t/headers.txt" "http://127.0.0.1:$port/metrics"
check "metrics: /metrics answers 200 with the Prometheus text content type" \
	sh -c "grep -q '^HTTP/1.1 200' '$t/headers.txt' && grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' '$t/headers.txt'"
expect() {	# NAME METRIC VALUE
	local got
	got=$(value "$2")
	check "metrics: $1 = $3" sh -c "[ '$got' = '$3' ] || { echo 'got \"$got\" for $2'; false; }"
}
expect "connections opened to web" 'kmesh_service_tcp_connections_opened_total{service="web"}' 6
expect "connections closed for web" 'kmesh_service_tcp_connections_closed_total{service="web"}' 6
expect "endpoint 18081 got 3 (round robin)" 'kmesh_endpoint_tcp_connections_opened_total{cluster="web",endpoint="127.0.0.1:18081"}' 3
expect "endpoint 18082 got 3 (round robin)" 'kmesh_endpoint_tcp_connections_opened_total{cluster="web",endpoint="127.0.0.1:18082"}' 3
expect "bytes sent by the client (curl's size_request summed)" 'kmesh_service_tcp_sent_bytes_total{service="web"}' "$sent"
expect "bytes received by the client (curl's headers + bodies summed)" 'kmesh_service_tcp_received_bytes_total{service="web"}' "$received"
expect "refused, no endpoint, for nowhere" 'kmesh_service_tcp_connections_refused_no_endpoint_total{service="nowhere"}' 1
expect "cluster web has no active connection left" 'kmesh_cluster_active_connections{cluster="web"}' 0
expect "HTTP GET via route items, 2xx" 'kmesh_http_requests_total{service="shop",route="items",method="GET",code="2xx"}' 4
expect "HTTP GET via route items, 4xx" 'kmesh_http_requests_total{service="shop",route="items",method="GET",code="4xx"}' 2
expect "HTTP HEAD via route items, 2xx" 'kmesh_http_requests_total{service="shop",route="items",method="HEAD",code="2xx"}' 1
expect "HTTP GET /admin/x via route other, denied" 'kmesh_http_requests_total{service="shop",route="other",method="GET",code="denied"}' 1
expect "HTTP GET via route items, no response unseen" 'kmesh_http_requests_total{service="shop",route="items",method="GET",code="unknown"}' 0
expect "HTTP requests checked on the node" kmesh_http_node_requests_total 8
expect "HTTP requests refused on the node" kmesh_http_node_denied_total 1
expect "latency histogram of route items, GET: count" 'kmesh_http_request_duration_seconds_count{service="shop",route="items",method="GET"}' 6
expect "latency histogram of route items, GET: +Inf bucket" 'kmesh_http_request_duration_seconds_bucket{service="shop",route="items",method="GET",le="+Inf"}' 6
check "metrics: latency buckets are cumulative, with exact bounds (1us .. 4.194304s), and a positive sum" awk '
	index($1, "kmesh_http_request_duration_seconds_bucket{service=\"shop\",route=\"items\",method=\"GET\",") == 1 {
		n++; if ($2 < last) { print "bucket decreases: " $0; bad = 1 }; last = $2
		le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); bounds = bounds " " le }
	$1 == "kmesh_http_request_duration_seconds_sum{service=\"shop\",route=\"items\",method=\"GET\"}" { sum = $2 }
	END { if (n != 24) { print n " buckets"; bad = 1 }
	      if (index(bounds, " 0.000001 0.000002 0.000004 ") != 1 || bounds !~ / 4\.194304 \+Inf$/) { print "bounds:" bounds; bad = 1 }
	      if (!(sum > 0)) { print "sum " sum; bad = 1 }
	      exit bad }' "$t/scrape.txt"
check "metrics: durations are exported in seconds" \
	sh -c "value=\$(awk '\$1 == \"kmesh_service_tcp_connection_duration_seconds_total{service=\\\"web\\\"}\" { print \$2 }' '$t/scrape.txt'); echo \"\$value\" | grep -qE '^[0-9]+\.[0-9]{9}\$' && [ \"\$value\" != 0.000000000 ]"

# Valid exposition format: every sample has a TYPE, every TYPE is known,
# names and values are well-formed, no name is declared twice.
check "metrics: the scrape is well-formed Prometheus text" \
	awk -f "$here/prom_wellformed.awk" "$t/scrape.txt"
check "metrics: every metric has a HELP line" awk '
	/^# HELP / { help[$3] = 1 } /^# TYPE / { type[$3] = 1 }
	END { for (m in type) if (!(m in help)) { print "no HELP for " m; bad = 1 }; exit bad }' "$t/scrape.txt"

# The access log of the same traffic: a request record per HTTP request
# (route, decision, status), and a connection record per connection, with
# the endpoint; the client's source address:port joins the two.
"$kmeshctl" log --json --wait 1 >"$t/log.json" 2>&1
http_rec() { grep '"type":"http"' "$t/log.json" | grep '"service":"shop"'; }
check "log: one request record per HTTP request (8)" test "$(http_rec | wc -l)" = 8
check "log: GET /items/a: route items, allow, status 200, to shop's endpoint, response seen" \
	test "$(http_rec | grep -c '"method":"GET","path":"/items/a","path_truncated":false,"route":"items","status":200,"decision":"allow","reason":"allow","cluster":"shop","endpoint_name":"shop/127.0.0.1:18083","response_seen":true')" = 4
check "log: GET /items/none: status 404 from the server" \
	test "$(http_rec | grep -c '"path":"/items/none",.*"status":404,"decision":"allow"')" = 2
check "log: GET /admin/x: denied by policy no-admin with 403" \
	test "$(http_rec | grep -c '"path":"/admin/x",.*"route":"other","status":403,"decision":"deny","reason":"deny_policy","policy":"no-admin"')" = 1
# each request record's source has one connection record, to shop's endpoint
joined() {
	local src
	for src in $(http_rec | sed 's/.*"source":"\([^"]*\)".*/\1/'); do
		[ "$(grep '"type":"tcp"' "$t/log.json" | grep -F "\"source\":\"$src\"" |
			grep -c '"cluster":"shop",.*"endpoint":"127.0.0.1:18083"')" = 1 ] ||
			{ echo "no single connection record for $src"; return 1; }
	done
}
check "log: every request record joins a connection record to shop's endpoint by its source" joined
text_log() {
	"$kmeshctl" log --wait 0 >/dev/null
	in_cg curl -s -o /dev/null --max-time 5 http://10.96.0.22/items/a
	"$kmeshctl" log --count 2 --wait 2 >"$t/log.txt"
	grep -q ' http shop GET /items/a route items allow status 200 -> shop/127.0.0.1:18083 latency [0-9.]*ms src ' "$t/log.txt" &&
		grep -q ' tcp shop 10.96.0.22:80 -> 127.0.0.1:18083 via shop src ' "$t/log.txt" ||
		{ cat "$t/log.txt"; false; }
}
check "log: the text form marks request records http and connection records tcp" text_log

"$kmeshctl" stats --prometheus >"$t/stats.txt"
scrape >"$t/scrape2.txt"
check "metrics: the scrape is exactly what kmeshctl stats --prometheus prints" \
	diff "$t/stats.txt" "$t/scrape2.txt"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "metrics: other paths are 404" test "$(code "http://127.0.0.1:$port/nope")" = 404
check "metrics: POST is 405" test "$(code -X POST "http://127.0.0.1:$port/metrics")" = 405
check "metrics: HEAD works" test "$(code -I "http://127.0.0.1:$port/metrics")" = 200

"$kmeshctl" down >/dev/null 2>&1
check "metrics: with kmesh down a scrape is 503, saying why" \
	sh -c "[ \"\$(curl -s -o '$t/down.txt' -w '%{http_code}' http://127.0.0.1:$port/metrics)\" = 503 ] && grep -q 'kmesh is not up' '$t/down.txt'"
kill -TERM "$mpid"
wait "$mpid"
check "metrics: SIGTERM stops the server cleanly (exit 0)" test $? = 0
tap_done
INNER
here=$here kmeshctl=$kmeshctl cg=$cg t=$t \
	unshare -m -n --propagation private bash "$t/inner.sh"
