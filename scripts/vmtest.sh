#!/usr/bin/env bash
# Boot a kernel in QEMU (TCG) with an initramfs holding the module, kmeshctl
# and the selftests; run the selftests inside; decide pass/fail from the
# console (QEMU exits 0 whatever happens inside).
#
#   scripts/vmtest.sh [--lane stock|kfunc|debug] [--timeout SEC] [--guest SCRIPT] [-- SELECTION...]
#
# SELECTION is what kmesh_selftests takes: areas ("http l7"), or
# "-t AREA/SUBTEST" patterns ("-t l7/split_heads -t 'defer/rmmod*'").
#
# --guest runs SCRIPT (a busybox sh script) in the guest instead of the
# selftests; the run then passes when SCRIPT exits 0 (the demo uses this).
#
# Lanes:
#   stock  Debian's own 6.1 kernel (what a Debian 12 node runs): kfuncs only
#          from syscall/tc programs, so kmesh runs its eBPF fallback.
#   kfunc  our 6.1 test kernel with the common kfunc hook backported
#          (scripts/build-test-kernel.sh): kfunc mode everywhere.
#   debug  the same kernel in its debug variant (KASAN, kmemleak, lockdep,
#          DEBUG_ATOMIC_SLEEP): the kfunc lane's selftests (the guest sees
#          KMESH_LANE=kfunc, KMESH_KERNEL_DEBUG=1), more memory and time,
#          and a kmemleak scan after the run. Slow: `make vmtest-debug`.
#
# Fails on any "not ok", a missing summary line, a kernel oops/BUG/WARN, a
# KASAN report, a lockdep splat (or lockdep switched off), a kmemleak report
# whose backtrace names kmesh or code that is gone (an unloaded module or a
# freed BPF program: ours), or a timeout. Prints
# "vmtest-LANE: N passed, M failed, K skipped" last.
#
# Environment (both optional; make bench uses them):
#   KMESH_VM_EXTRA  host files (or directories) to add to the initramfs at the
#                   same paths, space-separated; the shared libraries of the
#                   dynamic executables among them come along.
#   KMESH_VM_OUT    work directory (default build/vm/LANE), so that a second
#                   run of the same lane does not share it.
#   KMESH_VM_ENV    NAME=VALUE words for the guest's environment (the load
#                   test's size: KMESH_LOAD_CONNS=10000 ...).
#   KMESH_VM_KMODS  more kernel modules (with their dependencies) for the
#                   guest, when the kernel has them as modules (virtio_net ...).
#
# --initramfs-only builds the initramfs (with --guest SCRIPT) and prints its
# path, the kernel's and the lane's guest name instead of booting it
# (scripts/vmtest-cluster.sh boots several guests from one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/env.sh"

lane=stock
timeout=
areas=()
guest=
initramfs_only=
while [ $# -gt 0 ]; do
	case "$1" in
	--lane) lane=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--guest) guest=$(readlink -f "$2"); shift 2 ;;
	--initramfs-only) initramfs_only=1; shift ;;
	--) shift; areas=("$@"); break ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "vmtest: unknown argument $1" >&2; exit 2 ;;
	esac
done

log() { printf 'vmtest[%s]: %s\n' "$lane" "$*" >&2; }
die() { log "error: $*"; echo "vmtest-$lane: 0 passed, 1 failed"; exit 1; }

# The guest's lane: what the selftests expect of the kernel's BPF features.
guest_lane=$lane
memory=1G
case "$lane" in
stock)
	kdir=$("$here/prepare-kernel.sh")
	kernel="$kdir/vmlinux"		# PVH entry: boots without SeaBIOS/decompression
	kver=$KMESH_KVER
	builtin_dir="$KMESH_CACHE/$KMESH_KABI/image/lib/modules/$kver"
	;;
kfunc|debug)
	variant=plain
	if [ "$lane" = debug ]; then
		# KASAN's shadow takes an eighth of memory, kmemleak and lockdep
		# more; everything runs ~20 times slower (the suite took 59 min
		# on a busy 2-core host) and a kmemleak scan of 2 GiB takes
		# minutes.
		variant=debug guest_lane=kfunc memory=2G
		timeout=${timeout:-7200}
	fi
	kdir=$("$here/build-test-kernel.sh" --variant $variant | tail -n1)
	kernel="$kdir/kmesh-boot-image"
	kver=$(cat "$kdir/include/config/kernel.release")
	builtin_dir="$kdir"
	;;
*)
	die "unknown lane '$lane' (stock, kfunc or debug)"
	;;
esac
# A whole lane takes ~5 min on an idle 2-core host under TCG; a busy one
# has seen twice that: the bound is for a hung guest, not a slow one.
timeout=${timeout:-1500}
guest_env="KMESH_LANE=$guest_lane ${KMESH_VM_ENV:-}"
[ "$lane" = debug ] && guest_env="$guest_env KMESH_KERNEL_DEBUG=1"

out=${KMESH_VM_OUT:-$top/build/vm/$lane}
mkdir -p "$out"

