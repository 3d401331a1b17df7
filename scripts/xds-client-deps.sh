#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The independent xDS client of the tests (selftests/xds/grpc_xds_client.js):
# gRPC's own xDS resolver for Node from npm, at pinned versions, into
# build/xds/client/node_modules (nothing is committed).
#
#   scripts/xds-client-deps.sh [OUT_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/xds/client}
GRPC_JS_XDS_VERSION=1.14.1	# the same package the agent's protos come from
GRPC_JS_VERSION=1.14.7

if [ -f "$out/node_modules/@grpc/grpc-js-xds/package.json" ] &&
   grep -q "\"version\": \"$GRPC_JS_XDS_VERSION\"" "$out/node_modules/@grpc/grpc-js-xds/package.json"; then
	exit 0
fi
command -v npm >/dev/null || { echo "xds-client-deps: npm missing (apt-get install npm)" >&2; exit 1; }
mkdir -p "$out"
cd "$out"
[ -f package.json ] || echo '{ "private": true }' >package.json
# The registry has been seen to stall a request for minutes (a time-out,
# not a refusal): bound each try and try again, so a test never hangs here.
for try in 1 2 3; do
	timeout 120 npm install --no-audit --no-fund --loglevel=error --save-exact \
		"@grpc/grpc-js-xds@$GRPC_JS_XDS_VERSION" "@grpc/grpc-js@$GRPC_JS_VERSION" && exit 0
	echo "xds-client-deps: npm install failed or timed out (try $try of 3)" >&2
done
exit 1
