#!/usr/bin/env bash
# Make a private kbuild objtree that gives out-of-tree modules BTF.
#
#   kernel-objtree.sh HEADERS_DIR BTF_BASE RESOLVE_BTFIDS OUT_DIR
#
# Distribution headers (Debian's among them) ship neither vmlinux nor
# resolve_btfids, so kbuild skips "BTF [M]" and the module's kfuncs are
# invisible to the verifier. OUT_DIR mirrors HEADERS_DIR with symlinks and
# adds the two: BTF_BASE (a vmlinux ELF with .BTF, or raw BTF such as
# /sys/kernel/btf/vmlinux, which pahole and resolve_btfids both accept)
# and the resolve_btfids binary. Nothing in HEADERS_DIR is written.
set -euo pipefail

[ $# = 4 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
headers=$1 btf=$2 resolve_btfids=$3 out=$4

die() { printf 'kernel-objtree: error: %s\n' "$*" >&2; exit 1; }
[ -f "$headers/Makefile" ] || die "$headers is not a kernel build tree"
[ -s "$btf" ] || die "no BTF at $btf"
[ -x "$resolve_btfids" ] || die "no resolve_btfids at $resolve_btfids"

rm -rf "$out"
mkdir -p "$out/tools/bpf/resolve_btfids"
for f in "$headers"/* "$headers"/.config "$headers"/.kernelvariables; do
	name=$(basename "$f")
	case "$name" in
	vmlinux|tools) ;;
	*) [ -e "$f" ] && ln -s "$(readlink -f "$f")" "$out/$name" ;;
	esac
done
for f in "$headers"/tools/*; do
	[ -e "$f" ] && ln -s "$(readlink -f "$f")" "$out/tools/$(basename "$f")"
done
cp "$btf" "$out/vmlinux"
cp "$resolve_btfids" "$out/tools/bpf/resolve_btfids/resolve_btfids"
