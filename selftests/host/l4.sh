#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# L4 data plane on the host's own kernel (BPF without modules is enough):
# the VM's l4 selftests plus kmeshctl checks, run in a private mount and
# network namespace (own bpffs, own loopback and veth) against a child
# cgroup created here and always removed. The root cgroup is never touched.
#
#   selftests/host/l4.sh        (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/tap.sh"

kmeshctl=$top/build/kmeshctl
selftests=$top/build/kmesh_selftests
cg_root=${KMESH_CGROUP2:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)}
cg=$cg_root/kmesh-host-l4-$$
t=$(mktemp -d)

cleanup() {
	if [ -d "$cg" ]; then
		# Anything left in our cgroup is ours (a crashed test's servers).
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
fi
if [ -n "$why" ]; then
	skip "l4 host: data plane" "$why"
	tap_done
	exit
fi
mkdir "$cg" || { skip "l4 host: data plane" "cannot create $cg"; tap_done; exit; }

# Inside: private bpffs at the default pin path, loopback up.
cat >"$t/inner.sh" <<INNER
set -u
mount -t bpf bpf /sys/fs/bpf || exit 90
ip link set lo up
export KMESH_L4_CGROUP=$cg KMESHCTL=$kmeshctl
"$selftests" l4 >"$t/l4.tap" 2>&1
cat >"$t/bad.yaml" <<'YAML'
services:
  - name: web
    addresses: [10.96.0.10]
    ports: [{port: 80, protocol: udp}]
    cluster: c
clusters:
  - {name: c, endpoints: [{address: 127.0.0.1, port: 1}]}
YAML
cat >"$t/good.yaml" <<'YAML'
services:
  - {name: web, addresses: [10.96.0.10], ports: [{port: 80}], cluster: c}
clusters:
  - {name: c, lb: maglev, hash_key: source_ip_port, endpoints: [{address: 127.0.0.1, port: 1}]}
YAML
"$kmeshctl" up --cgroup "$cg" -f "$t/bad.yaml" >"$t/up-bad.out" 2>&1; echo \$? >"$t/up-bad.rc"
ls /sys/fs/bpf >"$t/after-bad.ls"
"$kmeshctl" up --cgroup "$cg" -f "$t/good.yaml" >"$t/up.out" 2>&1; echo \$? >"$t/up.rc"
"$kmeshctl" dump >"$t/dump.out" 2>&1
"$kmeshctl" stats --prometheus >"$t/prom.out" 2>&1
"$kmeshctl" down >"$t/down.out" 2>&1; echo \$? >"$t/down.rc"
ls /sys/fs/bpf >"$t/after-down.ls"
INNER
unshare -m -n --propagation private bash "$t/inner.sh"
rc=$?
if [ "$rc" = 90 ]; then
	skip "l4 host: data plane" "cannot mount a private bpffs"
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
		check "host: ${name%% # *}" sh -c "grep -B30 -F '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' '$t/l4.tap' | grep '^#' | tail -n 20; false" ;;
	esac
done <"$t/l4.tap"
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$t/l4.tap"; then
	check "host: l4 selftests ran to the end" sh -c "tail -20 '$t/l4.tap'; false"
fi

check "host: kmeshctl up -f with a bad file fails and names the field" \
	grep -q "bad.yaml:4: services\[0\].ports\[0\].protocol: expected one of: tcp, http" "$t/up-bad.out"
check "host: ...and leaves nothing pinned" sh -c "! grep -qx kmesh '$t/after-bad.ls'"
check "host: kmeshctl up -f attaches and applies generation 1" \
	grep -q "as generation 1: 1 services" "$t/up.out"
check "host: dump shows the maglev table and its hash key" \
	sh -c "grep -q 'lb maglev .* hash_key source_ip_port' '$t/dump.out' && grep -q 'maglev 16381 slots: 0=100.0%' '$t/dump.out'"
check "host: stats --prometheus is Prometheus text" \
	sh -c "grep -q '^# TYPE kmesh_service_tcp_connections_opened_total counter' '$t/prom.out' && grep -q '^kmesh_service_tcp_connections_opened_total{service=\"web\"} 0' '$t/prom.out'"
check "host: down succeeds and removes every pin" \
	sh -c "test \"\$(cat '$t/down.rc')\" = 0 && ! grep -qx kmesh '$t/after-down.ls'"
tap_done
