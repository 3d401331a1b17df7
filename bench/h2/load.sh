#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench-h2-load: HTTP/2 and gRPC load through kmesh vs direct vs
# HAProxy in HTTP/2 mode (issue 17's figures), host lane: this machine's
# kernel, no module, so kmesh runs in the mode `kmeshctl status` reports
# (the eBPF fallback: HTTP/2 detected and carried at L4). Private mount
# and network namespaces (own bpffs and loopback), child cgroups of the
# cgroup2 mount removed at the end, under flock /tmp/kmesh-host.lock.
#
#   h2load (nghttp2) -> nghttpd: p50 per path from h2load's per-request log
#   grpc_client -d (bench/src) -> grpc_server: calls/s and CPU (all cgroups)
#
# Paths, interleaved (every repetition runs each once, in turn): direct
# (the server's address), kmesh (a service address, client in the meshed
# cgroup), haproxy (`bind ... proto h2`, `server ... proto h2`, one thread).
# Prints "kmesh-figure: h2_l7_p50_vs_direct V" (kmesh p50 / direct p50)
# and "kmesh-figure: grpc_rps_per_cpu_vs_haproxy V" (kmesh calls per CPU
# second / HAProxy's), a table, and writes next to this script:
#   load-results.md   the table, the figures, the machine and load
#   load.png          p50 and calls per CPU second per path
# Environment: REPS (5) repetitions; H2_N (2000) requests per h2load run,
# H2_C (4) connections, H2_M (10) streams per connection; GRPC_D (3)
# seconds per gRPC run, GRPC_C (16) calls in flight; O (build/).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$(realpath -m "${O:-$top/build}")/bench-h2-load
REPS=${REPS:-5} H2_N=${H2_N:-2000} H2_C=${H2_C:-4} H2_M=${H2_M:-10}
GRPC_D=${GRPC_D:-3} GRPC_C=${GRPC_C:-16}

if [ -z "${KMESH_H2_LOAD_INNER:-}" ]; then
	mkdir -p "$out"
	for t in h2load nghttpd haproxy gnuplot; do
		command -v $t >/dev/null || { echo "bench-h2-load: $t missing (scripts/install-bench-deps.sh, nghttp2-server)" >&2; exit 1; }
	done
	make -s -C "$top" userspace >/dev/null &&
		make -s -C "$top/bench" O="$top/build/bench" "$top/build/bench/grpc_server" \
			"$top/build/bench/grpc_client" || exit 1
	cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	export CG=$cg_root/kmesh-bench-h2-$$ KMESH_H2_LOAD_INNER=1 REPS H2_N H2_C H2_M GRPC_D GRPC_C
	flock /tmp/kmesh-host.lock unshare -m -n --propagation private bash "$0"
	rc=$?
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	exit $rc
fi

LANE=host BIN=$top/build/bench KMESHCTL=$top/build/kmeshctl
WORK=$out/work ROWS=$out/rows.csv
HAPROXY_BIN=$(command -v haproxy)
. "$top/bench/lib.sh"
host_lane_begin

NGHTTPD=127.0.0.1:18321
GRPCD=127.0.0.1:18322
HAP_H2=127.0.0.1:18331
HAP_GRPC=127.0.0.1:18332
VIP_H2=127.77.0.30
VIP_GRPC=127.77.0.31

mkdir -p "$WORK/doc"
head -c 100 /dev/zero | tr '\0' x >"$WORK/doc/hello"
cg_spawn "$CG/plain/server" "$WORK/nghttpd.log" nghttpd --no-tls -a 127.0.0.1 -d "$WORK/doc" 18321
cg_spawn "$CG/plain/server" "$WORK/grpc_server.log" "$BIN/grpc_server" -q "$GRPCD"
cat >"$WORK/mesh.yaml" <<EOF
services:
  - {name: h2, addresses: [$VIP_H2], ports: [{port: 80, protocol: http2}], cluster: h2}
  - {name: grpc, addresses: [$VIP_GRPC], ports: [{port: 80, protocol: grpc}], cluster: grpc}
