#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Inbound authorization on the host's own kernel, module-less (the
# receive check is the eBPF parser on every kernel): the VM's inbound
# selftests in a private mount and network namespace (own bpffs, loopback,
# veth and a netns for the other-netns client) against a child cgroup
# created here and always removed. Same pattern as l7.sh.
#
#   selftests/host/inbound.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/tap.sh"

kmeshctl=$top/build/kmeshctl
selftests=$top/build/kmesh_selftests
cg_root=${KMESH_CGROUP2:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)}
cg=$cg_root/kmesh-host-inbound-$$
t=$(mktemp -d)

cleanup() {
	if [ -d "$cg" ]; then
		for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.2
		done
	fi
	rm -rf "$t"
}
trap cleanup EXIT

why=
if [ "$(id -u)" != 0 ]; then
	why="needs root"
elif [ -z "$cg_root" ] || [ ! -w "$cg_root/cgroup.procs" ]; then
	why="no writable cgroup2 mount"
elif ! command -v unshare >/dev/null || ! unshare -m -n true 2>/dev/null; then
	why="cannot create mount and network namespaces"
elif [ ! -x "$kmeshctl" ] || [ ! -x "$selftests" ]; then
	why="build first (make)"
elif [ ! -e /sys/kernel/btf/vmlinux ]; then
	why="kernel without BTF"
elif [ -e /sys/module/kmesh ]; then
	why="the kmesh module is loaded here: this lane checks the eBPF fallback"
fi
if [ -n "$why" ]; then
	skip "inbound host: the destination's check" "$why"
	tap_done
	exit
fi
mkdir "$cg" || { skip "inbound host: the destination's check" "cannot create $cg"; tap_done; exit; }

cat >"$t/inner.sh" <<INNER
set -u
mount -t bpf bpf /sys/fs/bpf || exit 90
ip link set lo up
export KMESH_L4_CGROUP=$cg KMESHCTL=$kmeshctl
"$selftests" inbound >"$t/inbound.tap" 2>&1
INNER
unshare -m -n --propagation private bash "$t/inner.sh"
rc=$?
if [ "$rc" = 90 ]; then
	skip "inbound host: the destination's check" "cannot mount a private bpffs"
	tap_done
	exit
fi

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
		check "host: ${name%% # *}" sh -c "grep -B30 -F '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' '$t/inbound.tap' | grep '^#' | tail -n 20; false" ;;
	esac
done <"$t/inbound.tap"
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$t/inbound.tap"; then
	check "host: inbound selftests ran to the end" sh -c "tail -20 '$t/inbound.tap'; false"
fi
tap_done
