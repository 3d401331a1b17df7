#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# HTTP/2 and gRPC through kmesh on the host's own kernel, module-less (eBPF fallback
# mode: L4 or refused): the VM's h2l4 selftests, in a private mount and network namespace
# (own bpffs, own loopback and veth) against a child cgroup created here
# and always removed. The root cgroup is never touched. Same pattern as l4.sh.
#
#   selftests/host/h2l4.sh        (after make; as root)
#   KMESH_SELFTEST_ARGS="-t h2l4/split_preface" selftests/host/h2l4.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

title="h2l4 host: HTTP/2 and gRPC at L4 (fallback)"
host_require root cgroup2 netns btf no-module
host_require_exe "$kmeshctl" "$selftests"
host_ready "$title" kmesh-host-h2l4
host_selftests_in_ns h2l4 "$title"
tap_done
