# kmesh demo, guest side (busybox sh inside the VM, run by scripts/demo.sh):
# a small mesh on one node. Three services with real HTTP backends (busybox
# httpd, one per endpoint, each answering with its own name), curl as the
# client, and what kmesh says about every request.
#
#   web     10.96.0.10:80  http  routes: /api... -> cluster api,
#                                 "x-canary: 1" -> web-v2,
#                                 else a weighted split web-v1 80 / web-v2 20
#   api     10.96.0.20:80  http  authorization: DENY /admin* (403)
#   static  10.96.0.30:80  tcp   maglev: a client sticks to one endpoint
#
# Clients and backends all run in the meshed cgroup, so kmesh sees both
# ends: responses are paired with requests (status, latency) and data goes
# socket to socket.
#
# In kfunc mode (the test kernel) a connection to web is routed by its
# first request (deferred connect). In fallback mode (Debian's own kernel)
# routes are matched, counted and logged per request, but the endpoint is
# picked at connect() from the service's own cluster (web-all, the same
# 80/20 split by endpoint weight): the demo says which and checks each.
set -e

t0=$(cut -d' ' -f1 /proc/uptime)
since() { awk -v a="$1" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1fs", b - a }'; }
step_t=
step() {
	[ -z "$step_t" ] || printf '   (%s)\n' "$(since "$step_t")"
	step_t=$(cut -d' ' -f1 /proc/uptime)
	printf '\n\033[1m[%6s] == %s\033[0m\n' "$(since "$t0")" "$*"
}
note() { printf '   %s\n' "$*"; }
fail() { note "DEMO FAILED: $*"; exit 1; }
# Run a command inside the meshed cgroup (sh -c: $$ must be the command).
meshed() { sh -c 'echo $$ >/sys/fs/cgroup/apps/cgroup.procs && exec "$@"' sh "$@"; }

# ---------------------------------------------------------------------------
step "Loading the kmesh module: modprobe kmesh"
modprobe kmesh
printf '   parameters:'
for p in /sys/module/kmesh/parameters/*; do
	printf ' %s=%s' "$(basename "$p")" "$(cat "$p")"
done
printf '\n   kfunc hooks registered: %s\n' "$(cat /sys/module/kmesh/caps/kfunc_hooks)"

# ---------------------------------------------------------------------------
step "Starting 8 backends (busybox httpd, one per endpoint address on lo)"
mkdir -p /sys/fs/cgroup/apps
# name address: every backend serves the same paths, answering its name.
# "plain" is no service endpoint: the client reaches it directly.
backends="web-v1-a 10.0.1.1
web-v1-b 10.0.1.2
web-v2 10.0.1.3
api-a 10.0.2.1
api-b 10.0.2.2
static-a 10.0.3.1
static-b 10.0.3.2
plain 10.0.9.1"
echo "$backends" | while read -r name addr; do
	ip addr add "$addr/32" dev lo
	d=/srv/$name
	mkdir -p "$d/api/v1" "$d/admin"
	for f in index.html api/v1/items admin/index.html; do
		echo "$name" >"$d/$f"
	done
	meshed httpd -p "$addr:8080" -h "$d"
	note "$name on $addr:8080"
done

# ---------------------------------------------------------------------------
step "Writing the mesh config (/tmp/mesh.yaml; fields: docs/config.md)"
cat >/tmp/mesh.yaml <<'YAML'
services:
  - {name: web, addresses: [10.96.0.10], ports: [{port: 80, protocol: http}], cluster: web-all}
  - {name: api, addresses: [10.96.0.20], ports: [{port: 80, protocol: http}], cluster: api}
  - {name: static, addresses: [10.96.0.30], ports: [{port: 80}], cluster: static}
clusters:
  # web's own cluster: where fallback mode sends every web connection
  # (80/20 by endpoint weight), and kfunc mode what no route decides.
  - name: web-all
    lb: weighted
    endpoints:
      - {address: 10.0.1.1, port: 8080, weight: 2}
      - {address: 10.0.1.2, port: 8080, weight: 2}
      - {address: 10.0.1.3, port: 8080, weight: 1}
  - name: web-v1
    endpoints:
      - {address: 10.0.1.1, port: 8080}
      - {address: 10.0.1.2, port: 8080}
  - name: web-v2
    endpoints: [{address: 10.0.1.3, port: 8080}]
  - name: api
    endpoints:
      - {address: 10.0.2.1, port: 8080}
      - {address: 10.0.2.2, port: 8080}
  - name: static
    lb: maglev
    endpoints:
      - {address: 10.0.3.1, port: 8080}
      - {address: 10.0.3.2, port: 8080}
routes:
  - service: web
    http:
      - name: to-api
        match: [{uri: {prefix: /api}}]
        route: [{cluster: api}]
      - name: canary
        match: [{headers: {x-canary: {exact: "1"}}}]
        route: [{cluster: web-v2}]
      - name: split
        route:
          - {cluster: web-v1, weight: 80}
          - {cluster: web-v2, weight: 20}
authorization:
  - name: no-admin
    service: api
    action: DENY
    rules:
      - to: [{operation: {paths: ["/admin*"]}}]
YAML
note "3 services, 5 clusters, 10 endpoints; web: 3 routes; api: 1 DENY rule"

# ---------------------------------------------------------------------------
step "kmeshctl up --cgroup /sys/fs/cgroup/apps -f /tmp/mesh.yaml (loads and attaches the BPF programs)"
kmeshctl up --cgroup /sys/fs/cgroup/apps -f /tmp/mesh.yaml | sed 's/^/   /'
mode=$(kmeshctl status | sed -n 's/^l7 requests: *\([a-z]*\) mode.*/\1/p')
case "$mode" in
kfunc) note "L7 mode: kfunc. web connections are routed by their first request." ;;
fallback) note "L7 mode: fallback (this kernel lets only syscall/tc programs call module kfuncs)."
	note "Routes are matched per request in eBPF; the endpoint is chosen at connect() from web-all." ;;
