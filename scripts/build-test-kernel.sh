#!/usr/bin/env bash
# Build the kmesh "kfunc test kernel": Debian's linux-source-6.1 plus our
# backport of the Linux 6.2 common kfunc hook (scripts/kernel/*.patch), on a
# tinyconfig-based configuration (scripts/kernel/test.config, plus
# debug.config for the debug variant).
#
#   scripts/build-test-kernel.sh [--variant plain|debug] [--print-dir]
#
# Idempotent and cached. A hash over the source package version, the patch,
# the variant's config fragments, this script and the toolchain names
#   $KMESH_CACHE/testkernel/src-<hash>        patched copy of the source
#                                             (hash: version + patch; shared
#                                             by the variants)
#   $KMESH_CACHE/testkernel/<variant>-<hash>  O= output directory
# A finished build leaves .kmesh-build-done in the output directory; a run
# that finds it does nothing but print the directory. A new output directory
# is seeded with a copy of the newest finished build of the same variant and
# source tree, so that a changed config fragment rebuilds incrementally
# (KMESH_KERNEL_NO_SEED=1: build from scratch; see "seed" below).
#
# The last line of stdout is the output directory; all other messages go to
# stderr. In it:
#   kmesh-boot-image  what to pass to qemu -kernel: a symlink to vmlinux
#                     (plain: ELF, PVH entry, fastest under TCG) or to
#                     arch/x86/boot/bzImage (debug: the PVH entry code runs
#                     KASAN-instrumented C before the KASAN shadow exists and
#                     triple-faults, so the debug kernel boots the classic way)
#   out-of-tree modules build (with BTF) by make -C <dir> M=$PWD/mod modules
#
# --print-dir  print the output directory without building; exit status 0
#              if it holds a finished build, 2 if not.
#
# Environment: KMESH_CACHE (scripts/env.sh), JOBS (default: nproc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/env.sh"

prog=build-test-kernel
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() {
	sed -n 's/^#   scripts\/build-test-kernel.sh/usage: build-test-kernel.sh/p' "$0" >&2
	exit "${1:-1}"
}

variant=plain
print_dir=
while [ $# -gt 0 ]; do
	case "$1" in
	--variant) [ $# -ge 2 ] || usage; variant=$2; shift 2 ;;
	--variant=*) variant=${1#--variant=}; shift ;;
	--print-dir) print_dir=1; shift ;;
	-h|--help) usage 0 ;;
	*) log "unknown argument: $1"; usage ;;
	esac
done

kdir="$here/kernel"
patch_file="$kdir/0001-bpf-common-kfunc-hook.patch"
fragments=("$kdir/test.config")
case "$variant" in
plain) boot_image=vmlinux ;;
debug) fragments+=("$kdir/debug.config"); boot_image=arch/x86/boot/bzImage ;;
*) die "unknown variant '$variant' (expected plain or debug)" ;;
esac
for f in "$patch_file" "${fragments[@]}"; do
	[ -f "$f" ] || die "missing $f"
done

src_pkg=linux-source-6.1
pristine="$KMESH_CACHE/src/$src_pkg"
src_version=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null) ||
	die "package $src_pkg is not installed (run scripts/install-deps.sh)"
[ -n "$src_version" ] || die "package $src_pkg is not installed (run scripts/install-deps.sh)"

sha() { sha256sum | cut -c1-12; }
# Source dir: the source version and the patch only.
src_hash=$( { echo "$src_pkg $src_version"; cat "$patch_file"; } | sha)
# Output dir: everything that changes the built kernel.
out_hash=$( {
	echo "$src_pkg $src_version variant=$variant"
	cat "$patch_file" "${fragments[@]}" "$0"
	gcc -dumpfullversion 2>/dev/null || true
	pahole --version 2>/dev/null || true
} | sha)

base="$KMESH_CACHE/testkernel"
src="$base/src-$src_hash"
out="$base/$variant-$out_hash"
stamp="$out/.kmesh-build-done"
src_stamp="$src/.kmesh-patched"

if [ -n "$print_dir" ]; then
	echo "$out"
	[ -f "$stamp" ] && [ -f "$src_stamp" ] && exit 0
	exit 2
fi

if [ -f "$stamp" ] && [ -f "$src_stamp" ]; then
	log "$variant kernel up to date"
	echo "$out"
	exit 0
fi

