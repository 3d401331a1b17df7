#!/usr/bin/env bash
# Install everything kmesh needs to build and test, from Debian's packages only.
# Idempotent and quiet when all is present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

packages=(
	build-essential make gcc clang llvm pkg-config
	libbpf-dev bpftool dwarves libelf-dev zlib1g-dev libyaml-dev libmicrohttpd-dev
	qemu-system-x86 busybox-static cpio kmod xz-utils dkms
	flex bison bc libssl-dev python3 rsync curl
	# the xDS agent (gRPC C core, protobuf-c; protos generated at build
	# time from npm, see scripts/gen-xds-protos.sh) and its test server
	libgrpc-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler
	libprotobuf-dev python3-grpcio python3-protobuf
	# the HTTP/2 core's differential tests and benchmark (selftests/unit/test_h2_nghttp2.c)
	libnghttp2-dev
	# real HTTP/2 client and server for the h2l4 area (nghttp, nghttpd)
	nghttp2-client nghttp2-server
	"linux-headers-$KMESH_KVER" linux-source-6.1
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'ok installed' >/dev/null ||
		missing+=("$p")
done

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return
	log "apt-get update"
	apt-get update -qq >/dev/null
	apt_updated=1
}

if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
	apt_update
	for p in "${missing[@]}"; do
		apt-cache show "$p" >/dev/null 2>&1 ||
			die "package $p is not in the Debian mirror (kernel ABI $KMESH_KABI dropped? set KMESH_KABI in scripts/env.sh)"
	done
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# The stock kernel image for the VM: extracted from its .deb, never installed
# (installing writes /boot and runs update-initramfs for nothing).
image="$KMESH_CACHE/$KMESH_KABI/image"
if [ ! -f "$image/boot/vmlinuz-$KMESH_KVER" ]; then
	mkdir -p "$KMESH_CACHE/$KMESH_KABI"
	tmp=$(mktemp -d)
	chmod 755 "$tmp"  # apt-get download runs as _apt
	trap 'rm -rf "$tmp"' EXIT
	apt_update
	pkg="linux-image-$KMESH_KVER-unsigned"
	apt-cache show "$pkg" >/dev/null 2>&1 ||
		die "$pkg is not in the Debian mirror; set KMESH_KABI in scripts/env.sh"
	log "fetching $pkg"
	(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null)
	rm -rf "$image.new"
	dpkg-deb -x "$tmp"/*.deb "$image.new"
	rm -rf "$image"
	mv "$image.new" "$image"
fi

# The kernel source gives extract-vmlinux, resolve_btfids and, for the kfunc
# test kernel, the whole tree.
src="$KMESH_CACHE/src/linux-source-6.1"
if [ ! -f "$src/.kmesh-extracted" ]; then
	log "extracting linux-source-6.1"
	mkdir -p "$KMESH_CACHE/src"
	rm -rf "$src"
	tar -C "$KMESH_CACHE/src" -xf /usr/src/linux-source-6.1.tar.xz
	touch "$src/.kmesh-extracted"
fi
