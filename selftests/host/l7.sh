#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# L7 per-request plane on the host's own kernel, module-less (eBPF fallback
# mode): the VM's l7 selftests, in a private mount and network namespace
# (own bpffs, own loopback and veth) against a child cgroup created here
# and always removed. The root cgroup is never touched. Same pattern as l4.sh.
#
#   selftests/host/l7.sh        (after make; as root)
#   KMESH_SELFTEST_ARGS="-t l7/split_heads" selftests/host/l7.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

title="l7 host: per-request plane"
host_require root cgroup2 netns btf no-module
host_require_exe "$kmeshctl" "$selftests"
host_ready "$title" kmesh-host-l7
host_selftests_in_ns l7 "$title"
tap_done