clusters:
  - {name: h2, endpoints: [{address: 127.0.0.1, port: 18321}]}
  - {name: grpc, endpoints: [{address: 127.0.0.1, port: 18322}]}
EOF
"$KMESHCTL" up --cgroup "$CG/mesh" -f "$WORK/mesh.yaml" >"$WORK/up.out" 2>&1 ||
	{ log "kmeshctl up failed: $(cat "$WORK/up.out")"; exit 1; }
KMESH_IS_UP=1
mode=$("$KMESHCTL" status | sed -n 's/^HTTP\/2: *\([^:(]*\).*/\1/p' | sed 's/ *$//')
cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 4096
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend h2
    bind $HAP_H2 proto h2
    default_backend nghttpd
frontend grpc
    bind $HAP_GRPC proto h2
    default_backend grpc
backend nghttpd
    server s1 $NGHTTPD proto h2
backend grpc
    server s1 $GRPCD proto h2
EOF
cg_spawn "$CG/plain/proxy" "$WORK/haproxy.log" "$HAPROXY_BIN" -db -f "$WORK/haproxy.cfg"
sleep 1
for a in $NGHTTPD $GRPCD $HAP_H2 $HAP_GRPC; do
	timeout 5 bash -c "until (exec 3<>/dev/tcp/${a%:*}/${a#*:}) 2>/dev/null; do sleep 0.1; done" ||
		{ log "nothing listens on $a"; exit 1; }
done

h2_target() { case $1 in direct) echo "$NGHTTPD" ;; kmesh) echo "$VIP_H2:80" ;; haproxy) echo "$HAP_H2" ;; esac; }
grpc_target() { case $1 in direct) echo "$GRPCD" ;; kmesh) echo "$VIP_GRPC:80" ;; haproxy) echo "$HAP_GRPC" ;; esac; }
client_cg() { [ "$1" = kmesh ] && echo "$CG/mesh/client" || echo "$CG/plain/client"; }
cpu_all() { cat "$CG"/plain/client/cpu.stat "$CG"/mesh/client/cpu.stat \
	"$CG"/plain/server/cpu.stat "$CG"/plain/proxy/cpu.stat | awk '$1 == "usage_usec" { s += $2 } END { print s + 0 }'; }

