#!/usr/bin/env bash
# Prepare the stock Debian kernel for the VM lane and print the objtree path.
#
# Debian's headers package has neither vmlinux nor resolve_btfids, so a module
# built against it gets no BTF and its kfuncs stay invisible to the verifier.
# We build a private objtree: symlinks into the headers package plus the two
# missing pieces (vmlinux extracted from the image, resolve_btfids built from
# linux-source). Nothing under /usr/src is written. Idempotent.
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
	rm -rf "$obj"
	mkdir -p "$obj/tools/bpf/resolve_btfids"
	for f in .config .kernelvariables Makefile Module.symvers arch include scripts; do
		ln -s "$headers/$f" "$obj/$f"
	done
	ln -s /usr/lib/linux-kbuild-6.1/tools/objtool "$obj/tools/objtool"

	"$src/scripts/extract-vmlinux" "$vmlinuz" >"$obj/vmlinux.tmp"
	readelf -S "$obj/vmlinux.tmp" | grep -q '\.BTF' ||
		die "extracted vmlinux has no .BTF section"
	mv "$obj/vmlinux.tmp" "$obj/vmlinux"

	rb="$base/resolve_btfids-build"
	mkdir -p "$rb"
	make -s -C "$src/tools/bpf/resolve_btfids" OUTPUT="$rb/" \
		-j"$(nproc)" >"$rb/build.log" 2>&1 ||
		{ tail -20 "$rb/build.log" >&2; die "building resolve_btfids failed"; }
	cp "$rb/resolve_btfids" "$obj/tools/bpf/resolve_btfids/"
	touch "$obj/.kmesh-ready"
fi
echo "$obj"
