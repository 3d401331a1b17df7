#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Route and policy conformance on the host's own kernel, module-less: the
# C core against the eBPF fallback (bpf/include/l7_eval.h) run by
# BPF_PROG_TEST_RUN, on the shared vectors and generated tables
# (selftests/conformance/route_conformance.c). Nothing is attached and
# nothing pinned: syscall programs only. The VM lanes run the same area
# with the kfunc column.
#
#   selftests/host/route_policy.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/tap.sh"

selftests=$top/build/kmesh_selftests
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

why=
if [ "$(id -u)" != 0 ]; then
	why="needs root"
elif [ ! -x "$selftests" ]; then
	why="build first (make)"
elif [ ! -e /sys/kernel/btf/vmlinux ]; then
	why="kernel without BTF"
elif [ -e /sys/module/kmesh ]; then
	why="the kmesh module is loaded here: this lane checks the eBPF fallback"
fi
if [ -n "$why" ]; then
	skip "route/policy conformance host" "$why"
	tap_done
	exit
fi

nice -n 10 "$selftests" route_policy >"$t/rp.tap" 2>&1

# Relay the selftests' own TAP, one result per test.
while IFS= read -r line; do
	case "$line" in
	"ok "*"# SKIP"*)
		name=${line#ok * - }
		skip "host: ${name%% # SKIP*}" "${line##*# SKIP }" ;;
	"ok "*)
		check "host: ${line#ok * - }" true ;;
	"not ok "*)
		name=${line#not ok * - }
		check "host: ${name%% # *}" sh -c "grep -B30 -F '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' '$t/rp.tap' | grep '^#' | tail -n 20; false" ;;
	"# "*)
		echo "$line" ;;
	esac
done <"$t/rp.tap"
grep -q '^[0-9]* passed, [0-9]* failed' "$t/rp.tap" ||
	check "host: route/policy conformance ran to its summary" sh -c "tail -n 20 '$t/rp.tap'; false"
tap_done
