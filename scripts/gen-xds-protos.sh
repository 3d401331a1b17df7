#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Generate the xDS protobuf code the agent (userspace/agent/) and its test
# management server need, at build time, from Envoy's published API protos.
#
#   scripts/gen-xds-protos.sh OUTDIR
#
# The protos come from the npm package @grpc/grpc-js-xds (pinned below),
# which ships envoy-api, xds (udpa), googleapis and protoc-gen-validate under
# deps/; the well-known google/protobuf types come from Debian's
# libprotobuf-dev. Writes, under OUTDIR:
#   npm/      the unpacked package (fetched once per version)
#   proto/    the proto tree protoc reads (deps/ plus the one fix below)
#   c/        protoc-c output for the closure of ROOTS, plus files.list
#   py/       protoc --python_out of the same closure (the test server)
# Nothing generated is ever committed.
set -euo pipefail

XDS_NPM_PACKAGE=@grpc/grpc-js-xds
XDS_NPM_VERSION=1.14.1

# What the agent decodes: ADS, the four resource types, the filters it
# translates (HCM, router, http and network RBAC, local rate limit,
# tcp_proxy).
ROOTS=(
	envoy/service/discovery/v3/ads.proto
	envoy/config/listener/v3/listener.proto
	envoy/config/route/v3/route.proto
	envoy/config/cluster/v3/cluster.proto
	envoy/config/endpoint/v3/endpoint.proto
	envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
	envoy/extensions/filters/http/router/v3/router.proto
	envoy/extensions/filters/http/rbac/v3/rbac.proto
	envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto
	envoy/extensions/filters/network/rbac/v3/rbac.proto
	envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
)

out=${1:?usage: $0 OUTDIR}
for tool in npm:"Node.js 20 with npm" protoc:"protobuf-compiler" protoc-c:"protobuf-c-compiler"; do
	command -v "${tool%%:*}" >/dev/null || {
		echo "gen-xds-protos: ${tool%%:*} not found: install ${tool#*:} (scripts/install-deps.sh)" >&2
		exit 1
	}
done
[ -f /usr/include/google/protobuf/any.proto ] || {
	echo "gen-xds-protos: google/protobuf/*.proto not found: install libprotobuf-dev (scripts/install-deps.sh)" >&2
	exit 1
}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp="$out/npm/.kmesh-$XDS_NPM_VERSION"

if [ ! -f "$stamp" ]; then
	rm -rf "$out/npm" "$out/npm.tmp"
	mkdir -p "$out/npm.tmp"
	# bounded tries: the registry has been seen to stall a request for minutes
	for try in 1 2 3; do
		(cd "$out/npm.tmp" && timeout 120 npm pack --silent \
			"$XDS_NPM_PACKAGE@$XDS_NPM_VERSION" >/dev/null) && break
		[ "$try" = 3 ] && { echo "gen-xds-protos: npm pack failed 3 times" >&2; exit 1; }
		rm -f "$out"/npm.tmp/*.tgz
	done
	tar -C "$out/npm.tmp" -xzf "$out"/npm.tmp/*.tgz
	mv "$out/npm.tmp/package" "$out/npm"
	rm -rf "$out/npm.tmp"
	touch "$stamp"
fi

rm -rf "$out/proto" "$out/c" "$out/py"
mkdir -p "$out/proto" "$out/c" "$out/py"
for d in envoy-api xds googleapis protoc-gen-validate; do
	cp -r "$out/npm/deps/$d/." "$out/proto/"
done
# The one fix, here only: the package's validate.proto predates
# StringRules.ignore_empty, which two fields of protocol.proto use, so protoc
# refuses the file. Validation options are annotations that neither protoc-c
# nor our decoder reads; dropping `ignore_empty: true` changes no message.
sed -i 's/ ignore_empty: true//' "$out/proto/envoy/config/core/v3/protocol.proto"
if grep -q ignore_empty "$out/proto/envoy/config/core/v3/protocol.proto"; then
	echo "gen-xds-protos: protocol.proto still uses ignore_empty; update the fix" >&2
	exit 1
fi

# The closure of ROOTS, from protoc's own dependency output (which takes
# one input file: a file importing every root).
inc=(-I"$out/proto" -I/usr/include)
{
	echo 'syntax = "proto3";'
	printf 'import "%s";\n' "${ROOTS[@]}"
} >"$out/roots.proto"
protoc "${inc[@]}" -I"$out" --dependency_out="$out/deps.mk" \
	--descriptor_set_out=/dev/null "$out/roots.proto" 2>&1 |
	grep -v 'roots.proto.*Import .* is unused' >&2 || true
tr ' \\' '\n\n' <"$out/deps.mk" | grep '\.proto$' | grep -v '/roots\.proto$' |
	sed -e "s|^$out/proto/||" -e 's|^/usr/include/||' | sort -u >"$out/c/files.list"
[ -s "$out/c/files.list" ] || { echo "gen-xds-protos: empty closure" >&2; exit 1; }
mapfile -t files <"$out/c/files.list"
(cd "$out/proto" && protoc-c "${inc[@]}" --c_out="$out/c" "${files[@]}")
(cd "$out/proto" && protoc "${inc[@]}" --python_out="$out/py" "${files[@]}")
echo "gen-xds-protos: ${#files[@]} proto files -> $out/c, $out/py"
