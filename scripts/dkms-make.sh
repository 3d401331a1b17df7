#!/bin/sh
# DKMS build step (dkms.conf MAKE): build kmesh.ko for kernel KVER against the
# build tree KSRC, giving it BTF whenever a BTF base can be found, because
# without module BTF the kfuncs are invisible and kmesh runs in fallback mode.
#
#   dkms-make.sh KVER KSRC
#
# BTF base, first found: $KMESH_BTF_BASE; KSRC/vmlinux (kbuild uses it
# itself); /sys/kernel/btf/vmlinux when KVER is the running kernel.
# resolve_btfids: KSRC's own, else the one `make dkms-install` shipped.
set -eu
kver=$1
ksrc=$2
build=$(pwd)

if [ -z "${KMESH_BTF_BASE:-}" ] && [ -f "$ksrc/vmlinux" ]; then
	exec make -C "$ksrc" M="$build" modules
fi

btf=${KMESH_BTF_BASE:-}
if [ -z "$btf" ] && [ "$(uname -r)" = "$kver" ] && [ -r /sys/kernel/btf/vmlinux ]; then
	btf=/sys/kernel/btf/vmlinux
fi
rb=$ksrc/tools/bpf/resolve_btfids/resolve_btfids
[ -x "$rb" ] || rb=$build/tools/resolve_btfids

if [ -n "$btf" ] && [ -x "$rb" ]; then
	"$build/scripts/kernel-objtree.sh" "$ksrc" "$btf" "$rb" "$build/objtree"
	exec make -C "$build/objtree" M="$build" modules
fi

echo "kmesh: WARNING: building for $kver without BTF (no BTF base or resolve_btfids):" >&2
echo "kmesh: the module will load, but its kfuncs stay invisible and kmesh runs in eBPF fallback mode." >&2
exec make -C "$ksrc" M="$build" modules
