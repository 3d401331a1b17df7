# kmesh demo, guest side (busybox sh inside the VM): bring the module and the
# loader up and show what the node can do.
set -e
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Loading the kmesh module: modprobe kmesh max_head_bytes=16384"
modprobe kmesh max_head_bytes=16384
echo "module parameters:"
for p in /sys/module/kmesh/parameters/*; do
	printf '  %-16s %s\n' "$(basename "$p")" "$(cat "$p")"
done
echo "kfunc hooks registered: $(cat /sys/module/kmesh/caps/kfunc_hooks)"

step "kmeshctl status"
kmeshctl status

step "Unloading: rmmod kmesh"
# The probe programs kmeshctl loaded hold the module until their deferred
# free has run: retry briefly, as an operator would.
i=0
until rmmod kmesh 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { rmmod kmesh; exit 1; }
	sleep 0.1
done
echo "module removed; kmeshctl now reports:"
kmeshctl status | grep -E 'module|l7 mode'
