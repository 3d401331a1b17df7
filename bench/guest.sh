# SPDX-License-Identifier: GPL-2.0-only
# The VM lanes of `make bench` (busybox sh, PID 1's child in the initramfs).
# bench/run.sh prepends the settings and bench/lib.sh, copies the static
# tools and haproxy in (KMESH_VM_EXTRA) and reads the "kmesh-bench-row:"
# lines back from the console. Every path of this lane runs in this VM, so
# the lane's ratios compare like with like; its absolute times are TCG's.

mkdir -p "$WORK"
: >"$WORK/rows.csv"
trap bench_cleanup EXIT

if ! modprobe kmesh 2>"$WORK/modprobe.err"; then
	row info module "" "" "" "" "" "" "" "skipped: modprobe kmesh failed: $(head -n1 "$WORK/modprobe.err" | tr ',' ';')"
fi
row info kmeshctl "" "" "" "" "" "" "" "l7 mode: $(l7_mode); kernel $(uname -r)"
bench_init || { log "cannot create cgroup $CG"; exit 1; }
kmesh_up || log "kmeshctl up failed: $KMESH_UP_ERR"
start_backends || { log "backends did not start"; exit 1; }

# ---- memory: the module, its route tables, the BPF maps ----
_mod=$(awk '$1 == "kmesh" { print $2 }' /proc/modules)
if [ -n "$_mod" ]; then
	row mem kmesh_module "" "" "" "" "" "" "$_mod" "module text and data (/proc/modules)"
	for n in $MEM_COUNTS; do
		if _o=$("$BIN/routemem" "$n" 2>&1); then
			_b=$(echo "$_o" | tr ' ' '\n' | sed -n 's/^bytes=//p')
			row mem kmesh_l7_tables "$n" "" "" "" "" "" "$_b" "route tables (KMESH_IOC_TABLE_INFO): $_o"
		else
			skip_row mem kmesh_l7_tables "routemem: $(echo "$_o" | head -n1 | tr ',' ';')" "$n"
		fi
	done
else
	skip_row mem kmesh_module "module not loaded"
fi
for n in $MEM_COUNTS; do
	kmesh_mem "$n"
done
[ -n "$KMESH_IS_UP" ] && "$KMESHCTL" apply -f "$WORK/mesh.yaml" >/dev/null 2>&1

# ---- traffic: every path of the lane, interleaved ----
bench_traffic "${BENCH_PATHS:-direct l4 l4redir l7 l7local haproxy}"
# the destination's check with the module (its accept hook): on request
[ "${RUN_INBOUND:-0}" = 1 ] && run_inbound
log "done"
exit 0
