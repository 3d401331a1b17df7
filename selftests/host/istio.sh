#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Istio resources applied as-is (selftests/istio/traffic) on the host's own
# kernel, module-less (fallback mode), with real HTTP: python3 http.server
# on loopback as the service's two versions, curl as the client in a
# child cgroup created here and always removed; a private mount and
# network namespace (own bpffs, own loopback). Also: validate and
# apply --dry-run as an unprivileged user, a broken multi-document apply
# that leaves the running config alone, --strict in fallback mode.
#
#   selftests/host/istio.sh     (after make; as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/lib.sh"
host_init

host_require root cgroup2 netns btf no-module
host_require_exe "$kmeshctl"
host_require_cmd curl python3 setpriv
host_skip_unless_ready "istio host: resources as written"
chmod 755 "$t"
cp -r "$top/selftests/istio/traffic" "$t/in"
chmod -R a+rX "$t/in"
# A second document that is broken: the whole apply must fail.
{ cat "$t/in/shop.yaml"; printf -- '---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: typo, namespace: shop}\nspec:\n  rules:\n  - to: [{operation: {pathz: ["/x"]}}]\n'; } >"$t/broken.yaml"
chmod a+r "$t/broken.yaml"
bad_line=$(($(wc -l <"$t/in/shop.yaml") + 7))	# the "- to:" line

# Unprivileged (nobody, no capabilities): check and compile, nothing else.
check "istio: validate as nobody accepts the resources and explains them" \
	sh -c "nobody_out=\$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all '$kmeshctl' validate -f '$t/in' --explain) && echo \"\$nobody_out\" | grep -q 'route split: (default) -> web.shop_v1 weight 90 web.shop_v2 weight 10' && echo \"\$nobody_out\" | grep -q '^valid: 2 services, 4 clusters, 1 routes, 3 policies'"
check "istio: apply --dry-run as nobody checks without applying" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all '$kmeshctl' apply --dry-run -f '$t/in' | grep -q '^dry run: 2 services'"
check "istio: apply as nobody is refused" \
	sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all '$kmeshctl' apply -f '$t/in' 2>&1 | grep -q applied"
check "istio: apply -f '--dry-run' (a file so named) is no dry run: refused as nobody" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all '$kmeshctl' apply -f --dry-run 2>&1 | grep -q 'permission denied'"
check "istio: validate of a broken second document fails naming file, resource, line and field" \
	sh -c "if nobody_out=\$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all '$kmeshctl' validate -f '$t/broken.yaml' 2>&1); then exit 1; fi; echo \"\$nobody_out\" | grep -q 'broken.yaml:$bad_line: AuthorizationPolicy typo: spec.rules\[0\].to\[0\].operation.pathz: unknown field'"
check "istio: validate --mode fallback --strict refuses the routes fallback does not enforce" \
	sh -c "! '$kmeshctl' validate -f '$t/in' --mode fallback --strict 2>'$t/strict.err' && grep -q 'route canary: cluster web.shop_v2 is counted, not enforced' '$t/strict.err'"
check "istio: validate reads stdin" \
	sh -c "cat '$t/in/shop.yaml' | '$kmeshctl' validate -f - | grep -q '^valid: 1 services, 3 clusters, 1 routes, 0 policies'"

host_cgroup kmesh-host-istio
host_skip_unless_ready "istio host: traffic"
mkdir -p "$t/v1" "$t/v2" "$t/api"
echo v1 >"$t/v1/who"
echo v2 >"$t/v2/who"
echo api >"$t/api/who"

cat >"$t/inner.sh" <<INNER
set -u
mount -t bpf bpf /sys/fs/bpf || exit 90
ip link set lo up
cd "$t"
python3 -m http.server 18081 --bind 127.0.0.1 --directory "$t/v1" >/dev/null 2>&1 &
s1=\$!
python3 -m http.server 18082 --bind 127.0.0.1 --directory "$t/v2" >/dev/null 2>&1 &
s2=\$!
python3 -m http.server 18083 --bind 127.0.0.1 --directory "$t/api" >/dev/null 2>&1 &
s3=\$!
for _ in \$(seq 50); do
	curl -s -o /dev/null http://127.0.0.1:18081/who && curl -s -o /dev/null http://127.0.0.1:18082/who &&
		curl -s -o /dev/null http://127.0.0.1:18083/who && break
	sleep 0.1