*) fail "kmeshctl status names no L7 mode" ;;
esac

# ---------------------------------------------------------------------------
# N URL LABEL [curl options...]: N requests, one curl (one connection)
# each, then who answered how often: the backend's name, or the status and
# body when it is no 2xx.
run() {
	n=$1 url=$2 label=$3
	shift 3
	s=$(cut -d' ' -f1 /proc/uptime)
	i=0
	while [ $i -lt "$n" ]; do
		meshed curl -s --max-time 10 -w '\n|%{http_code}\n' "$@" "$url" 2>&1 || true
		i=$((i + 1))
	done | awk '
		/^\|/ { code = substr($0, 2)
			 if (code == "000") print "no answer"
			 else print code ~ /^2/ ? body : "HTTP " code (body == "" ? "" : ": " body)
			 body = ""; next }
		$0 != "" { body = body == "" ? $0 : body " " $0 }' >/tmp/answers
	printf '   %-44s x%-3s -> %s  (%s)\n' "$label" "$n" \
		"$(sort /tmp/answers | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%s %d", sep, substr($0, 2), c; sep = ", " }')" \
		"$(since "$s")"
}

step "Traffic: curl from the meshed cgroup, one connection per request (answers name the backend)"
run 20 http://10.96.0.10/ "web GET / (route split: v1 80 / v2 20)"
run 5 http://10.96.0.10/ "web GET / + x-canary: 1 (route canary)" -H "x-canary: 1"
run 5 http://10.96.0.10/api/v1/items "web GET /api/v1/items (route to-api)"
run 6 http://10.96.0.20/api/v1/items "api GET /api/v1/items (no routes)"
run 3 http://10.96.0.20/admin/ "api GET /admin/ (DENY rule no-admin)"
run 6 http://10.96.0.30/ "static GET / (tcp port, maglev)"
run 2 http://10.0.9.1:8080/ "10.0.9.1:8080 (no service: left alone)"

# Records wait in the kernel's ring buffers until a reader takes them: one
# reader started now gets them all (--wait: it stops 2 s after the last).
step "Reading the access log: kmeshctl log --json --wait 2"
kmeshctl log --json --wait 2 >/tmp/access.log
note "$(grep -c '"type":"http"' /tmp/access.log) request records, $(grep -c '"type":"tcp"' /tmp/access.log) connection records"