log "building for $kver"
# The load and fault areas drive the benchmark's static client and server.
{ make -s -C "$top" KDIR="$kdir" module userspace selftests &&
  make -s -C "$top/bench" O="$top/build/bench" "$top/build/bench/loadgen" \
	"$top/build/bench/benchsrv"; } >"$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log" >&2; die "build failed (log: $out/build.log)"; }
ko=$(make -s --no-print-directory -C "$top" KDIR="$kdir" print-module)

# ---- initramfs ----
root="$out/root"
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,usr/bin} \
	"$root/lib/modules/$kver/extra"
cp /bin/busybox "$root/bin/busybox"
mknod -m 600 "$root/dev/console" c 5 1	# /init writes here before devtmpfs
mknod -m 666 "$root/dev/null" c 1 3
cp "$ko" "$root/lib/modules/$kver/extra/"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$builtin_dir/$f" ] && cp "$builtin_dir/$f" "$root/lib/modules/$kver/"
done
# Drivers the selftests need that Debian builds as modules (veth: the L4
# tests' netns topology), with their dependencies; built in on the test kernel.
copy_kmod() {
	local f dep
	f=$(find "$builtin_dir/kernel" -name "$1.ko*" 2>/dev/null | head -n1)
	[ -n "$f" ] || return 0
	mkdir -p "$root/lib/modules/$kver/$(dirname "${f#"$builtin_dir"/}")"
	cp "$f" "$root/lib/modules/$kver/${f#"$builtin_dir"/}"
	for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
		copy_kmod "$dep"
	done
}
copy_kmod veth
for m in ${KMESH_VM_KMODS:-}; do copy_kmod "$m"; done
depmod -b "$root" "$kver"
cp "$top/build/kmeshctl" "$top/build/kmesh_selftests" "$top/build/bench/loadgen" \
	"$top/build/bench/benchsrv" "$root/usr/bin/"
# nghttp2's client, server and load generator (Debian nghttp2-client), for
# the HTTP/2 areas; their libraries come with the loop below.
for t in nghttp nghttpd h2load; do
	if command -v "$t" >/dev/null; then cp "$(command -v "$t")" "$root/usr/bin/"; fi
done
# The fuzz corpus, as more request vectors for the conformance area (the
# selftests look for it next to their binary: ../selftests/fuzz/corpus).
mkdir -p "$root/usr/selftests/fuzz/corpus"
cp -r "$top/selftests/fuzz/corpus/http1" "$root/usr/selftests/fuzz/corpus/"
# A real HTTP client for the defer selftests, when the host has one
# (its libraries come with the loop below).
if command -v curl >/dev/null; then cp "$(command -v curl)" "$root/usr/bin/"; fi
# The gRPC test client and server (bench/src/grpc_*.c, on Debian's gRPC
# core; the h2l4 area and the HTTP/2 bench), libraries by the loop below.
make -s -C "$top/bench" O="$top/build/bench" "$top/build/bench/grpc_server" \
	"$top/build/bench/grpc_client" >>"$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log" >&2; die "building the gRPC test tools failed (libgrpc-dev?)"; }
cp "$top/build/bench/grpc_server" "$top/build/bench/grpc_client" "$root/usr/bin/"
for t in nghttp nghttpd h2load; do command -v $t >/dev/null && cp "$(command -v $t)" "$root/usr/bin/"; done
for f in ${KMESH_VM_EXTRA:-}; do
	[ -e "$f" ] || die "KMESH_VM_EXTRA: no such file: $f"
	echo "$f"
	if [ -f "$f" ] && [ -x "$f" ]; then
		ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
	fi
done | sort -u | while IFS= read -r f; do
	mkdir -p "$root$(dirname "$f")"
	cp -rL "$f" "$root$f"
