# SPDX-License-Identifier: GPL-2.0-only
# TAP for shell tests (source it): check NAME COMMAND... runs the command and
# prints "ok N - NAME" or "not ok N - NAME # reason" with its output as
# diagnostics; tap_done prints the plan and "N passed, M failed".
tap_n=0 tap_pass=0 tap_fail=0 tap_skip=0
echo "TAP version 13"

check() {
	local name=$1 out
	shift
	tap_n=$((tap_n + 1))
	if out=$("$@" 2>&1); then
		tap_pass=$((tap_pass + 1))
		echo "ok $tap_n - $name"
	else
		tap_fail=$((tap_fail + 1))
		echo "not ok $tap_n - $name # $(printf '%s' "$out" | tail -n1)"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
	fi
}

skip() {
	tap_n=$((tap_n + 1))
	tap_skip=$((tap_skip + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

tap_done() {
	echo "1..$tap_n"
	echo "$tap_pass passed, $tap_fail failed, $tap_skip skipped"
	[ "$tap_fail" = 0 ]
}