# ---------------------------------------------------------------------------
# The two record kinds of `kmeshctl log --json` (docs/observability.md):
# a request record says which route took a request and what kmesh decided,
# the connection record (at close) which cluster and endpoint it went to.
# Both carry the client's source address:port, which joins them.
join_log() {
	awk '
	function field(k,   m) {
		if (match($0, "\"" k "\":\"[^\"]*\"")) {
			m = substr($0, RSTART, RLENGTH); sub("^\"" k "\":\"", "", m); sub("\"$", "", m); return m
		}
		if (match($0, "\"" k "\":[^,}]*")) {
			m = substr($0, RSTART, RLENGTH); sub("^\"" k "\":", "", m); return m
		}
		return ""
	}
	/"type":"http"/ {
		n++
		src[n] = field("source")
		req[n] = field("service") "\t" field("method") "\t" field("path") "\t" \
			field("route") "\t" field("decision") "\t" field("reason") "\t" \
			(field("policy") == "" ? "-" : field("policy")) "\t" field("status")
		sent[n] = field("decision") == "allow"
		next
	}
	/"type":"tcp"/ { s = field("source"); conns[s]++; ep[s] = field("cluster") "\t" field("endpoint") }
	END {
		for (i = 1; i <= n; i++) {
			if (!sent[i]) to = "-\t-"
			else if (conns[src[i]] == 1) to = ep[src[i]]
			else to = "?\t?"	# no, or several, connections from this source
			print req[i] "\t" to
		}
	}' /tmp/access.log | sort | uniq -c | sed 's/^ *\([0-9]*\) /\1\t/'
}

step "Where each request went and why (kmeshctl log --json: request and connection records, joined by source)"
join_log >/tmp/where.tsv
# columns: count service method path route decision reason policy status cluster endpoint
awk -F'\t' '
	BEGIN { f = "   %5s  %-7s %-6s %-14s %-7s %-8s %-22s %-6s %s\n"
		printf f, "count", "service", "method", "path", "route", "decision", "why", "status", "went to" }
	{ why = $7 == "allow" ? "-" : $7 ($8 == "-" ? "" : " (" $8 ")")
	  to = $11 == "-" ? "nowhere: kmesh answered" : $10 "/" $11
	  printf f, $1, $2, $3, $4, $5, $6, why, $9 == 0 ? "unseen" : $9, to }' /tmp/where.tsv
echo
note "In words:"
# per service and route: clusters in order of first use, endpoints in each
awk -F'\t' '
	function add(list, item) { return index(" " list " ", " " item " ") ? list : list (list == "" ? "" : " ") item }
	$6 == "allow" {
		key = $2 ($5 == "-" ? " (no routes)" : " route " $5)
		if (!(key in n)) order[++k] = key
		n[key] += $1; cls[key] = add(cls[key], $10)
		c[key SUBSEP $10] += $1; eps[key SUBSEP $10] = add(eps[key SUBSEP $10], $11)
		e[key SUBSEP $10 SUBSEP $11] += $1
	}
	$6 != "allow" { printf "   %s: %d x %s %s %s by kmesh: %s%s, answered %s; no server saw them\n",
			$2, $1, $3, $4, $6 == "deny" ? "refused" : "answered", $7, $8 == "-" ? "" : " (policy " $8 ")", $9 }
	END { for (i = 1; i <= k; i++) {
		key = order[i]; line = ""; nc = split(cls[key], cl, " ")
		for (j = 1; j <= nc; j++) {
			kc = key SUBSEP cl[j]; ne = split(eps[kc], ep, " ")
			line = line (j > 1 ? ", " : "") cl[j] " " c[kc] " (" int(100 * c[kc] / n[key] + 0.5) "%:"
			for (m = 1; m <= ne; m++)
				line = line (m > 1 ? "," : "") " " ep[m] " " e[kc SUBSEP ep[m]]
			line = line ")"
		}
		printf "   %s: %d requests allowed, sent to %s\n", key, n[key], line } }' /tmp/where.tsv
[ "$mode" = kfunc ] ||
	note "(fallback mode: each web connection went to web-all at connect(), before its request was written)"

