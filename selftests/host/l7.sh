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
top=$(cd "$here/../.." && pwd)
. "$here/tap.sh"
. "$here/lib.sh"

kmeshctl=$top/build/kmeshctl
selftests=$top/build/kmesh_selftests
host_init
t=$host_tmp

host_require root cgroup2 netns btf no-module
host_require_exe "$kmeshctl" "$selftests"
host_skip_unless_ready "l7 host: per-request plane"
host_cgroup kmesh-host-l7
host_skip_unless_ready "l7 host: per-request plane"

cat >"$t/inner.sh" <<INNER
set -u
mount -t bpf bpf /sys/fs/bpf || exit 90
ip link set lo up
export KMESH_L4_CGROUP=$cg KMESHCTL=$kmeshctl
"$selftests" $(selftest_args l7) >"$t/l7.tap" 2>&1
INNER
host_in_ns "$t/inner.sh"
if [ $? = 90 ]; then
	host_why="cannot mount a private bpffs"
	host_skip_unless_ready "l7 host: per-request plane"
fi

relay_tap "$t/l7.tap"
tap_done
