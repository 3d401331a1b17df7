# SPDX-License-Identifier: GPL-2.0-only
# Istio resources applied as written, in the VM (busybox sh, run by
# selftests/istio/vmtest.sh through scripts/vmtest.sh --guest): the
# traffic corpus (selftests/istio/traffic) with busybox httpd as v1 and v2
# on loopback and curl in the meshed cgroup. Both lanes check what kmesh
# answers itself (direct response, fault abort, DENY, ALLOW); the kfunc
# lane checks that the canary header and the 90/10 split really pick the
# subset (routing on the first request), the stock lane that fallback
# mode says per route what it does not enforce. TAP; exits 1 on a failure.
corpus=${KMESH_ISTIO_CORPUS:?}
cg=/sys/fs/cgroup/istio
n=0 pass=0 failc=0 skipc=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failc=$((failc + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); skipc=$((skipc + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }
meshed() { sh -c 'echo $$ >'"$cg"'/cgroup.procs && exec "$@"' sh "$@"; }
req() { meshed curl -s -m 10 "$@"; }

echo "TAP version 13"
modprobe kmesh 2>/dev/null
mkdir -p "$cg" /srv/v1 /srv/v2 /srv/api
echo v1 >/srv/v1/who
echo v2 >/srv/v2/who
echo api >/srv/api/who
httpd -p 127.0.0.1:18081 -h /srv/v1
httpd -p 127.0.0.1:18082 -h /srv/v2
httpd -p 127.0.0.1:18083 -h /srv/api
kmeshctl up --cgroup "$cg" >/tmp/up.out 2>&1
mode=$(kmeshctl status 2>/dev/null | sed -n 's/^l7 requests: *\([a-z]*\) mode.*/\1/p')
echo "# lane ${KMESH_LANE:-?}, l7 mode $mode"

kmeshctl apply -f "$corpus" >/tmp/apply.out 2>/tmp/apply.err
check "istio vm: apply -f DIR takes the resources" grep -q 'as generation 1: 2 services' /tmp/apply.out
if [ "$mode" = fallback ]; then
	check "istio vm: fallback mode warns of the canary route and the split" \
		sh -c "grep -q 'route canary: cluster web.shop_v2 is counted, not enforced' /tmp/apply.err && grep -q 'route split: a weighted split over 2 clusters' /tmp/apply.err"
else
	check "istio vm: kfunc mode enforces routes: no warning" sh -c "! grep -q 'not enforced' /tmp/apply.err"
fi
cat /tmp/apply.out /tmp/apply.err | sed 's/^/# /'

body=$(req http://10.96.7.1/healthz)
check "istio vm: directResponse answered by kmesh (got '$body')" test "$body" = "ok from kmesh"
body=$(req -H 'Host: beta.web.shop' http://10.96.7.1/who)
check "istio vm: a match on authority (the Host header) takes the request (got '$body')" test "$body" = "beta site"
code=$(req -o /dev/null -w '%{http_code}' http://10.96.7.1/broken/x)
check "istio vm: fault.abort answers 503 (got $code)" test "$code" = 503
code=$(req -o /dev/null -w '%{http_code}' http://10.96.7.1/admin/x)
check "istio vm: DENY /admin* answers 403 (got $code)" test "$code" = 403
code=$(req -o /dev/null -w '%{http_code}' -X POST -d x http://10.96.7.1/who)
check "istio vm: ALLOW GET, HEAD refuses a POST with 403 (got $code)" test "$code" = 403

body=$(req http://10.96.7.2/who)
check "istio vm: a Kubernetes Service + EndpointSlice reaches the slice's port (got '$body')" test "$body" = api
: >/tmp/canary
for i in 1 2 3 4 5 6; do req -H 'x-canary: 1' http://10.96.7.1/who >>/tmp/canary; done
: >/tmp/split
i=0
while [ $i -lt 20 ]; do req http://10.96.7.1/who >>/tmp/split; i=$((i + 1)); done
v1=$(grep -cx v1 /tmp/split)
v2=$(grep -cx v2 /tmp/split)
echo "# canary: $(tr '\n' ' ' </tmp/canary); split: v1 $v1, v2 $v2"
if [ "$mode" = kfunc ]; then
	check "istio vm: the x-canary header route reaches subset v2 every time" \
		sh -c "test \$(grep -cx v2 /tmp/canary) = 6"
	check "istio vm: the 90/10 split sends most requests to v1 ($v1 of 20)" \
		sh -c "test $v1 -ge 14 && test $((v1 + v2)) = 20"
else
	skip "istio vm: the x-canary header route reaches subset v2 every time" "fallback mode picks the endpoint at connect()"
	check "istio vm: fallback: requests reach both endpoints of the service's cluster" \
		sh -c "test $v1 -ge 1 && test $v2 -ge 1 && test $((v1 + v2)) = 20"
fi

{ cat "$corpus/shop.yaml"; printf -- '---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: typo, namespace: shop}\nspec:\n  rules:\n  - to: [{operation: {pathz: ["/x"]}}]\n'; } >/tmp/broken.yaml
kmeshctl apply -f /tmp/broken.yaml >/tmp/broken.out 2>&1
check "istio vm: a broken second document fails the apply, named" \
	grep -q 'AuthorizationPolicy typo: spec.rules\[0\].to\[0\].operation.pathz: unknown field' /tmp/broken.out
code=$(req -o /dev/null -w '%{http_code}' http://10.96.7.1/admin)
check "istio vm: ...and the running config stays (DENY still 403, got $code)" test "$code" = 403
kmeshctl down >/dev/null 2>&1

echo "1..$n"
echo "$pass passed, $failc failed, $skipc skipped"
[ "$failc" = 0 ]