echo "path,rep,kind,value,extra" >"$WORK/raw.csv"
paths="direct kmesh haproxy"
for rep in $(seq 1 "$REPS"); do
	log "repetition $rep/$REPS (load $(cut -d' ' -f1 /proc/loadavg))"
	for p in $paths; do
		# h2load: per-request durations (us) in its log, p50 from them
		rm -f "$WORK/h2.log"
		cg_exec "$(client_cg $p)" h2load -n "$H2_N" -c "$H2_C" -m "$H2_M" \
			--log-file="$WORK/h2.log" "http://$(h2_target $p)/hello" >"$WORK/h2load.out" 2>&1
		ok=$(sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' "$WORK/h2load.out")
		p50=$(awk '{ print $3 }' "$WORK/h2.log" 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
		echo "$p,$rep,h2_p50_us,${p50:-},succeeded=${ok:-0}/$H2_N" >>"$WORK/raw.csv"
		# gRPC: calls/s, CPU of every cgroup (client, server, proxy)
		c0=$(cpu_all)
		cg_exec "$(client_cg $p)" "$BIN/grpc_client" -d "$GRPC_D" -c "$GRPC_C" \
			"$(grpc_target $p)" /kmesh.bench.Svc/Call >"$WORK/grpc.out" 2>&1
		c1=$(cpu_all)
		set -- $(sed -n 's/^load calls \([0-9]*\) ok \([0-9]*\) failed \([0-9]*\) seconds \([0-9.]*\) rps \([0-9.]*\) p50_us \([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' "$WORK/grpc.out")
		if [ $# -eq 6 ] && [ "$3" = 0 ]; then
			echo "$p,$rep,grpc_rps,$5,p50_us=$6" >>"$WORK/raw.csv"
			echo "$p,$rep,grpc_calls_per_cpu_s,$(awk -v n="$2" -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", c ? n / (c / 1e6) : 0 }'),cpu_us=$((c1 - c0))" >>"$WORK/raw.csv"
		else
			log "grpc $p: $(tail -n2 "$WORK/grpc.out" | tr '\n' ' ')"
		fi
	done
done
"$KMESHCTL" stats | grep -E '^http (h2|grpc) route - -:|^http node:' | sed 's/^/# /' >"$WORK/stats.txt"

# medians per path and kind
med() { awk -F, -v p="$1" -v k="$2" '$1 == p && $3 == k && $4 != "" { print $4 }' "$WORK/raw.csv" |
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
{
	echo "| path | h2load p50 (us) | gRPC calls/s | gRPC calls per CPU second |"
	echo "|---|---:|---:|---:|"
	for p in $paths; do
		name=$p
		[ "$p" = kmesh ] && name="kmesh ($mode)"
		[ "$p" = haproxy ] && name="HAProxy 2.6, HTTP/2 both sides, 1 thread"
		echo "| $name | $(med $p h2_p50_us) | $(med $p grpc_rps) | $(med $p grpc_calls_per_cpu_s) |"
	done
} >"$WORK/table.md"
f1=$(ratio "$(med kmesh h2_p50_us)" "$(med direct h2_p50_us)")
f2=$(ratio "$(med kmesh grpc_calls_per_cpu_s)" "$(med haproxy grpc_calls_per_cpu_s)")
for p in $paths; do
	echo "$p $(med $p h2_p50_us) $(med $p grpc_calls_per_cpu_s)"
done >"$WORK/plot.dat"
gnuplot <<EOF 2>/dev/null
set terminal pngcairo size 900,420
set output "$here/load.png"
set multiplot layout 1,2 title "HTTP/2 and gRPC through kmesh ($mode), direct, HAProxy (h2)"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set title "h2load p50 (us, lower is better)"
plot "$WORK/plot.dat" using 0:2:xtic(1) with boxes notitle
set title "gRPC calls per CPU second (higher is better)"
plot "$WORK/plot.dat" using 0:3:xtic(1) with boxes notitle
unset multiplot
EOF
cp "$WORK/raw.csv" "$out/raw.csv"
{
	echo "# HTTP/2 and gRPC load: kmesh vs direct vs HAProxy (issue 17)"
	echo
	echo "Generated by \`make bench-h2-load\` (bench/h2/load.sh) on $(date -u +%Y-%m-%d), host lane:"
	echo "kernel $(uname -r), no kmesh module: kmesh's HTTP/2 mode here is **$mode**"
	echo "(\`kmeshctl status\`). $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs,"
	echo "shared with other jobs: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo "$REPS interleaved repetitions (direct, kmesh, haproxy in turn), medians."
	echo "h2load: $H2_N requests of a 100-byte file over $H2_C connections x $H2_M streams, p50 of"
	echo "its per-request log. gRPC: bench/src/grpc_client, one channel, $GRPC_C calls in flight for"
	echo "$GRPC_D s; CPU is every cgroup of the run (client, server, proxy; kmesh's work is in"
	echo "the client's and server's kernel time)."
	echo
	cat "$WORK/table.md"
	echo
	echo "kmesh-figure: h2_l7_p50_vs_direct $f1"
	echo "kmesh-figure: grpc_rps_per_cpu_vs_haproxy $f2"
	echo
	echo "kmesh's counters at the end (each run one HTTP/2 connection per h2load connection, one per gRPC channel):"
	echo
	cat "$WORK/stats.txt"
} >"$here/load-results.md"
cat "$here/load-results.md"