mkdir -p "$base"
# One builder at a time per source copy and per output dir (a second run
# waits for the first instead of racing it).
exec {src_lock}>"$base/.lock-src-$src_hash"
if ! flock -n "$src_lock"; then
	log "waiting for another run preparing $src"
	flock "$src_lock"
fi

if [ ! -f "$src_stamp" ]; then
	[ -f "$pristine/.kmesh-extracted" ] ||
		die "$pristine is missing or incomplete (run scripts/install-deps.sh)"
	log "copying $src_pkg $src_version to $src and applying $(basename "$patch_file")"
	tmp="$src.tmp.$$"
	rm -rf "$tmp" "$src"
	trap 'rm -rf "$tmp"' EXIT
	cp -a "$pristine/." "$tmp"
	rm -f "$tmp/.kmesh-extracted"
	patch -d "$tmp" -p1 --batch --forward --quiet <"$patch_file" >&2 ||
		die "$(basename "$patch_file") does not apply to $src_pkg $src_version"
	printf '%s %s\n%s\n' "$src_pkg" "$src_version" "$(basename "$patch_file")" >"$tmp/.kmesh-patched"
	mv "$tmp" "$src"
	trap - EXIT
fi
flock -u "$src_lock"

exec {out_lock}>"$base/.lock-$variant-$out_hash"
if ! flock -n "$out_lock"; then
	log "waiting for another run building $out"
	flock "$out_lock"
fi
if [ -f "$stamp" ]; then
	log "$variant kernel built by a concurrent run"
	echo "$out"
	exit 0
fi

# A new output dir starts as a copy of the newest finished build of the same
# variant on the same patched source tree (a config fragment or this script
# changed): kbuild then recompiles only what the changed options touch and
# relinks (minutes instead of ~25 for a cold plain build). The seed is copied,
# never moved or written to; when there is none or the copy fails, the build
# starts clean. KMESH_KERNEL_NO_SEED=1 forces a clean build.
#
# The host tools (objtool, resolve_btfids) record their absolute output
# paths in their .cmd/.d files: left as they are, make rebuilds them, every
# object depends on the objtool binary (gen_objtooldep), and the whole kernel
# is recompiled. retarget_tools SEED COPY OUT points those files at OUT,
# keeping their times.
retarget_tools() {
	local f re
	re=$(printf '%s' "$1" | sed 's/[][\\.*^$|]/\\&/g')
	while IFS= read -r f; do
		sed -i "s|$re|$3|g" "$f" && touch -r "$1/${f#"$2"/}" "$f" || return 1
	done < <(grep -rlIF -- "$1" "$2/tools")
}
if [ ! -e "$out" ] && [ "${KMESH_KERNEL_NO_SEED:-0}" != 1 ]; then
	seed=
	while read -r s; do
		s=${s%/.kmesh-build-done}
		[ "$s" != "$out" ] && grep -qxF "srctree=$src" "$s/.kmesh-build-done" && { seed=$s; break; }
	done < <(ls -1td "$base/$variant"-*/.kmesh-build-done 2>/dev/null)
	if [ -n "$seed" ]; then
		log "seeding $out from $seed (incremental build)"
		tmp="$out.seed.$$"
		rm -rf "$tmp"
		trap 'rm -rf "$tmp"' EXIT
		if cp -a "$seed/." "$tmp" && rm -f "$tmp/.kmesh-build-done" "$tmp/kmesh-boot-image" &&
			retarget_tools "$seed" "$tmp" "$out" && mv -T "$tmp" "$out"; then
			echo "seeded from $seed" >"$out/kmesh-seed"
		else
			log "copying $seed failed; building from scratch"
			rm -rf "$tmp"
		fi
		trap - EXIT
	fi
fi

jobs=${JOBS:-$(nproc)}
mkdir -p "$out"
buildlog="$out/kmesh-build.log"
: >"$buildlog"
kmake() { make -C "$src" O="$out" ARCH=x86_64 "$@"; }

# --- configuration ----------------------------------------------------------
log "configuring $variant kernel in $out"
{
	kmake tinyconfig &&
		"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${fragments[@]}" &&
		kmake olddefconfig
} >>"$buildlog" 2>&1 || {
	tail -n 40 "$buildlog" >&2
	die "configuration failed (full log: $buildlog)"
}

