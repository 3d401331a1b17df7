#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The HTTP conformance suite (selftests/conformance/) on the host's own
# kernel: the C core against the eBPF fallback, run through
# BPF_PROG_TEST_RUN of syscall programs (no module, no cgroup, nothing
# attached). The VM lanes run the same area with the kfuncs as well.
#
#   selftests/host/conformance.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/tap.sh"

selftests=$top/build/kmesh_selftests
t=$(mktemp)
trap 'rm -f "$t"' EXIT

why=
if [ "$(id -u)" != 0 ]; then
	why="needs root (BPF_PROG_TEST_RUN)"
elif [ ! -x "$selftests" ]; then
	why="build first (make)"
elif [ -e /sys/module/kmesh ]; then
	why="the kmesh module is loaded here: the VM lanes compare it"
fi
if [ -n "$why" ]; then
	skip "conformance host: core vs eBPF fallback" "$why"
	tap_done
	exit
fi

"$selftests" conformance >"$t" 2>&1
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
		check "host: ${name%% # *}" sh -c "grep -a -B30 -F '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' '$t' | grep '^#' | tail -n 20; false" ;;
	esac
done < <(grep -a -v '^libbpf' "$t")
if ! grep -qaE '^[0-9]+ passed, [0-9]+ failed' "$t"; then
	check "host: conformance selftests ran to the end" sh -c "tail -20 '$t'; false"
fi
tap_done
