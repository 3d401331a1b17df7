#!/usr/bin/env bash
# Install what `make bench` needs beyond scripts/install-deps.sh, from
# Debian's packages only. Idempotent and quiet when all is present.
#
#   haproxy          the sidecar stand-in (HTTP mode, same routes as kmesh)
#   nginx-light      an optional second proxy
#   wrk, nghttp2-client (h2load), apache2-utils (ab)
#                    reference load generators; the figures come from
#                    bench/loadgen (static, runs unchanged in the VM)
#   gnuplot-nox      the plots (pngcairo)
#   bpftool, procps  map memory, process RSS
set -euo pipefail

log() { printf 'install-bench-deps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

packages=(haproxy nginx-light wrk nghttp2-client nghttp2-server apache2-utils gnuplot-nox
	bpftool procps)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'ok installed' >/dev/null ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
log "installing: ${missing[*]}"
apt-get update -qq >/dev/null
# Installing haproxy/nginx must not start system services that would hold
# ports on this machine: policy-rc.d refuses every start during the install.
prc=/usr/sbin/policy-rc.d
had_prc=
[ -e "$prc" ] && had_prc=1
if [ -z "$had_prc" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$prc"
	chmod 755 "$prc"
	trap 'rm -f "$prc"' EXIT
fi
out=$(mktemp)
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >"$out" 2>&1; then
	tail -20 "$out" >&2
	rm -f "$out"
	die "apt-get install ${missing[*]} failed"
fi
rm -f "$out"