# Dependencies drop options silently: every option the fragments set must be
# in .config as asked (a later fragment overrides an earlier one).
mismatches=$(awk '
	function name_of(line) { match(line, /CONFIG_[A-Za-z0-9_]+/); return substr(line, RSTART, RLENGTH) }
	FNR == 1 { fileno++ }
	fileno == 1 {
		if ($0 ~ /^CONFIG_[A-Za-z0-9_]+=/) { i = index($0, "="); have[substr($0, 1, i - 1)] = substr($0, i + 1) }
		else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/) have[name_of($0)] = "n"
		next
	}
	$0 ~ /^CONFIG_[A-Za-z0-9_]+=/ {
		i = index($0, "="); n = substr($0, 1, i - 1)
		if (!(n in want)) order[++cnt] = n
		want[n] = substr($0, i + 1); next
	}
	$0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/ {
		n = name_of($0); if (!(n in want)) order[++cnt] = n
		want[n] = "n"
	}
	END {
		for (k = 1; k <= cnt; k++) {
			n = order[k]; w = want[n]; h = (n in have) ? have[n] : "n"
			if (w != h) printf "  %s: requested %s, got %s\n", n, w, (n in have) ? h : "unset"
		}
	}' "$out/.config" "${fragments[@]}")
if [ -n "$mismatches" ]; then
	log "options requested by the fragments but not in $out/.config (missing dependency?):"
	printf '%s\n' "$mismatches" >&2
	die "configuration check failed; fix scripts/kernel/*.config"
fi
log "configuration ok ($(grep -c '=y$' "$out/.config") options =y)"

# --- build ------------------------------------------------------------------
# vmlinux (with .BTF), modules (writes Module.symvers; no in-tree module is
# enabled) and modules_prepare (resolve_btfids etc.) so that out-of-tree
# modules build with `make -C $out M=...` and get module BTF; plus the boot
# image when it is not vmlinux itself.
targets=(vmlinux modules modules_prepare)
[ "$boot_image" = vmlinux ] || targets+=("$(basename "$boot_image")")
log "building $variant kernel with -j$jobs (log: $buildlog)"
start=$(date +%s)
# make itself in the background (not a function: $! must be make's pid, so
# that an interrupted run stops the build instead of leaving it behind).
make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" "${targets[@]}" >>"$buildlog" 2>&1 &
make_pid=$!
trap 'kill "$make_pid" 2>/dev/null || true' EXIT INT TERM
while kill -0 "$make_pid" 2>/dev/null; do
	for _ in $(seq 30); do
		kill -0 "$make_pid" 2>/dev/null || break
		sleep 1
	done
	kill -0 "$make_pid" 2>/dev/null || break
	el=$(($(date +%s) - start))
	n=$(grep -c '^  CC ' "$buildlog" || true)
	last=$(grep -E '^  [A-Z]' "$buildlog" | tail -n 1 | sed 's/^ *//' || true)
	log "$variant: $((el / 60))m$((el % 60))s, $n files compiled; $last"
done
rc=0
wait "$make_pid" || rc=$?
trap - EXIT INT TERM
el=$(($(date +%s) - start))
if [ "$rc" -ne 0 ]; then
	grep -E 'error|Error' "$buildlog" | head -n 20 >&2 || true
	log "--- last lines of $buildlog ---"
	tail -n 40 "$buildlog" >&2
	die "kernel build failed after ${el}s (exit $rc)"
fi

for f in vmlinux "$boot_image" tools/bpf/resolve_btfids/resolve_btfids Module.symvers; do
	[ -e "$out/$f" ] || die "build finished but $out/$f is missing"
done
# Not `readelf | grep -q`: under pipefail, grep -q leaving early makes readelf
# die of SIGPIPE on vmlinux's long section list and the check fail.
sections=$(readelf -S --wide "$out/vmlinux") || die "readelf cannot read $out/vmlinux"
grep -q ' \.BTF ' <<<"$sections" || die "$out/vmlinux has no .BTF section"

ln -sfn "$boot_image" "$out/kmesh-boot-image"

kver=$(cat "$out/include/config/kernel.release")
{
	echo "variant=$variant"
	echo "kernel.release=$kver"
	echo "source=$src_pkg $src_version"
	echo "srctree=$src"
	echo "boot_image=$boot_image"
	echo "build_seconds=$el"
	[ -f "$out/kmesh-seed" ] && cat "$out/kmesh-seed"
	echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$stamp"
log "built $variant kernel $kver in $((el / 60))m$((el % 60))s, vmlinux $(du -h "$out/vmlinux" | cut -f1)"
echo "$out"
