#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# DKMS: the tree installs, builds and uninstalls through `make dkms-install`'s
# script against Debian's 6.1 headers, in private DKMS trees so the system's
# own DKMS state is not touched.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/scripts/env.sh"
. "$here/tap.sh"

kver=$KMESH_KVER
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/src" "$t/dkms" "$t/inst/$kver"
export DKMS_SOURCE_TREE=$t/src DKMS_TREE=$t/dkms DKMS_INSTALL_TREE=$t/inst
built=$t/dkms/kmesh/$version/$kver/x86_64/module/kmesh.ko
installed=$t/inst/$kver/updates/dkms/kmesh.ko

if ! command -v dkms >/dev/null || [ ! -d "/usr/src/linux-headers-$kver" ]; then
	skip "dkms builds kmesh" "dkms or linux-headers-$kver missing (scripts/install-deps.sh)"
	tap_done
	exit
fi

# grep without -q: under pipefail, grep -q leaving early can kill the
# writer with SIGPIPE and turn a match into a failure.
has_btf() { readelf -S --wide "$1" | grep ' \.BTF ' >/dev/null; }
modinfo_has() { modinfo "$1" | grep -- "$2" >/dev/null; }

check "dkms: add, build and install for $kver with module BTF" \
	env KMESH_BTF_BASE="$KMESH_CACHE/$KMESH_KABI/vmlinux" \
	"$top/scripts/dkms.sh" install "$kver"
check "dkms: built module has vermagic $kver" modinfo_has "$built" "vermagic: *$kver "
check "dkms: built module lists its parameters" modinfo_has "$built" "parm: *max_head_bytes:"
check "dkms: built module carries BTF for its kfuncs" has_btf "$built"
check "dkms: module installed under updates/dkms" test -f "$installed"
check "dkms: uninstall removes it everywhere" \
	bash -c "'$top/scripts/dkms.sh' uninstall && test ! -e '$installed' && test ! -e '$t/src/kmesh-$version' && test ! -e '$t/dkms/kmesh'"

# Without a BTF base the build still succeeds, and says what is lost.
out=$(env -u KMESH_BTF_BASE "$top/scripts/dkms.sh" install "$kver" 2>&1)
rc=$?
check "dkms: without a BTF base the build succeeds" test "$rc" = 0
make_log=$(find "$t/dkms" -name make.log | head -n1)
check "dkms: ...and its log warns that kfuncs will be invisible" \
	grep -q "without BTF" "${make_log:-/nonexistent}"
"$top/scripts/dkms.sh" uninstall >/dev/null 2>&1
tap_done
