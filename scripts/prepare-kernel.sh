#!/usr/bin/env bash
# Prepare the stock Debian kernel for the VM lane and print the objtree path.
#
# The objtree (see kernel-objtree.sh) gets its BTF base from the vmlinux
# extracted out of the image, and resolve_btfids built from linux-source.
# Idempotent; prints the objtree path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

die() { printf 'prepare-kernel: error: %s\n' "$*" >&2; exit 1; }

base="$KMESH_CACHE/$KMESH_KABI"
headers="/usr/src/linux-headers-$KMESH_KVER"
src="$KMESH_CACHE/src/linux-source-6.1"
vmlinuz="$base/image/boot/vmlinuz-$KMESH_KVER"
obj="$base/objtree"

[ -d "$headers" ] || die "$headers missing: run scripts/install-deps.sh"
[ -f "$vmlinuz" ] || die "$vmlinuz missing: run scripts/install-deps.sh"
[ -f "$src/.kmesh-extracted" ] || die "$src missing: run scripts/install-deps.sh"

if [ ! -f "$obj/.kmesh-ready" ]; then
	mkdir -p "$base"
	"$src/scripts/extract-vmlinux" "$vmlinuz" >"$base/vmlinux.tmp"
	# grep without -q: under pipefail, grep -q leaving early kills readelf
	# with SIGPIPE on a long section list and fails the check.
	readelf -S --wide "$base/vmlinux.tmp" | grep ' \.BTF ' >/dev/null ||
		die "extracted vmlinux has no .BTF section"
	mv "$base/vmlinux.tmp" "$base/vmlinux"

	rb="$base/resolve_btfids-build"
	mkdir -p "$rb"
	make -s -C "$src/tools/bpf/resolve_btfids" OUTPUT="$rb/" \
		-j"$(nproc)" >"$rb/build.log" 2>&1 ||
		{ tail -20 "$rb/build.log" >&2; die "building resolve_btfids failed"; }

	"$here/kernel-objtree.sh" "$headers" "$base/vmlinux" \
		"$rb/resolve_btfids" "$obj"
	touch "$obj/.kmesh-ready"
fi
echo "$obj"
