#!/usr/bin/env bash
# make check: everything CI runs, in order, each suite logged to
# build/check/SUITE.log and streamed. Ends with the total as its last line:
#   check: N passed, M failed, K skipped
#
#   scripts/check.sh [SUITE...]     suites: deps build unit fuzz host vm-stock vm-kfunc
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

all_suites=(deps build unit fuzz host vm-stock vm-kfunc)
suites=("${@:-${all_suites[@]}}")
logs="$top/build/check"
mkdir -p "$logs"

run_suite() {
	case "$1" in
	# Steps, not tests: they count only when they fail.
	deps) scripts/install-deps.sh && scripts/prepare-kernel.sh >/dev/null ;;
	build) make -j"$(nproc)" all ;;
	unit) make unit ;;
	fuzz) make -C selftests/fuzz O="$top/build" run ;;
	host) selftests/host/dkms.sh ;;
	vm-stock) scripts/vmtest.sh --lane stock ;;
	vm-kfunc) scripts/vmtest.sh --lane kfunc ;;
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
	# Each suite ends with "N passed, M failed[, K skipped]"; sum those.
	line=$(grep -E '^([a-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$logs/$s.log" | tail -n1)
	p=$(sed -nE 's/^([a-z-]+: )?([0-9]+) passed.*/\2/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
	k=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
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
