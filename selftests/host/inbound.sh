#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Inbound authorization on the host's own kernel, module-less (the
# receive check is the eBPF parser without it): the VM's inbound
# selftests in a private mount and network namespace (own bpffs, loopback,
# veth and a netns for the other-netns client) against a child cgroup
# created here and always removed. Same pattern as l7.sh.
#
#   selftests/host/inbound.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

title="inbound host: the destination's check"
host_require root cgroup2 netns btf no-module
host_require_exe "$kmeshctl" "$selftests"
host_ready "$title" kmesh-host-inbound
host_selftests_in_ns inbound "$title"
tap_done
