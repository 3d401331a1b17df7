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
. "$here/tap.sh"
. "$here/lib.sh"
host_init

host_require root no-module
host_require_exe "$selftests"
host_skip_unless_ready "conformance host: core vs eBPF fallback"
"$selftests" $(selftest_args conformance) >"$t/conformance.tap" 2>&1
relay_tap "$t/conformance.tap"
tap_done