done
# the client: curl in the meshed cgroup
req() { bash -c 'echo \$\$ >"\$0/cgroup.procs" && exec curl -s -m 5 "\$@"' "$cg" "\$@"; }
"$kmeshctl" up --cgroup "$cg" >up.out 2>&1
"$kmeshctl" apply -f "$t/in" >apply.out 2>apply.err; echo \$? >apply.rc
req -o health.body -w '%{http_code}' http://10.96.7.1/healthz >health.code
req -H 'Host: beta.web.shop' http://10.96.7.1/who >beta.body
req -o /dev/null -w '%{http_code}' http://10.96.7.1/broken/x >broken.code
req -o /dev/null -w '%{http_code}' http://10.96.7.1/admin/users >admin.code
req -o /dev/null -w '%{http_code}' -X POST -d x http://10.96.7.1/who >post.code
req http://10.96.7.2/who >api.body
req -o /dev/null -w '%{http_code}' -X POST -d x http://10.96.7.2/who >api-post.code
: >who.all
for i in 1 2 3 4; do req http://10.96.7.1/who >>who.all; done
"$kmeshctl" apply -f "$t/in" --strict >strict.out 2>strict.err; echo \$? >strict.rc
"$kmeshctl" apply -f "$t/broken.yaml" >broken.out 2>&1; echo \$? >broken.rc
req -o after.body -w '%{http_code}' http://10.96.7.1/healthz >after.code
req -o /dev/null -w '%{http_code}' http://10.96.7.1/admin >after-admin.code
"$kmeshctl" stats >stats.out 2>&1
"$kmeshctl" down >down.out 2>&1
kill \$s1 \$s2 \$s3
wait
INNER
host_in_ns "$t/inner.sh"
if [ $? = 90 ]; then
	skip "istio host: traffic" "cannot mount a private bpffs"
	tap_done
	exit
fi
cd "$t"
check "istio: kmeshctl apply -f DIR takes the resources as generation 1" \
	sh -c "cat apply.out apply.err; test \"\$(cat apply.rc)\" = 0 && grep -q 'as generation 1: 2 services' apply.out"
check "istio: ...and warns of each route fallback mode counts but does not enforce" \
	sh -c "cat apply.err; grep -q 'route canary: cluster web.shop_v2 is counted, not enforced' apply.err && grep -q 'route split: a weighted split over 2 clusters' apply.err"
check "istio: directResponse answers from the kernel" \
	sh -c "test \"\$(cat health.code)\" = 200 && grep -qx 'ok from kmesh' health.body"
check "istio: a match on authority (the Host header) takes the request" \
	sh -c "cat beta.body; grep -qx 'beta site' beta.body"
check "istio: fault.abort refuses with its httpStatus" \
	sh -c "cat broken.code; test \"\$(cat broken.code)\" = 503"
check "istio: DENY policy on /admin* refuses with 403" \
	sh -c "cat admin.code; test \"\$(cat admin.code)\" = 403"
check "istio: ALLOW policy for GET, HEAD refuses a POST with 403" \
	sh -c "cat post.code; test \"\$(cat post.code)\" = 403"
check "istio: GET reaches the service's endpoints, both versions (round robin over the ServiceEntry's endpoints)" \
	sh -c "cat who.all; grep -qx v1 who.all && grep -qx v2 who.all && test \$(wc -l <who.all) = 4"
check "istio: a Kubernetes Service + EndpointSlice reaches the slice's port (targetPort by name)" \
	sh -c "cat api.body; grep -qx api api.body"
check "istio: the namespace-wide ALLOW policy covers the Kubernetes Service too (POST: 403)" \
	sh -c "cat api-post.code; test \"\$(cat api-post.code)\" = 403"
check "istio: apply --strict refuses in fallback mode" \
	sh -c "cat strict.out strict.err; test \"\$(cat strict.rc)\" = 1 && ! grep -q applied strict.out"
check "istio: a broken second document fails the whole apply, named" \
	sh -c "cat broken.out; test \"\$(cat broken.rc)\" = 1 && grep -q 'broken.yaml:$bad_line: AuthorizationPolicy typo: spec.rules\[0\].to\[0\].operation.pathz: unknown field' broken.out"
check "istio: ...and the running config is untouched" \
	sh -c "test \"\$(cat after.code)\" = 200 && grep -qx 'ok from kmesh' after.body && test \"\$(cat after-admin.code)\" = 403"
check "istio: counters carry the Istio route names" \
	sh -c "grep -E 'web.shop.*health|health.*web.shop' stats.out"
tap_done
