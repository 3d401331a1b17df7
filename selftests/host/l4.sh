#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# L4 data plane on the host's own kernel (BPF without modules is enough):
# the VM's l4 selftests plus kmeshctl checks, run in a private mount and
# network namespace (own bpffs, own loopback and veth) against a child
# cgroup created here and always removed. The root cgroup is never touched.
#
#   selftests/host/l4.sh        (after make; as root)
#   KMESH_SELFTEST_ARGS="-t 'l4/maglev*'" selftests/host/l4.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

title="l4 host: data plane"
host_require root cgroup2 netns btf
host_require_exe "$kmeshctl" "$selftests"
host_ready "$title" kmesh-host-l4

# After the selftests, in the same namespaces: kmeshctl's own checks.
cat >"$t/extra.sh" <<EXTRA
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
# a re-apply of what the live generation was applied from is a no-op
sed 's/port: 1}/port: 2}/' "$t/good.yaml" >"$t/good2.yaml"
for f in good good good2 good; do
	"$kmeshctl" apply -f "$t/\$f.yaml"
	"$kmeshctl" dump | sed -n 's/^generation //p'
done >"$t/reapply.out" 2>&1
"$kmeshctl" apply --force -f "$t/good.yaml" >"$t/force.out" 2>&1
"$kmeshctl" apply -f "$t/good.yaml" >>"$t/force.out" 2>&1
"$kmeshctl" down >"$t/down.out" 2>&1; echo \$? >"$t/down.rc"
ls /sys/fs/bpf >"$t/after-down.ls"
EXTRA
host_selftests_in_ns l4 "$title"

check "host: kmeshctl up -f with a bad file fails and names the field" \
	grep -q "bad.yaml:4: services\[0\].ports\[0\].protocol: expected one of: tcp, http" "$t/up-bad.out"
check "host: ...and leaves nothing pinned" sh -c "! grep -qx kmesh '$t/after-bad.ls'"
check "host: kmeshctl up -f attaches and applies generation 1" \
	grep -q "as generation 1: 1 services" "$t/up.out"
check "host: dump shows the maglev table and its hash key" \
	sh -c "grep -q 'lb maglev .* hash_key source_ip_port' '$t/dump.out' && grep -q 'maglev 16381 slots: 0=100.0%' '$t/dump.out'"
check "host: stats --prometheus is Prometheus text" \
	sh -c "grep -q '^# TYPE kmesh_service_tcp_connections_opened_total counter' '$t/prom.out' && grep -q '^kmesh_service_tcp_connections_opened_total{service=\"web\"} 0' '$t/prom.out'"
check "host: kmeshctl apply of the file the live generation came from does nothing" sh -c '
	sed -n 3,4p "$1" | tr "\n" " " | grep -q "^unchanged: .*good.yaml is what generation 2 applied; nothing to do 2 $" ||
	{ cat "$1"; exit 1; }' sh "$t/reapply.out"
check "host: ...a changed file, then the first again, are applied (generations 3, 4)" sh -c '
	sed -n 5,8p "$1" | tr "\n" " " | grep -q "^applied .*good2.yaml as generation 3: .* 3 applied .*good.yaml as generation 4: .* 4 $" ||
	{ cat "$1"; exit 1; }' sh "$t/reapply.out"
check "host: ...--force applies an unchanged file, and records it (the next apply does nothing)" sh -c '
	grep -q "good.yaml as generation 5:" "$1" &&
	grep -q "^unchanged: .*good.yaml is what generation 5 applied" "$1" || { cat "$1"; exit 1; }' sh "$t/force.out"
check "host: down succeeds and removes every pin" \
	sh -c "test \"\$(cat '$t/down.rc')\" = 0 && ! grep -qx kmesh '$t/after-down.ls'"
tap_done
