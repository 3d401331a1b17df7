# SPDX-License-Identifier: GPL-2.0-only
# What the host suites share (source it after tap.sh): the checks before
# a suite can run, each failing one reported as a SKIP with its reason
# (never a silent exit); a child cgroup of our own, always removed; the
# private mount + network namespace a suite runs in; relaying the C
# selftests' TAP; and waiting on a condition instead of sleeping.
#
#   host_init               # $t (a scratch directory); cleanup on exit
#   host_require root cgroup2 netns btf no-module
#   host_require_exe PATH...; host_require_cmd NAME...
#   host_skip_unless_ready "suite: what it checks"  # SKIP + tap_done + exit
#   host_cgroup NAME        # sets $cg, created; removed on exit
#   host_ready TITLE NAME   # both of the above
#   host_in_ns SCRIPT       # runs SCRIPT in private mount+net namespaces
#   host_selftests_in_ns AREA TITLE  # kmesh_selftests AREA there, relayed
#   relay_tap FILE [--diag] # one host result per line of a TAP file
#                           # (--diag: also echo its "# " lines)
#   wait_until SECONDS CMD...

top=${top:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
kmeshctl=$top/build/kmeshctl
selftests=$top/build/kmesh_selftests
cg_root=${KMESH_CGROUP2:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)}
host_why=
host_tmp=
cg=${cg:-}

host_cleanup() {
	local pid
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		# Anything left in our cgroup is ours (a crashed test's servers).
		for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		wait_until 2 rmdir "$cg" 2>/dev/null
	fi
	[ -n "$host_tmp" ] && rm -rf "$host_tmp"
}

host_init() {
	host_tmp=$(mktemp -d)
	t=$host_tmp
	trap host_cleanup EXIT
}

# kmesh_selftests' arguments for AREA: $KMESH_SELFTEST_ARGS (e.g.
# "-t 'l4/maglev*'" or "-r"), and the whole area unless it names tests.
selftest_args() {
	local args=${KMESH_SELFTEST_ARGS:-}
	case " $args" in
	*" -t"*) echo "$args" ;;
	*) echo "$args $1" ;;
	esac
}

# wait_until SECONDS CMD...: run CMD until it succeeds (0) or time is up (1).
wait_until() {
	local end=$(($(date +%s%N) + $1 * 1000000000)) step=0.01
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep "$step"
		step=0.1
	done
}

# Note the first missing precondition in $host_why.
host_require() {
	local what
	while [ $# -gt 0 ]; do
		what=$1
		shift
		[ -n "$host_why" ] && continue
		case "$what" in
		root) [ "$(id -u)" = 0 ] || host_why="needs root (uid $(id -u))" ;;
		cgroup2)
			[ -n "$cg_root" ] && [ -w "$cg_root/cgroup.procs" ] ||
				host_why="no writable cgroup2 mount" ;;
		netns)
			command -v unshare >/dev/null && unshare -m -n true 2>/dev/null ||
				host_why="cannot create mount and network namespaces" ;;
		btf) [ -e /sys/kernel/btf/vmlinux ] || host_why="kernel without BTF" ;;
		no-module)
			[ ! -e /sys/module/kmesh ] ||
				host_why="the kmesh module is loaded here: this suite checks the eBPF fallback" ;;
		*) host_why="host_require: unknown need '$what'" ;;
		esac
	done
}

# Built programs the suite runs.
host_require_exe() {
	local f
	for f; do
		[ -n "$host_why" ] || [ -x "$f" ] || host_why="build first (make): no $f"
	done
}

# Commands from Debian packages the suite runs.
host_require_cmd() {
	local c
	for c; do
		[ -n "$host_why" ] || command -v "$c" >/dev/null ||
			host_why="needs $c (scripts/install-deps.sh)"
	done
}

# Report the whole suite as skipped, with the reason, and stop.
host_skip_unless_ready() {
	[ -z "$host_why" ] && return 0
	skip "$1" "$host_why"
	tap_done
	exit 0
}

host_cgroup() {
	cg=$cg_root/$1-$$
	mkdir "$cg" 2>/dev/null || host_why="cannot create $cg"
}

# Every precondition met, and our cgroup NAME-PID made: or a SKIP of the
# suite TITLE with the reason, and exit.
host_ready() {
	host_skip_unless_ready "$1"
	host_cgroup "$2"
	host_skip_unless_ready "$1"
}

# kmesh_selftests AREA in private namespaces (bpffs of their own, loopback
# up) against $cg, then the commands of $t/extra.sh if there is one; the
# selftests' TAP is relayed. A SKIP of TITLE when no bpffs can be mounted.
host_selftests_in_ns() {
	local area=$1 title=$2
	cat >"$t/inner.sh" <<INNER
set -u
mount -t bpf bpf /sys/fs/bpf || exit 90
ip link set lo up
export KMESH_L4_CGROUP=$cg KMESHCTL=$kmeshctl
"$selftests" $(selftest_args "$area") >"$t/$area.tap" 2>&1
[ ! -f "$t/extra.sh" ] || . "$t/extra.sh"
INNER
	host_in_ns "$t/inner.sh"
	if [ $? = 90 ]; then
		host_why="cannot mount a private bpffs"
		host_skip_unless_ready "$title"
	fi
	relay_tap "$t/$area.tap"
}
# Run a script in private mount and network namespaces; 90 from the
# script means it could not mount its bpffs.
host_in_ns() {
	unshare -m -n --propagation private bash "$@"
}

# The C selftests' TAP, one host result per test, failures with their
# diagnostics; a run that did not reach its summary line fails. Lines
# that are not TAP (libbpf's own messages) are left out; --diag echoes
# the selftests' "# " diagnostics too (figures a suite reports).
relay_tap() {
	local file=$1 diag=${2:-} line name
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*)
			name=${line#ok * - }
			skip "host: ${name%% # SKIP*}" "${line##*# SKIP }" ;;
		"ok "*)
			check "host: ${line#ok * - }" true ;;
		"not ok "*)
			name=${line#not ok * - }
			check "host: ${name%% # *}" sh -c "grep -a -B30 -F '$(printf '%s' "$line" | sed "s/'/'\\\\''/g")' '$file' | grep -a '^#' | tail -n 20; false" ;;
		"# "*)
			[ "$diag" = --diag ] && echo "$line" ;;
		esac
	done < <(grep -a -v '^libbpf' "$file")
	if ! grep -qaE '^[0-9]+ passed, [0-9]+ failed' "$file"; then
		check "host: $(basename "$file" .tap) selftests ran to the end" sh -c "tail -20 '$file'; false"
	fi
}
