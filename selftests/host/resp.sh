#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Responses read on the client's receive path, on the host's own kernel,
# module-less (eBPF fallback mode): the VM's resp selftests (remote
# python3 http.server, busybox httpd and a scripted server behind a veth),
# in a private mount and network namespace against a child cgroup created
# here and always removed. Same pattern as l7.sh.
#
#   selftests/host/resp.sh        (after make; as root)
#   KMESH_SELFTEST_ARGS="-t resp/garbage" selftests/host/resp.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

title="resp host: responses read on the client's side"
host_require root cgroup2 netns btf no-module
host_require_exe "$kmeshctl" "$selftests"
host_ready "$title" kmesh-host-resp
host_selftests_in_ns resp "$title"
tap_done
