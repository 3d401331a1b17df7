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
. "$here/tap.sh"
. "$here/lib.sh"
host_init

host_require root btf no-module
host_require_exe "$selftests"
host_skip_unless_ready "route/policy conformance host"
nice -n 10 "$selftests" $(selftest_args route_policy) >"$t/route_policy.tap" 2>&1
relay_tap "$t/route_policy.tap" --diag
tap_done
