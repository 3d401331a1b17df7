#!/usr/bin/env bash
# README's first command: install what is missing, build, boot the VM and
# show kmesh running in it. Says how long each step takes.
#
#   scripts/demo.sh [--lane stock|kfunc]    (default: stock; kfunc needs the
#                                            test kernel, built on first use)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lane=${LANE:-stock}
[ "${1:-}" = --lane ] && lane=$2

t0=$(date +%s)
step() { printf '\n[demo +%ss] %s\n' "$(($(date +%s) - t0))" "$*"; }

step "Installing missing Debian packages and the $lane kernel (quiet when present)"
"$here/install-deps.sh"
step "Building the module, BPF objects and kmeshctl"
make -s -C "$here/.." all
step "Booting the $lane-lane VM under QEMU/TCG and running the demo mesh in it (about a minute)"
"$here/vmtest.sh" --lane "$lane" --guest "$here/demo-guest.sh" 2>&1 |
	grep -vE '^\[ *[0-9]+\.[0-9]+\]'	# kernel log lines: see build/vm/*/console.log
step "Done. Full console log: build/vm/$lane/console.log"
