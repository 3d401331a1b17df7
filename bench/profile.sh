#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Where an L7 request's time goes, by kernel function and by kmesh BPF
# subprogram (issue 13): `perf record` (cpu-clock, every CPU) while one
# path of `make bench`'s host lane runs closed loop at 16 connections,
# then the samples of the load generator and the backend (softirq work
# included: on loopback it runs in their context) grouped by symbol. BPF
# subprograms show up as bpf_prog_<tag>_<name> (kmesh_l7_parse,
# kmesh_l7_decide, kmesh_resp_head ...). Not part of `make bench`: perf
# is not everywhere and its sampling costs a little itself.
#
#   bench/profile.sh [PATHS]   default "direct l4 l7 l7local"; D=seconds
#
# Output: per path, the top symbols (share of that path's samples) and the
# samples per request, in build/bench/profile-*/; a summary on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

if [ "${1:-}" = --in-netns ]; then
	shift
	set +e
	LANE=host WORK=$RUN/host ROWS=$RUN/rows-host.csv
	. "$here/lib.sh"
	host_lane_begin
	kmesh_up || { log "kmeshctl up failed: $KMESH_UP_ERR"; exit 1; }
	start_backends || { log "backends did not start"; exit 1; }
	setup_paths tput "$@"
	KMESH_PIN=${KMESH_PIN_DIR:-/sys/fs/bpf/kmesh}
	for p in $AVAIL; do
		eval "_t=\$T_$p _c=\$C_$p"
		perf record -q -a -e cpu-clock -F 4999 -o "$RUN/$p.data" -- \
			sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$_c" \
			"$BIN/loadgen" http --conns 16 --duration "$D" --warmup 0.3 \
			--paths "$REQ_PATHS" --target "$_t" >"$RUN/$p.loadgen" 2>/dev/null
		_req=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$RUN/$p.loadgen")
		# samples per symbol -> ns per request (one sample: 1/4999 s)
		perf report -q -i "$RUN/$p.data" --comm loadgen,benchsrv --sort sym \
			-F sample,sym --stdio 2>/dev/null |
			awk -v req="${_req:-0}" 'NF >= 2 && req > 0 { n = $1; $1 = ""; sub(/^ *\[[^]]*\] */, ""); t += n
				printf "%8.0f ns/req  %s\n", n / 4999 * 1e9 / req, $0 }
				END { printf "%8.0f ns/req  TOTAL (loadgen + benchsrv)\n", t / 4999 * 1e9 / req }' |
			sort -rn >"$RUN/$p.txt"
		echo "path $p requests ${_req:-0}" >>"$RUN/summary.txt"
		# bpftool prog profile: cycles and instructions per run of each
		# of kmesh's programs, while the same load runs again
		if command -v bpftool >/dev/null; then
			for _prog in kmesh_sk_msg kmesh_inbound_ingress; do
				[ -e "$KMESH_PIN/progs/$_prog" ] || continue
				cg_spawn "$_c" "$RUN/$p.bg" "$BIN/loadgen" http --conns 16 --duration "$D" \
					--warmup 0 --paths "$REQ_PATHS" --target "$_t"
				timeout $((${D%.*} + 5)) bpftool prog profile pinned "$KMESH_PIN/progs/$_prog" \
					duration "${D%.*}" cycles instructions >"$RUN/$p.$_prog.bpftool" 2>&1
				wait "$LAST_PID"
				echo "path $p $_prog bpftool: $(tr '\n' ' ' <"$RUN/$p.$_prog.bpftool")" >>"$RUN/summary.txt"
			done
		fi
	done
	exit 0
fi

[ "$(id -u)" = 0 ] || { echo "profile: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile: perf not installed" >&2; exit 1; }
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
make -s -C "$top" userspace >/dev/null
make -s -C "$here" O="$top/build/bench" >/dev/null
export BIN=$top/build/bench KMESHCTL=$top/build/kmeshctl D=${D:-3}
export RUN=$top/build/bench/profile-$(date +%Y%m%d-%H%M%S)
export CG=$cg_root/kmesh-bench-profile-$$
export HAPROXY_BIN= NGINX_BIN=
mkdir -p "$RUN"
unshare -m -n --propagation private bash "$0" --in-netns ${1:-direct l4 l7 l7local} >"$RUN/log" 2>&1 || true
[ -d "$CG" ] && rmdir "$CG" 2>/dev/null || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$RUN/summary.txt"
for f in "$RUN"/*.txt; do
	[ "$(basename "$f")" = summary.txt ] && continue
	echo "== $(basename "$f" .txt)"
	head -n 40 "$f"
done
echo "raw: $RUN"
