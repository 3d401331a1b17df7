#!/usr/bin/env bash
# make check: everything CI runs, in order, each suite logged to
# build/check/SUITE.log and streamed. Ends with the total as its last line:
#   check: N passed, M failed, K skipped
#
#   scripts/check.sh [SUITE...]     suites: deps build unit fuzz host bench-smoke
#                                   vm-stock vm-kfunc istio-stock istio-kfunc
#                                   vm-cluster-stock vm-cluster-kfunc
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

all_suites=(deps build unit fuzz host bench-smoke vm-stock vm-kfunc istio-stock istio-kfunc
	vm-cluster-stock vm-cluster-kfunc)
suites=("${@:-${all_suites[@]}}")
logs="$top/build/check"
mkdir -p "$logs"

# Every selftests/host/*.sh but the libraries they source.
host_tests() {
	local t rc=0
	for t in selftests/host/*.sh; do
		case "$(basename "$t")" in tap.sh | lib.sh) continue ;; esac
		echo "# $t"
		bash "$t" || rc=1
	done
	return $rc
}

run_suite() {
	case "$1" in
	# Steps, not tests: they count only when they fail.
	deps) scripts/install-deps.sh && scripts/prepare-kernel.sh >/dev/null ;;
	build) make -j"$(nproc)" all ;;
	unit) make unit ;;
	fuzz) make -C selftests/fuzz O="$top/build" run ;;
	host) host_tests ;;
	# make bench in its smallest mode (about 2 min), so it cannot rot
	bench-smoke) bench/smoke.sh ;;
	vm-stock) scripts/vmtest.sh --lane stock ;;
	vm-kfunc) scripts/vmtest.sh --lane kfunc ;;
	# the multi-node lane's two-node subset (make vmtest-cluster: three)
	vm-cluster-stock) scripts/vmtest-cluster.sh --lane stock --nodes 2 ;;
	vm-cluster-kfunc) scripts/vmtest-cluster.sh --lane kfunc --nodes 2 ;;
	# the Istio traffic corpus applied as written, real traffic; one VM
	# boot per lane (a suite each: one "vmtest-LANE:" total per log)
	istio-stock) selftests/istio/vmtest.sh --lane stock ;;
	istio-kfunc) selftests/istio/vmtest.sh --lane kfunc ;;
	*) echo "check: unknown suite $1" >&2; return 2 ;;
	esac
}

passed=0 failed=0 skipped=0
t0=$(date +%s)
for s in "${suites[@]}"; do
	printf '\n== check: %s (started at +%ss)\n' "$s" "$(($(date +%s) - t0))"
	start=$(date +%s)
	run_suite "$s" 2>&1 | tee "$logs/$s.log"
	rc=${PIPESTATUS[0]}
	# A suite's own total is a "word: N passed, M failed" line; suites
	# that run several test programs (unit, fuzz) leave one plain
	# "N passed, M failed" per program, which we add up.
	read -r p f k < <(awk '
		/^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed/ { tp = $2; tf = $4; tk = $6 + 0; total = 1 }
		/^[0-9]+ passed, [0-9]+ failed/ { sp += $1; sf += $3; sk += $5 }
		END { if (total) print tp + 0, tf + 0, tk + 0; else print sp + 0, sf + 0, sk + 0 }
	' "$logs/$s.log")
	p=${p:-0} f=${f:-0} k=${k:-0}
	# A suite that failed without saying so (or said nothing) counts as one failure.
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + k))
	printf '== check: %s: %s passed, %s failed, %s skipped in %ss\n' \
		"$s" "$p" "$f" "$k" "$(($(date +%s) - start))"
	# Nothing later can work without dependencies and a build.
	if [ "$f" != 0 ] && { [ "$s" = deps ] || [ "$s" = build ]; }; then
		break
	fi
done

printf '\n== check: done in %ss; logs in %s\n' "$(($(date +%s) - t0))" "$logs"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
