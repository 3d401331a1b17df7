#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Istio traffic corpus in the VM: scripts/vmtest.sh --guest with
# selftests/istio/vm-guest.sh, the corpus copied into the initramfs.
#
#   selftests/istio/vmtest.sh [--lane stock|kfunc]     (after make)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export KMESH_VM_EXTRA="${KMESH_VM_EXTRA:-} $here/traffic"
export KMESH_VM_ENV="${KMESH_VM_ENV:-} KMESH_ISTIO_CORPUS=$here/traffic"
exec "$top/scripts/vmtest.sh" "$@" --guest "$here/vm-guest.sh"
