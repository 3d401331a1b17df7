#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bench-smoke suite of make check: `make bench` once in its smallest
# mode (BENCH_SMOKE=1: one repetition of tiny runs, the host lane and one
# VM lane), so the benchmark cannot rot. It checks that the run produces
# what a full run does, not what the figures say: the summary with its
# targets table, the CSV, the plots, and every headline figure as a
# "kmesh-figure:" line with a value or n/a and the reason.
#
#   bench/smoke.sh        results in build/bench/smoke (bench/results untouched)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$top/selftests/host/tap.sh"

results=$top/build/bench/smoke
run_log=$top/build/bench/smoke.log
mkdir -p "$results"
rm -f "$results"/*.png "$results"/summary.md "$results"/results.csv

# Checks (each prints why when it fails: check shows the last line).
run_smoke() {
	BENCH_SMOKE=1 BENCH_OUT=$results "$here/run.sh" >"$run_log" 2>&1 ||
		{ tail -n 5 "$run_log"; return 1; }
}
has_table() {
	grep -q '^| target | figure | value | verdict |' "$results/summary.md" ||
		{ echo "no targets table in $results/summary.md"; return 1; }
}
has_rows() {
	[ "$(wc -l <"$results/results.csv")" -gt 10 ] || { echo "$results/results.csv: too few rows"; return 1; }
}
has_png() {
	for f in "$@"; do
		[ -s "$results/$f.png" ] && return 0
	done
	echo "none of $* written"
	return 1
}
# a value, or n/a with the reason
has_figure() {
	local line
	line=$(grep -m1 "^kmesh-figure: $1 " "$run_log") || { echo "not printed"; return 1; }
	echo "$line"
	echo "$line" | grep -qE "^kmesh-figure: $1 (-?[0-9.]+|n/a \(skipped: .+\))$"
}

if [ "$(id -u)" != 0 ]; then
	skip "bench smoke run" "needs root (cgroups, bpffs, namespaces)"
else
	"$top/scripts/install-bench-deps.sh" >/dev/null 2>&1 || true
	check "bench smoke run finishes (make bench, BENCH_SMOKE=1)" run_smoke
	check "summary.md has the targets table" has_table
	check "results.csv holds the run's rows" has_rows
	for plot in latency-host throughput-host cpu-host memory inbound-host; do
		check "plot $plot.png" has_png $plot
	done
	check "a VM lane's latency plot" has_png latency-kfunc latency-stock
	# Every headline figure, by the names report.py prints them under.
	for name in $(python3 -c "import sys; sys.path.insert(0, '$here'); import report
print(' '.join(n for n, _ in report.HEADLINE))"); do
		check "figure $name" has_figure "$name"
	done
fi
tap_done
echo "bench-smoke: $tap_pass passed, $tap_fail failed, $tap_skip skipped"
[ "$tap_fail" = 0 ]
