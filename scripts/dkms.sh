#!/usr/bin/env bash
# Install or remove kmesh.ko through DKMS (make dkms-install / dkms-uninstall).
#
#   dkms.sh install [KVER]    copy the sources to /usr/src/kmesh-VERSION,
#                             dkms add + build + install (default: running kernel)
#   dkms.sh uninstall         dkms remove --all and delete the sources
#
# DKMS_SOURCE_TREE, DKMS_TREE and DKMS_INSTALL_TREE redirect every path
# (the tests use them to leave the system untouched).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/env.sh"

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
source_tree=${DKMS_SOURCE_TREE:-/usr/src}
src="$source_tree/kmesh-$version"
opts=()
[ -n "${DKMS_SOURCE_TREE:-}" ] && opts+=(--sourcetree "$DKMS_SOURCE_TREE")
[ -n "${DKMS_TREE:-}" ] && opts+=(--dkmstree "$DKMS_TREE")
[ -n "${DKMS_INSTALL_TREE:-}" ] && opts+=(--installtree "$DKMS_INSTALL_TREE")

case "${1:-}" in
install)
	kver=${2:-$(uname -r)}
	rm -rf "$src"
	mkdir -p "$src/scripts" "$src/tools"
	cp -r "$top/Kbuild" "$top/dkms.conf" "$top/kmod" "$src/"
	cp "$here/dkms-make.sh" "$here/kernel-objtree.sh" "$src/scripts/"
	# Ship resolve_btfids (built by prepare-kernel.sh) for kernels whose
	# headers lack it, so DKMS builds get module BTF.
	rb="$KMESH_CACHE/$KMESH_KABI/resolve_btfids-build/resolve_btfids"
	[ -x "$rb" ] && cp "$rb" "$src/tools/"
	dkms add -m kmesh -v "$version" "${opts[@]}"
	dkms build -m kmesh -v "$version" -k "$kver" "${opts[@]}"
	dkms install -m kmesh -v "$version" -k "$kver" "${opts[@]}"
	;;
uninstall)
	# not `| grep -q .`: under pipefail a SIGPIPE'd dkms made it false
	if [ -n "$(dkms status -m kmesh -v "$version" "${opts[@]}")" ]; then
		dkms remove -m kmesh -v "$version" --all "${opts[@]}"
	fi
	rm -rf "$src"
	;;
*)
	sed -n '2,9p' "$0" >&2
	exit 2
	;;
esac