# ---------------------------------------------------------------------------
# The demo checks itself against the traffic it sent.
checks=0
expect() {	# WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		checks=$((checks + 1))
	else
		fail "$1: got '$2', expected '$3'"
	fi
}
count() {	# SERVICE ROUTE DECISION [CLUSTER]: requests so logged ("": any)
	awk -F'\t' -v s="$1" -v r="$2" -v d="$3" -v c="${4:-}" '
		(s == "" || $2 == s) && (r == "" || $5 == r) && (d == "" || $6 == d) &&
		(c == "" || $10 == c) { n += $1 } END { print n + 0 }' /tmp/where.tsv
}
expect "requests of route split" "$(count web split allow)" 20
expect "requests of route canary" "$(count web canary allow)" 5
expect "requests of route to-api" "$(count web to-api allow)" 5
expect "api requests allowed" "$(count api - allow)" 6
expect "/admin/ denied by policy no-admin with 403" \
	"$(awk -F'\t' '$4 == "/admin/" && $7 == "deny_policy" && $8 == "no-admin" && $9 == 403 { n += $1 } END { print n + 0 }' /tmp/where.tsv)" 3
if [ "$mode" = kfunc ]; then
	expect "split requests sent to web-v1 or web-v2" \
		"$(($(count web split allow web-v1) + $(count web split allow web-v2)))" 20
	expect "canary requests sent to web-v2" "$(count web canary allow web-v2)" 5
	expect "to-api requests sent to cluster api" "$(count web to-api allow api)" 5
else
	expect "web requests sent to web-all (chosen at connect)" "$(count web "" allow web-all)" 30
fi

step "kmeshctl stats (lines without traffic left out)"
kmeshctl stats | grep -vE ' connects 0 | allowed 0 denied 0 ' | sed 's/^/   /'

# ---------------------------------------------------------------------------
step "kmeshctl metrics --listen 127.0.0.1:15020, scraped with curl"
kmeshctl metrics --listen 127.0.0.1:15020 >/tmp/metrics.out 2>&1 &
m_pid=$!
i=0
until grep -q serving /tmp/metrics.out 2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
curl -s --max-time 10 http://127.0.0.1:15020/metrics >/tmp/scrape.txt
kill $m_pid
grep -E '^kmesh_http_requests_total|^kmesh_service_tcp_connections_opened_total|^kmesh_node_passthrough_total' \
	/tmp/scrape.txt | grep -v ' 0$' | sed 's/^/   /'
note "($(grep -vc '^#' /tmp/scrape.txt) samples in all, $(wc -c </tmp/scrape.txt) bytes; zeros left out above)"
metric() { awk -v m="$1" '$1 == m { print $2 }' /tmp/scrape.txt; }
http() { metric "kmesh_http_requests_total{service=\"$1\",route=\"$2\",method=\"GET\",code=\"$3\"}"; }
# passed to a server: a 2xx seen, or "unknown" when kmesh could not pair
# the response with its request (counted as untracked in kmeshctl stats)
passed() { echo $(($(http "$1" "$2" 2xx) + $(http "$1" "$2" unknown))); }
expect "scrape: web split 2xx + unknown" "$(passed web split)" 20
expect "scrape: web canary 2xx + unknown" "$(passed web canary)" 5
expect "scrape: web to-api 2xx + unknown" "$(passed web to-api)" 5
expect "scrape: api 2xx + unknown" "$(passed api -)" 6
expect "scrape: api denied" "$(http api - denied)" 3
expect "scrape: static connections" "$(metric 'kmesh_service_tcp_connections_opened_total{service="static"}')" 6
expect "scrape: passthrough connections" "$(metric kmesh_node_passthrough_total)" 2
note "checked: $checks numbers from the log and the scrape match the traffic sent"

step "kmeshctl status"
kmeshctl status | sed 's/^/   /'

# ---------------------------------------------------------------------------
step "Tearing down: kmeshctl down, rmmod kmesh"
kmeshctl down | sed 's/^/   /'
# Programs that used the module's kfuncs hold it until their deferred
# free has run: retry briefly, as an operator would.
i=0
until rmmod kmesh 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { rmmod kmesh; exit 1; }
	sleep 0.1
done
note "module removed; kmeshctl status now says: $(kmeshctl status | grep '^kmesh module')"
step "Demo finished in $(since "$t0") (L7 mode: $mode, $checks checks passed)"