done
# Dynamically linked binaries (kmeshctl) bring their shared libraries and
# the loader, at the paths ldd names.
for bin in "$root"/usr/bin/*; do
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' || true); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
if [ -n "$guest" ]; then
	cp "$guest" "$root/usr/bin/kmesh-guest"
	run_in_guest="sh /usr/bin/kmesh-guest"
else
	run_in_guest="kmesh_selftests ${areas[*]}"
fi

cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# /tmp stays the initramfs's own (already in memory): KMESH_VM_EXTRA files
# keep their host paths, and a checkout under /tmp must not be hidden.
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up
# Room for the load test's thousands of connections (descriptors at both
# ends; its own network namespace raises the per-namespace sysctls). A
# burst of 10,000 SYNs over loopback overflows the default 1000-packet
# per-CPU input queue: drops, SYN retries, connects timing out under TCG.
ulimit -n 131072
echo 65536 > /proc/sys/net/core/netdev_max_backlog
echo "kmesh-vm: lane=\$KMESH_LANE kernel=\$(uname -r) cpus=\$(nproc)"
$run_in_guest
echo "kmesh-vm: guest exited \$?"
# Debug kernels: what kmemleak suspects now (objects younger than 5 s are
# never reported, two scans settle it) and whether lockdep is still on
# (its first splat switches it off for the rest of the run).
if [ -w /sys/kernel/debug/kmemleak ]; then
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	echo scan > /sys/kernel/debug/kmemleak
	sed 's/^/kmesh-vm: kmemleak: /' /sys/kernel/debug/kmemleak
	echo "kmesh-vm: kmemleak scanned"
fi
if [ -r /proc/lockdep_stats ]; then
	echo "kmesh-vm: lockdep \$(grep -o 'debug_locks: *[0-9]*' /proc/lockdep_stats)"
fi
dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|KASAN|general protection fault' |
	sed 's/^/kmesh-vm: kernel-problem: /'
echo "kmesh-vm: done"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$out/initramfs.cpio"
if [ -n "$initramfs_only" ]; then
	echo "initramfs=$out/initramfs.cpio kernel=$kernel guest_lane=$guest_lane"
	exit 0
fi

# ---- boot ----
console="$out/console.log"
log "booting $(basename "$kernel") under TCG (timeout ${timeout}s)"
start=$(date +%s)
set +e
timeout --foreground "$timeout" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max -smp 2 -m "$memory" \
	-kernel "$kernel" -initrd "$out/initramfs.cpio" \
	-nographic -no-reboot -nodefaults -serial stdio \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=5 $guest_env" \
	</dev/null 2>&1 | stdbuf -oL tr -d '\r' | tee "$console"
qemu_rc=${PIPESTATUS[0]}
set -e
log "VM finished in $(($(date +%s) - start))s (qemu exit $qemu_rc)"

# ---- verdict ----
# The debug lane's own checks. A kmemleak record is ours when its backtrace
# names a function of the kmesh module (not its "comm": kmesh_selftests
# allocates for everyone) or holds an address nothing resolves any more: code that is
# gone by the end of the run is the unloaded module or a freed BPF program
# (the only code outside the kernel image here). Other records are shown,
# not counted: this kernel's own boot-time suspects are not ours to judge.
judge_debug_kernel() {
	local ok=0 ours all
	if ! grep -q '^kmesh-vm: kmemleak scanned' "$console"; then
		log "FAIL: no kmemleak scan at the end (is debugfs there?)"
		ok=1
	fi
	read -r all ours < <(sed -n 's/^kmesh-vm: kmemleak: //p' "$console" | awk '
		/^unreferenced object/ { n++; mine[n] = 0 }
		# backtrace lines: "[<hash>] func+off/len [module]", or for
		# code that is gone "[<hash>] 0xaddress"
		n && /^ +\[</ && (/ \[kmesh\]$/ || /\] 0x[0-9a-f]+$/) { mine[n] = 1 }
		END { for (i = 1; i <= n; i++) m += mine[i]; print n + 0, m + 0 }')
	log "kmemleak: $all suspected leaks, $ours of them ours"
	if [ "$ours" != 0 ]; then
		log "FAIL: kmemleak reports leaks of kmesh:"
		sed -n 's/^kmesh-vm: kmemleak: //p' "$console" | head -60 >&2
		ok=1
	fi
	if ! grep -q '^kmesh-vm: lockdep debug_locks: *1$' "$console"; then
		log "FAIL: lockdep is off at the end of the run (a splat switched it off, or it never ran)"
		ok=1
	fi
	return $ok
}

problems=0
if [ "$qemu_rc" = 124 ]; then
	log "FAIL: timed out after ${timeout}s"
	problems=$((problems + 1))
fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$console" | tail -n1 || true)
if [ -n "$guest" ]; then
	if grep -q '^kmesh-vm: guest exited 0$' "$console"; then
		# a TAP guest's own total, else the script counts as one test
		summary=${summary:-"1 passed, 0 failed"}
	else
		log "FAIL: $(basename "$guest") failed in the guest"
		summary="0 passed, 0 failed"
		problems=$((problems + 1))
	fi
elif [ -z "$summary" ]; then
	log "FAIL: no summary line from the selftests"
	problems=$((problems + 1))
fi
if grep -qE 'kmesh-vm: kernel-problem|Kernel panic|^\[ *[0-9.]+\] (BUG|WARNING):' "$console"; then
	log "FAIL: the kernel reported a problem:"
	grep -E 'kmesh-vm: kernel-problem|Kernel panic|(BUG|WARNING):' "$console" | head -20 >&2
	problems=$((problems + 1))
fi
if [ "$lane" = debug ]; then
	judge_debug_kernel || problems=$((problems + 1))
fi
if ! grep -q '^kmesh-vm: done' "$console"; then
	log "FAIL: the VM did not finish its run"
	problems=$((problems + 1))
fi

passed=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$summary")
failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary")
skipped=$(sed -n 's/.* \([0-9]*\) skipped.*/\1/p' <<<"$summary")
failed=$((${failed:-0} + problems))
echo "vmtest-$lane: ${passed:-0} passed, $failed failed, ${skipped:-0} skipped"
[ "$failed" = 0 ]
