#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# One node of the multi-node VM lane (scripts/vmtest-cluster.sh), run by
# the guest's /init (busybox sh): its NIC on the lane's virtual network,
# the kmesh module, kmeshctl up on the meshed cgroup, one workload (busybox
# httpd answering "ep=NODE_IP" on NODE_IP:8080, meshed like a pod), the
# node's kmesh-agent to the management server on the host, and a control
# port (busybox httpd CGI on :9000, not meshed) through which the host's
# test runs commands here. Exits when the host creates /tmp/stop.
#
# Environment (kernel command line): KMESH_NODE (1-based), KMESH_NODES,
# KMESH_AGENT_BIN (the agent's path in the initramfs), KMESH_XDS.
set -u
ip=10.77.0.$((10 + KMESH_NODE))
say() { echo "kmesh-cluster[node $KMESH_NODE]: $*"; }

# Debian's kernel has the virtio drivers as modules; the test kernel would
# have them built in.
modprobe virtio_pci 2>/dev/null
modprobe virtio_net 2>/dev/null
ip link set eth0 up && ip addr add "$ip/24" dev eth0 || { say "no eth0"; exit 1; }

modprobe kmesh || { say "modprobe kmesh failed"; exit 1; }
mkdir -p /sys/fs/cgroup/mesh /run/kmesh
kmeshctl up --cgroup /sys/fs/cgroup/mesh >/tmp/up.out 2>&1 ||
	{ cat /tmp/up.out; say "kmeshctl up failed"; exit 1; }

# meshed CMD...: run CMD in the meshed cgroup (used by the host's commands)
cat >/usr/bin/meshed <<'EOF'
#!/bin/sh
echo $$ >/sys/fs/cgroup/mesh/cgroup.procs && exec "$@"
EOF
chmod +x /usr/bin/meshed

# The workload: every path the tests ask for answers this node's address.
mkdir -p /www/v2 /www/admin
for f in index.html public v2/index.html v2/items admin/users; do
	echo "ep=$ip" >"/www/$f"
done
# and a CGI answering 503 (with CRLF: a bare-LF head is no HTTP/1.1)
mkdir -p /www/cgi-bin
cat >/www/cgi-bin/fail <<EOF
#!/bin/sh
printf 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nep=$ip\n'
EOF
chmod +x /www/cgi-bin/fail
meshed httpd -p "$ip:8080" -h /www

# The control port: POST a shell script, get its output, then a line
# "kmesh-rc=N" (after a newline of its own: output may end without one).
mkdir -p /ctl/cgi-bin
cat >/ctl/cgi-bin/run <<'EOF'
#!/bin/sh
echo "Content-Type: text/plain"
echo
head -c "${CONTENT_LENGTH:-0}" >/tmp/ctl.$$
sh /tmp/ctl.$$ 2>&1
printf '\nkmesh-rc=%s\n' "$?"
rm -f /tmp/ctl.$$
EOF
chmod +x /ctl/cgi-bin/run
httpd -p "$ip:9000" -h /ctl

# The agent, restartable by the host's commands (/usr/bin/start-agent).
cat >/usr/bin/start-agent <<EOF
#!/bin/sh
KMESH_AGENT_STATUS=/run/kmesh/agent.status "$KMESH_AGENT_BIN" --xds "$KMESH_XDS" \\
	--node-id "kmesh~$ip~node-$KMESH_NODE.default~default.svc.cluster.local" \\
	--cluster kmesh-cluster --metadata NAMESPACE=default >>/tmp/agent.log 2>&1 &
echo \$! >/tmp/agent.pid
EOF
chmod +x /usr/bin/start-agent
start-agent

say "ready ($ip, $(kmeshctl status 2>/dev/null | grep -m1 'l7 requests' | sed 's/^ *//'))"
while [ ! -e /tmp/stop ]; do sleep 1; done
kill "$(cat /tmp/agent.pid)" 2>/dev/null
sleep 1
sed 's/^/agent: /' /tmp/agent.log | tail -n 40
kmeshctl down >/dev/null 2>&1
say "stopped"
exit 0
