#!/usr/bin/env bash
# README's first command: install what is missing, build, boot the VM and
# run a small mesh in it (scripts/demo-guest.sh). Says how long each step
# takes.
#
#   scripts/demo.sh [--lane stock|kfunc]
#
# Without --lane (or LANE=): the kfunc lane when its test kernel is already
# built (scripts/build-test-kernel.sh, ~15 min the first time), else the
# stock lane (Debian's own 6.1 kernel: L7 in eBPF fallback mode).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lane=${LANE:-}
[ "${1:-}" = --lane ] && lane=$2

t0=$(date +%s)
step_t=
step() {
	[ -z "$step_t" ] || printf '[demo] (%ss)\n' "$(($(date +%s) - step_t))"
	step_t=$(date +%s)
	printf '\n[demo +%ss] %s\n' "$((step_t - t0))" "$*"
}

step "Installing missing Debian packages and Debian's 6.1 kernel (quiet when present)"
"$here/install-deps.sh"
if [ -z "$lane" ]; then
	if "$here/build-test-kernel.sh" --print-dir >/dev/null 2>&1; then
		lane=kfunc
	else
		lane=stock
		echo "[demo] The kfunc test kernel is not built: running on Debian's own 6.1 kernel"
		echo "[demo] (L7 in eBPF fallback mode). 'make demo LANE=kfunc' builds it first (~15 min)."
	fi
fi
step "Building the module, BPF objects and kmeshctl"
make -s -C "$here/.." all
step "Booting the $lane-lane VM under QEMU/TCG; the demo mesh runs in it (about two minutes)"
# Firmware and kernel log lines stay in the console log; the guest's own
# lines show.
"$here/vmtest.sh" --lane "$lane" --guest "$here/demo-guest.sh" 2>&1 |
	grep --line-buffered -vE '^\[ *[0-9]+\.[0-9]+\]|SeaBIOS|Booting from ROM'
step "Done in $(($(date +%s) - t0))s. Full console log: build/vm/$lane/console.log"
