# SPDX-License-Identifier: GPL-2.0-only
"""A small mesh as istiod would send it to a proxy, for kmesh's xDS tests.

Services (all endpoints are test servers on loopback addresses):
  api.default.svc.cluster.local  VIP 10.96.0.30:8000, HTTP, routes inline
      listener 10.96.0.30_8000 (HTTP connection manager, route_config)
      routes: /teapot → direct 418; / → weighted_clusters [api 100]
  web.default.svc.cluster.local  VIP 10.96.0.10:80, HTTP
      listener 0.0.0.0_80 (HTTP connection manager, RDS "80")
      routes: /v2 → subset v2; /hello → direct response; / → web
  db.default.svc.cluster.local   VIP 10.96.0.20:5000, TCP
      listener 10.96.0.20_5000 (tcp_proxy)
Names follow istiod: clusters "outbound|PORT|SUBSET|HOST", listeners
"0.0.0.0_PORT" and "VIP_PORT", route configs named by port, virtual hosts
"HOST:PORT" with the host, short-name and VIP domain forms, and the
catch-all "allow_any" virtual host.
"""
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, base_pb2, config_source_pb2, health_check_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2, listener_components_pb2, api_listener_pb2  # noqa: F401
from envoy.config.rbac.v3 import rbac_pb2
from envoy.config.route.v3 import route_pb2, route_components_pb2
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2 as http_rbac_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm_pb2
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2

P = "type.googleapis.com/"
CDS = P + "envoy.config.cluster.v3.Cluster"
EDS = P + "envoy.config.endpoint.v3.ClusterLoadAssignment"
LDS = P + "envoy.config.listener.v3.Listener"
RDS = P + "envoy.config.route.v3.RouteConfiguration"

WEB = "outbound|80||web.default.svc.cluster.local"
WEB_V2 = "outbound|80|v2|web.default.svc.cluster.local"
DB = "outbound|5000||db.default.svc.cluster.local"
API = "outbound|8000||api.default.svc.cluster.local"
UNLIMITED = 4294967295


def ads():
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(),
        resource_api_version=config_source_pb2.V3)


def cluster(name, lb=cluster_pb2.Cluster.ROUND_ROBIN):
    c = cluster_pb2.Cluster(
        name=name, type=cluster_pb2.Cluster.EDS, lb_policy=lb,
        connect_timeout=duration_pb2.Duration(seconds=10),
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(
            eds_config=ads(), service_name=name))
    # istiod's defaults: everything unlimited
    th = c.circuit_breakers.thresholds.add()
    for f in ("max_connections", "max_pending_requests", "max_requests", "max_retries"):
        getattr(th, f).value = UNLIMITED
    return c


def cla(name, endpoints, standby=()):
    """endpoints: [(ip, port, weight, health)]; standby: the same, in a
    farther locality at priority 1 (istiod's locality failover)"""
    a = endpoint_pb2.ClusterLoadAssignment(cluster_name=name)
    for region, priority, eps in (("local", 0, endpoints), ("far", 1, standby)):
        if not eps:
            continue
        loc = a.endpoints.add()
        loc.locality.region = region
        loc.priority = priority
        for ip, port, weight, health in eps:
            e = loc.lb_endpoints.add()
            e.endpoint.address.socket_address.address = ip
            e.endpoint.address.socket_address.port_value = port
            e.load_balancing_weight.value = weight
            e.health_status = health
        # istiod: the locality's weight is the sum of its endpoints' (gRPC
        # clients ignore a locality without one)
        loc.load_balancing_weight.value = sum(e[2] for e in eps)
    return a


def typed(msg):
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def deny_admin(principal=None):
    """istiod's shape for an AuthorizationPolicy DENY to: paths [/admin*]
    (and_rules of or_rules), from any source, or from @principal."""
    R = rbac_pb2
    perm = R.Permission(and_rules=R.Permission.Set(rules=[
        R.Permission(or_rules=R.Permission.Set(rules=[
            R.Permission(url_path=path_prefix("/admin"))]))]))
    princ = principal or R.Principal(any=True)
    return http_rbac_pb2.RBAC(rules=R.RBAC(
        action=R.RBAC.DENY,
        policies={"ns[default]-policy[deny-admin]-rule[0]":
                  R.Policy(permissions=[perm], principals=[princ])}))


def path_prefix(prefix):
    from envoy.type.matcher.v3 import path_pb2, string_pb2
    return path_pb2.PathMatcher(path=string_pb2.StringMatcher(prefix=prefix))


def http_listener(port, rds_name, rbac=None):
    filters = [hcm_pb2.HttpFilter(name="envoy.filters.http.rbac", typed_config=typed(rbac))] \
        if rbac else []
    filters.append(hcm_pb2.HttpFilter(name="envoy.filters.http.router",
                                      typed_config=typed(router_pb2.Router())))
    h = hcm_pb2.HttpConnectionManager(
        stat_prefix="outbound_0.0.0.0_%d" % port,
        rds=hcm_pb2.Rds(config_source=ads(), route_config_name=rds_name),
        http_filters=filters)
    return listener_pb2.Listener(
        name="0.0.0.0_%d" % port,
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
            address="0.0.0.0", port_value=port)),
        traffic_direction=base_pb2.OUTBOUND,
        bind_to_port=wrappers_pb2.BoolValue(value=False),
        filter_chains=[listener_components_pb2.FilterChain(filters=[
            listener_components_pb2.Filter(name="envoy.filters.network.http_connection_manager",
                                           typed_config=typed(h))])])


def inline_http_listener(vip, port):
    """An HTTP listener on one VIP:port with its routes inline (no RDS)."""
    R = route_components_pb2
    host = "api.default.svc.cluster.local"
    rc = route_pb2.RouteConfiguration(name="inline-api", virtual_hosts=[R.VirtualHost(
        name="%s:%d" % (host, port), domains=["*"],
        routes=[R.Route(name="teapot", match=R.RouteMatch(path="/teapot"),
                        direct_response=R.DirectResponseAction(status=418)),
                R.Route(name="default", match=R.RouteMatch(prefix="/"),
                        route=R.RouteAction(weighted_clusters=R.WeightedCluster(clusters=[
                            R.WeightedCluster.ClusterWeight(name=API, weight=wrappers_pb2.UInt32Value(value=100))])))])])
    # a mesh whose pathNormalization refuses escaped slashes
    h = hcm_pb2.HttpConnectionManager(
        stat_prefix="outbound_%s_%d" % (vip, port), route_config=rc,
        path_with_escaped_slashes_action=hcm_pb2.HttpConnectionManager.REJECT_REQUEST,
        http_filters=[hcm_pb2.HttpFilter(name="envoy.filters.http.router",
                                         typed_config=typed(router_pb2.Router()))])
    return listener_pb2.Listener(
        name="%s_%d" % (vip, port),
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
            address=vip, port_value=port)),
        traffic_direction=base_pb2.OUTBOUND,
        filter_chains=[listener_components_pb2.FilterChain(filters=[
            listener_components_pb2.Filter(name="envoy.filters.network.http_connection_manager",
                                           typed_config=typed(h))])])


def tcp_listener(vip, port, cluster_name):
    tp = tcp_proxy_pb2.TcpProxy(stat_prefix=cluster_name, cluster=cluster_name)
    return listener_pb2.Listener(
        name="%s_%d" % (vip, port),
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
            address=vip, port_value=port)),
        traffic_direction=base_pb2.OUTBOUND,
        bind_to_port=wrappers_pb2.BoolValue(value=False),
        filter_chains=[listener_components_pb2.FilterChain(filters=[
            listener_components_pb2.Filter(name="envoy.filters.network.tcp_proxy",
                                           typed_config=typed(tp))])])


def web_routes():
    R = route_components_pb2
    host = "web.default.svc.cluster.local"
    vh = R.VirtualHost(
        name=host + ":80",
        domains=[host, host + ":80", "web", "web:80", "web.default", "web.default:80",
                 "10.96.0.10", "10.96.0.10:80"],
        routes=[
            R.Route(name="v2", match=R.RouteMatch(prefix="/v2"),
                    route=R.RouteAction(cluster=WEB_V2, timeout=duration_pb2.Duration())),
            R.Route(name="hello", match=R.RouteMatch(path="/hello"),
                    direct_response=R.DirectResponseAction(
                        status=200, body=base_pb2.DataSource(inline_string="hello from xds\n"))),
            R.Route(name="default", match=R.RouteMatch(prefix="/"),
                    route=R.RouteAction(cluster=WEB, timeout=duration_pb2.Duration())),
        ])
    allow_any = R.VirtualHost(
        name="allow_any", domains=["*"],
        routes=[R.Route(name="allow_any", match=R.RouteMatch(prefix="/"),
                        route=R.RouteAction(cluster="PassthroughCluster"))])
    return route_pb2.RouteConfiguration(name="80", virtual_hosts=[vh, allow_any],
                                        validate_clusters=wrappers_pb2.BoolValue(value=False))


H = health_check_pb2.HEALTHY
D = health_check_pb2.DRAINING
U = health_check_pb2.UNHEALTHY


def mesh(web_endpoints, bad_cluster=False, rbac=None, db=True):
    web = cluster(WEB)
    # what istiod sends for a DestinationRule's outlierDetection
    # {consecutive5xxErrors: 7, baseEjectionTime: 15s, maxEjectionPercent: 100}
    od = web.outlier_detection
    od.consecutive_5xx.value = 7
    od.base_ejection_time.seconds = 15
    od.max_ejection_percent.value = 100
    od.enforcing_success_rate.value = 0
    od.interval.seconds = 10
    web.common_lb_config.healthy_panic_threshold.value = 0
    if bad_cluster:
        # a subset load balancer: nothing kmesh can express
        web.lb_subset_config.fallback_policy = cluster_pb2.Cluster.LbSubsetConfig.ANY_ENDPOINT
    api = cluster(API, cluster_pb2.Cluster.LEAST_REQUEST)
    # as a management server written for Envoy may send it: no
    # connect_timeout, so Envoy's default (5s) applies
    api.ClearField("connect_timeout")
    m = {
        CDS: {c.name: c for c in (web, cluster(WEB_V2), cluster(DB, cluster_pb2.Cluster.MAGLEV), api)},
        EDS: {a.cluster_name: a for a in (
            cla(WEB, web_endpoints),
            cla(WEB_V2, [("127.0.0.12", 8080, 1, H)], standby=[("127.0.0.14", 8080, 1, H)]),
            cla(DB, [("127.0.0.13", 8080, 1, H)]),
            cla(API, [("127.0.0.16", 8080, 1, H)]))},
        LDS: {l.name: l for l in (http_listener(80, "80", rbac or deny_admin()),
                                   tcp_listener("10.96.0.20", 5000, DB),
                                   inline_http_listener("10.96.0.30", 8000))},
        RDS: {r.name: r for r in (web_routes(),)},
    }
    if not db:
        # the service deleted: its listener, cluster and endpoints go
        del m[CDS][DB], m[EDS][DB], m[LDS]["10.96.0.20_5000"]
    return m


SCENARIOS = {
    # web: one endpoint
    "initial": lambda: mesh([("127.0.0.11", 8080, 1, H)]),
    # web scaled up: a second endpoint; an unhealthy one that takes nothing
    "scale-up": lambda: mesh([("127.0.0.11", 8080, 1, H), ("127.0.0.14", 8080, 1, H),
                              ("127.0.0.15", 8080, 1, U)]),
    # the first endpoint draining: it takes no new connections
    "drain": lambda: mesh([("127.0.0.11", 8080, 1, D), ("127.0.0.14", 8080, 1, H)]),
    # web scaled down: the first endpoint removed
    "scale-down": lambda: mesh([("127.0.0.14", 8080, 1, H)]),
    # db deleted from the mesh
    "no-db": lambda: mesh([("127.0.0.14", 8080, 1, H)], db=False),
    # the same plus a cluster kmesh cannot express: must be NACKed
    "bad-cluster": lambda: mesh([("127.0.0.14", 8080, 1, H)], bad_cluster=True),
    # an RBAC principal kmesh has no way to check (a peer's mTLS identity)
    "bad-rbac": lambda: mesh([("127.0.0.14", 8080, 1, H)], rbac=deny_admin(
        rbac_pb2.Principal(authenticated=rbac_pb2.Principal.Authenticated(
            principal_name=string_matcher_exact("spiffe://cluster.local/ns/default/sa/sleep"))))),
    # after a server restart: web moved back to the first endpoint
    "restarted": lambda: mesh([("127.0.0.11", 8080, 1, H)]),
    # scale-down as an unmodified istiod sends it (its default filters and
    # retry policies: not applicable to kmesh, accepted and counted)
    "istiod-defaults": lambda: istiod_defaults(mesh([("127.0.0.14", 8080, 1, H)])),
    # scale-down plus an EnvoyFilter's local rate limit on the API listener
    "local-ratelimit": lambda: with_local_ratelimit(mesh([("127.0.0.14", 8080, 1, H)])),
    # the same, the limits per virtual host and per route (typed_per_filter_config)
    "route-ratelimit": lambda: with_route_ratelimit(mesh([("127.0.0.14", 8080, 1, H)])),
}


def string_matcher_exact(v):
    from envoy.type.matcher.v3 import string_pb2
    return string_pb2.StringMatcher(exact=v)


def _route(m, i):
    return m[RDS]["80"].virtual_hosts[0].routes[i]


def _bad_regex(m):
    r = _route(m, 0)
    r.match.safe_regex.regex = "/v[0-9]+"


def _bad_lb(m):
    m[CDS][WEB_V2].lb_policy = cluster_pb2.Cluster.CLUSTER_PROVIDED


def _bad_degraded(m):
    m[EDS][WEB].endpoints[0].lb_endpoints[0].health_status = health_check_pb2.DEGRADED


def _bad_endpoint_address(m):
    # db's assignment changed validly (its endpoint's weight), then web's
    # refused: the agent takes such an update alone (docs/xds.md "EDS
    # updates"), db's change is translated first and must not stay
    m[EDS][DB] = cla(DB, [("127.0.0.13", 8080, 2, H)])
    m[EDS][WEB].endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address = "127.0.0.300"


def _bad_endpoint_weight(m):
    m[EDS][WEB].endpoints[0].lb_endpoints[0].load_balancing_weight.value = 70000


def _bad_grpc_content_type(m):
    # grpc: {} is translated to content-type matches: one of its own is refused
    r = _route(m, 0)
    r.match.grpc.SetInParent()
    h = r.match.headers.add()
    h.name = "content-type"
    h.string_match.exact = "application/grpc"


def _bad_filter(m):
    # a fault filter that does something (abort with 503): istiod's empty
    # placeholder is accepted, this is not (kmesh injects no faults). The
    # fault protos are not among the generated ones: HTTPFault{abort:
    # {http_status: 503}} encoded by hand.
    hcm = hcm_pb2.HttpConnectionManager()
    f = m[LDS]["0.0.0.0_80"].filter_chains[0].filters[0]
    f.typed_config.Unpack(hcm)
    fault = hcm_pb2.HttpFilter(name="envoy.filters.http.fault")
    fault.typed_config.type_url = P + "envoy.extensions.filters.http.fault.v3.HTTPFault"
    fault.typed_config.value = bytes([0x12, 0x03, 0x10, 0xf7, 0x03])
    hcm.http_filters.insert(0, fault)
    f.typed_config.Pack(hcm)


# What an unmodified istiod adds to every outbound HTTP listener and route
# (pilot/pkg/networking/core: the HTTP filter chain of a sidecar's outbound
# HCM, the default retry policy of each route). Their configs are istio's
# own protos, not among those generated here, so they travel as Any with
# istiod's type URLs and an empty or hand-encoded value.
ISTIOD_TELEMETRY_FILTERS = [
    ("istio.metadata_exchange", "io.istio.http.peer_metadata.Config", b""),
    ("istio.alpn", "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig", b""),
    # grpc_stats {emit_filter_state: true}
    ("envoy.filters.http.grpc_stats", "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
     bytes([0x08, 0x01])),
]
# between RBAC and the router: fault and CORS placeholders, then istio.stats
ISTIOD_PLACEHOLDER_FILTERS = [
    ("envoy.filters.http.fault", "envoy.extensions.filters.http.fault.v3.HTTPFault", b""),
    ("envoy.filters.http.cors", "envoy.extensions.filters.http.cors.v3.Cors", b""),
    ("istio.stats", "stats.PluginConfig", b""),
]


def istiod_retry_policy():
    R = route_components_pb2
    return R.RetryPolicy(
        retry_on="connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
        num_retries=wrappers_pb2.UInt32Value(value=2),
        retry_host_predicate=[R.RetryPolicy.RetryHostPredicate(
            name="envoy.retry_host_predicates.previous_hosts",
            typed_config=_any("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"))],
        host_selection_retry_max_attempts=5)


def _any(type_name, value=b""):
    a = any_pb2.Any()
    a.type_url = P + type_name
    a.value = value
    return a


def istiod_cluster_defaults(c):
    """What istiod sets on every outbound EDS cluster (istio 1.2x)."""
    C = cluster_pb2.Cluster
    # mTLS to endpoints labelled tlsMode=istio, plaintext to the others
    m = c.transport_socket_matches.add(name="tlsMode-istio")
    m.match.fields["tlsMode"].string_value = "istio"
    m.transport_socket.name = "envoy.transport_sockets.tls"
    m.transport_socket.typed_config.CopyFrom(
        _any("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"))
    m = c.transport_socket_matches.add(name="tlsMode-disabled")
    m.transport_socket.name = "envoy.transport_sockets.raw_buffer"
    m.transport_socket.typed_config.CopyFrom(
        _any("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"))
    # HttpProtocolOptions {use_downstream_protocol_config: {}}
    c.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].CopyFrom(
        _any("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", bytes([0x1a, 0x00])))
    c.common_lb_config.locality_weighted_lb_config.SetInParent()
    f = c.filters.add(name="istio.metadata_exchange")
    f.typed_config.CopyFrom(_any("envoy.tcp.metadataexchange.config.MetadataExchange",
                                 bytes([0x0a, 19]) + b"istio-peer-exchange"))
    return c


def istiod_catch_alls():
    """istiod's clusters and capture listeners for traffic to no service."""
    C = cluster_pb2.Cluster
    passthrough = C(name="PassthroughCluster", type=C.ORIGINAL_DST,
                    lb_policy=C.CLUSTER_PROVIDED,
                    connect_timeout=duration_pb2.Duration(seconds=10))
    blackhole = C(name="BlackHoleCluster", type=C.STATIC,
                  connect_timeout=duration_pb2.Duration(seconds=10))
    inbound = C(name="InboundPassthroughClusterIpv4", type=C.ORIGINAL_DST,
                lb_policy=C.CLUSTER_PROVIDED,
                connect_timeout=duration_pb2.Duration(seconds=10))
    inbound.upstream_bind_config.source_address.address = "127.0.0.6"
    inbound.upstream_bind_config.source_address.port_value = 0
    outbound_l = tcp_listener("0.0.0.0", 15001, "PassthroughCluster")
    outbound_l.name = "virtualOutbound"
    outbound_l.use_original_dst.value = True
    outbound_l.ClearField("bind_to_port")
    inbound_l = tcp_listener("0.0.0.0", 15006, "InboundPassthroughClusterIpv4")
    inbound_l.name = "virtualInbound"
    inbound_l.traffic_direction = base_pb2.INBOUND
    # several chains, as istiod's inbound listener has (one per port/protocol)
    extra = inbound_l.filter_chains.add(name="0.0.0.0_8080")
    extra.filter_chain_match.destination_port.value = 8080
    extra.filters.add().CopyFrom(inbound_l.filter_chains[0].filters[0])
    for l in (outbound_l, inbound_l):
        for name, t in (("envoy.filters.listener.original_dst",
                         "envoy.extensions.filters.listener.original_dst.v3.OriginalDst"),
                        ("envoy.filters.listener.http_inspector",
                         "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector")):
            l.listener_filters.add(name=name, typed_config=_any(t))
    return [passthrough, blackhole, inbound], [outbound_l, inbound_l]


def istiod_hcm_settings(hcm):
    """The connection manager settings istiod puts on an outbound HTTP
    listener (pilot's buildHTTPConnectionManager with the default mesh
    config): an access log to /dev/stdout, trace sampling, the UUID request
    id extension, use_remote_address false, websocket upgrades, path
    normalization BASE (normalize_path, escaped slashes kept unchanged)."""
    hcm.access_log.add(name="envoy.access_loggers.file").typed_config.CopyFrom(
        _any("envoy.extensions.access_loggers.file.v3.FileAccessLog",
             bytes([0x0a, 11]) + b"/dev/stdout"))
    hcm.tracing.random_sampling.value = 1.0
    hcm.request_id_extension.typed_config.CopyFrom(
        _any("envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig"))
    hcm.use_remote_address.CopyFrom(wrappers_pb2.BoolValue(value=False))
    hcm.upgrade_configs.add(upgrade_type="websocket")
    hcm.normalize_path.CopyFrom(wrappers_pb2.BoolValue(value=True))
    hcm.path_with_escaped_slashes_action = hcm_pb2.HttpConnectionManager.KEEP_UNCHANGED


def istiod_route_settings(rc):
    """What istiod sets on every virtual host and route: the attempt-count
    header for retries, a retry policy, and no stream duration limit but
    the request's own grpc-timeout."""
    for vh in rc.virtual_hosts:
        vh.include_request_attempt_count = True
        for r in vh.routes:
            if r.HasField("route"):
                r.route.retry_policy.CopyFrom(istiod_retry_policy())
                r.route.max_stream_duration.max_stream_duration.SetInParent()
                r.route.max_stream_duration.grpc_timeout_header_max.SetInParent()


def istiod_defaults(m):
    """Add istiod's defaults to a mesh: telemetry and placeholder HTTP
    filters around RBAC and the router, retry_policy on every route, the
    cluster defaults, the catch-all clusters and capture listeners, listener
    filters for protocol sniffing on TCP listeners."""
    for c in m[CDS].values():
        istiod_cluster_defaults(c)
    clusters, listeners = istiod_catch_alls()
    m[CDS].update({c.name: c for c in clusters})
    m[LDS].update({l.name: l for l in listeners})
    for l in m[LDS].values():
        if l.name.startswith("virtual") or \
           not l.filter_chains[0].filters[0].typed_config.type_url.endswith("TcpProxy"):
            continue
        l.listener_filters.add(
            name="envoy.filters.listener.tls_inspector",
            typed_config=_any("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"))
    for lname, l in m[LDS].items():
        f = l.filter_chains[0].filters[0]
        if not f.typed_config.type_url.endswith("HttpConnectionManager"):
            continue
        hcm = hcm_pb2.HttpConnectionManager()
        f.typed_config.Unpack(hcm)
        old = list(hcm.http_filters)
        del hcm.http_filters[:]
        for name, t, v in ISTIOD_TELEMETRY_FILTERS:
            hcm.http_filters.add(name=name, typed_config=_any(t, v))
        hcm.http_filters.extend(old[:-1])   # RBAC
        for name, t, v in ISTIOD_PLACEHOLDER_FILTERS:
            hcm.http_filters.add(name=name, typed_config=_any(t, v))
        hcm.http_filters.append(old[-1])    # the router
        istiod_hcm_settings(hcm)
        if hcm.HasField("route_config"):
            istiod_route_settings(hcm.route_config)
        f.typed_config.Pack(hcm)
    for rc in m[RDS].values():
        istiod_route_settings(rc)
    return m


def _bad_unknown_field(m):
    # a field number from a newer Envoy: 9999, varint 1
    c = m[CDS][DB]
    c.MergeFromString(c.SerializeToString() + bytes([0xf8, 0xf0, 0x04, 0x01]))


def _bad_weighted_tcp(m):
    l = m[LDS]["10.96.0.20_5000"]
    tp = tcp_proxy_pb2.TcpProxy()
    l.filter_chains[0].filters[0].typed_config.Unpack(tp)
    tp.weighted_clusters.clusters.add(name=DB, weight=1)
    l.filter_chains[0].filters[0].typed_config.Pack(tp)


def _bad_domain(m):
    m[RDS]["80"].virtual_hosts[0].domains.append("web.*")


def _bad_max_requests(m):
    m[CDS][WEB].circuit_breakers.thresholds[0].max_requests.value = 100


def _hcm_of(m, listener):
    f = m[LDS][listener].filter_chains[0].filters[0]
    hcm = hcm_pb2.HttpConnectionManager()
    f.typed_config.Unpack(hcm)
    return f, hcm


def _bad_success_rate(m):
    m[CDS][WEB].outlier_detection.ClearField("enforcing_success_rate")


def local_ratelimit(max_tokens=2, per_fill=1, fill_s=10):
    """An EnvoyFilter's envoy.filters.http.local_ratelimit, as Istio's docs
    write it: a token bucket, enabled and enforced for every request."""
    from envoy.type.v3 import percent_pb2, token_bucket_pb2
    full = base_pb2.RuntimeFractionalPercent(
        default_value=percent_pb2.FractionalPercent(
            numerator=100, denominator=percent_pb2.FractionalPercent.HUNDRED),
        runtime_key="local_rate_limit_enforced")
    return local_rate_limit_pb2.LocalRateLimit(
        stat_prefix="http_local_rate_limiter",
        token_bucket=token_bucket_pb2.TokenBucket(
            max_tokens=max_tokens, tokens_per_fill=wrappers_pb2.UInt32Value(value=per_fill),
            fill_interval=duration_pb2.Duration(seconds=fill_s)),
        filter_enabled=full, filter_enforced=full)


def with_local_ratelimit(m, lrl=None):
    """The inline API listener (10.96.0.30:8000) with a local rate limit
    before its router."""
    f, hcm = _hcm_of(m, "10.96.0.30_8000")
    hcm.http_filters.insert(0, hcm_pb2.HttpFilter(name="envoy.filters.http.local_ratelimit",
                                                  typed_config=typed(lrl or local_ratelimit())))
    f.typed_config.Pack(hcm)
    return m


def with_route_ratelimit(m, route_lrl=None, vh_lrl=None, route=None, key=None):
    """Istio's per-route pattern: the filter in the connection manager with
    no bucket of its own (stat_prefix only: Envoy limits nothing there),
    its config per virtual host (max_tokens 3) and per route (a new route
    /limited, max_tokens 2), each 1 token per 10 s. The route's config
    replaces the virtual host's for its requests."""
    R = route_components_pb2
    key = key or "envoy.filters.http.local_ratelimit"
    f, hcm = _hcm_of(m, "10.96.0.30_8000")
    hcm.http_filters.insert(0, hcm_pb2.HttpFilter(
        name="envoy.filters.http.local_ratelimit",
        typed_config=typed(local_rate_limit_pb2.LocalRateLimit(stat_prefix="http_local_rate_limiter"))))
    vh = hcm.route_config.virtual_hosts[0]
    # another service than local-ratelimit's: buckets outlive applies
    vh.name = "api-routes:8000"
    vh.typed_per_filter_config[key].CopyFrom(typed(vh_lrl or local_ratelimit(max_tokens=3)))
    limited = R.Route(name="limited", match=R.RouteMatch(prefix="/limited"),
                      route=R.RouteAction(cluster=API))
    vh.routes.insert(0, limited)
    target = vh.routes[route if route is not None else 0]
    target.typed_per_filter_config[key].CopyFrom(typed(route_lrl or local_ratelimit(max_tokens=2)))
    f.typed_config.Pack(hcm)
    return m


def _bad_route_ratelimit_no_bucket(m):
    lrl = local_ratelimit()
    lrl.ClearField("token_bucket")
    with_route_ratelimit(m, route_lrl=lrl)


def _bad_route_ratelimit_fraction(m):
    lrl = local_ratelimit()
    lrl.filter_enabled.default_value.numerator = 10
    with_route_ratelimit(m, route_lrl=lrl)


def _bad_route_ratelimit_direct(m):
    with_route_ratelimit(m, route=1)    # the teapot route: a direct_response


def _bad_per_filter_other(m):
    with_route_ratelimit(m, key="envoy.filters.http.fault")


def _bad_ratelimit_descriptors(m):
    lrl = local_ratelimit()
    d = lrl.descriptors.add()
    d.entries.add(key="client", value="a")
    d.token_bucket.CopyFrom(lrl.token_bucket)
    with_local_ratelimit(m, lrl)


def _bad_ratelimit_headers(m):
    lrl = local_ratelimit()
    lrl.response_headers_to_add.add().header.CopyFrom(
        base_pb2.HeaderValue(key="x-local-rate-limit", value="true"))
    with_local_ratelimit(m, lrl)


def _bad_ratelimit_fraction(m):
    lrl = local_ratelimit()
    lrl.filter_enforced.default_value.numerator = 50
    with_local_ratelimit(m, lrl)


def _bad_connect_timeout(m):
    m[CDS][WEB].connect_timeout.seconds = 120


def _zero_connect_timeout(m):
    m[CDS][WEB].connect_timeout.seconds = 0


def _bad_remote_address(m):
    f, hcm = _hcm_of(m, "0.0.0.0_80")
    hcm.use_remote_address.value = True
    f.typed_config.Pack(hcm)


def _bad_upgrade(m):
    f, hcm = _hcm_of(m, "0.0.0.0_80")
    hcm.upgrade_configs.add(upgrade_type="CONNECT")
    f.typed_config.Pack(hcm)


def _bad_stream_duration(m):
    r = m[RDS]["80"].virtual_hosts[0].routes[0]
    r.route.max_stream_duration.max_stream_duration.seconds = 30


# Resources kmesh cannot express, one at a time on top of "scale-down":
# name -> (mutation, the type NACKed, how error_detail must begin)
BAD = {
    "regex-route": (_bad_regex, RDS,
                    "RouteConfiguration '80': virtual_hosts[0].routes[0].match.safe_regex: not supported by kmesh"),
    "grpc-content-type": (_bad_grpc_content_type, RDS,
                          "RouteConfiguration '80': virtual_hosts[0].routes[0].match: grpc and a content-type "
                          "header match together: not supported"),
    "lb-policy": (_bad_lb, CDS,
                  "Cluster '" + WEB_V2 + "'.lb_policy: CLUSTER_PROVIDED: not supported"),
    "degraded": (_bad_degraded, EDS,
                 "ClusterLoadAssignment '" + WEB + "': endpoints[0].lb_endpoints[0].health_status: DEGRADED: not supported"),
    "endpoint-address": (_bad_endpoint_address, EDS,
                         "ClusterLoadAssignment '" + WEB + "': endpoints[0].lb_endpoints[0].endpoint.address"
                         ".socket_address.address: '127.0.0.300' is not an IP address"),
    "endpoint-weight": (_bad_endpoint_weight, EDS,
                        "ClusterLoadAssignment '" + WEB + "': endpoints[0].lb_endpoints[0].load_balancing_weight: "
                        "70000: expected 1..65535"),
    "fault-filter": (_bad_filter, LDS,
                     "Listener '0.0.0.0_80': filter_chains[0].filters[0].typed_config.http_filters[0]: "
                     "'envoy.filters.http.fault' (" + P + "envoy.extensions.filters.http.fault.v3.HTTPFault) "
                     "with a configuration: not supported"),
    "unknown-field": (_bad_unknown_field, CDS,
                      "Cluster '" + DB + "': field number 9999: unknown to kmesh's envoy.config.cluster.v3.Cluster protos"),
    "weighted-tcp": (_bad_weighted_tcp, LDS,
                     "Listener '10.96.0.20_5000': filter_chains[0].filters[0].typed_config.weighted_clusters: not supported by kmesh"),
    "suffix-wildcard-domain": (_bad_domain, RDS,
                               "RouteConfiguration '80': virtual_hosts[0].domains[8]: 'web.*': not supported"),
    "max-requests": (_bad_max_requests, CDS,
                     "Cluster '" + WEB + "': circuit_breakers.thresholds[0].max_requests: 100: not supported"),
    "outlier-success-rate": (_bad_success_rate, CDS,
                             "Cluster '" + WEB + "'.outlier_detection.enforcing_success_rate: 100: "
                             "kmesh has no success-rate detection: it must be 0"),
    "ratelimit-descriptors": (_bad_ratelimit_descriptors, LDS,
                              "Listener '10.96.0.30_8000': filter_chains[0].filters[0].typed_config.http_filters[0]"
                              ".typed_config.descriptors: not supported by kmesh"),
    "ratelimit-response-headers": (_bad_ratelimit_headers, LDS,
                                   "Listener '10.96.0.30_8000': filter_chains[0].filters[0].typed_config.http_filters[0]"
                                   ".typed_config.response_headers_to_add: not supported by kmesh"),
    "ratelimit-fraction": (_bad_ratelimit_fraction, LDS,
                           "Listener '10.96.0.30_8000': filter_chains[0].filters[0].typed_config.http_filters[0]"
                           ".typed_config.filter_enforced.default_value: 50 of 100: kmesh limits all requests or none"),
    "route-ratelimit-no-bucket": (_bad_route_ratelimit_no_bucket, LDS,
                                  "RouteConfiguration 'inline-api': virtual_hosts[0].routes[0].typed_per_filter_config['envoy.filters.http.local_ratelimit']"
                                  ".token_bucket: unset: a per-route config needs its bucket"),
    "route-ratelimit-fraction": (_bad_route_ratelimit_fraction, LDS,
                                 "RouteConfiguration 'inline-api': virtual_hosts[0].routes[0].typed_per_filter_config['envoy.filters.http.local_ratelimit']"
                                 ".filter_enabled.default_value: 10 of 100: kmesh limits all requests or none"),
    "route-ratelimit-direct-response": (_bad_route_ratelimit_direct, LDS,
                                        "RouteConfiguration 'inline-api': virtual_hosts[0].routes[1].typed_per_filter_config['envoy.filters.http.local_ratelimit']: "
                                        "a local rate limit on a direct_response route: not supported"),
    "per-filter-config-other": (_bad_per_filter_other, LDS,
                                "RouteConfiguration 'inline-api': virtual_hosts[0].typed_per_filter_config['envoy.filters.http.fault']: not supported "
                                "(only the local rate limit filter's config, 'envoy.filters.http.local_ratelimit')"),
    "connect-timeout": (_bad_connect_timeout, CDS,
                        "Cluster '" + WEB + "'.connect_timeout: 120s: kmesh takes 1ms..60000ms"),
    "zero-connect-timeout": (_zero_connect_timeout, CDS,
                             "Cluster '" + WEB + "'.connect_timeout: 0s: must be over 0"),
    "use-remote-address": (_bad_remote_address, LDS,
                           "Listener '0.0.0.0_80': filter_chains[0].filters[0].typed_config.use_remote_address: "
                           "true is not supported"),
    "connect-upgrade": (_bad_upgrade, LDS,
                        "Listener '0.0.0.0_80': filter_chains[0].filters[0].typed_config.upgrade_configs[0]: "
                        "only {upgrade_type: websocket}"),
    "max-stream-duration": (_bad_stream_duration, RDS,
                            "RouteConfiguration '80': virtual_hosts[0].routes[0].route.max_stream_duration."
                            "max_stream_duration: only 0s"),
}


def scale(n_services, eps_per, routes_per, eds_variant=0):
    """A big mesh for bench/xds.sh: n services on one HTTP listener (one
    virtual host each, routes_per routes), each its own EDS cluster of
    eps_per endpoints; eds_variant moves one endpoint of the first cluster."""
    R = route_components_pb2
    clusters, clas, vhosts = {}, {}, []
    for i in range(n_services):
        host = "s%d.bench.svc.cluster.local" % i
        cname = "outbound|80||" + host
        vip = "10.100.%d.%d" % (i // 250, i % 250 + 1)
        clusters[cname] = cluster(cname)
        eps = [("10.%d.%d.%d" % (200 + (i * eps_per + j) // 65536, ((i * eps_per + j) // 256) % 256,
                                 (i * eps_per + j) % 256), 8080, 1, H) for j in range(eps_per)]
        if i == 0 and eds_variant:
            eps[0] = ("10.199.0.%d" % (eds_variant % 250 + 1), 8080, 1, H)
        clas[cname] = cla(cname, eps)
        routes = [R.Route(name="r%d" % k, match=R.RouteMatch(prefix="/api/v%d/" % k),
                          route=R.RouteAction(cluster=cname)) for k in range(routes_per - 1)]
        routes.append(R.Route(name="default", match=R.RouteMatch(prefix="/"),
                              route=R.RouteAction(cluster=cname)))
        vhosts.append(R.VirtualHost(name=host + ":80", domains=[host, host + ":80", vip, vip + ":80"],
                                    routes=routes))
    return {
        CDS: clusters, EDS: clas,
        LDS: {"0.0.0.0_80": http_listener(80, "80")},
        RDS: {"80": route_pb2.RouteConfiguration(name="80", virtual_hosts=vhosts)},
    }


def client_shaped(m):
    """The same mesh for a proxyless gRPC client (what istiod sends one):
    an API listener per virtual host of each RDS HTTP listener, named like
    the virtual host ("web.default.svc.cluster.local:80"), holding the same
    HTTP connection manager (RDS to the same RouteConfiguration, the same
    filters but RBAC), and its routes without direct responses (gRPC has
    none). Clusters, endpoints and the other routes are untouched: an independent
    client (@grpc/grpc-js-xds) reading them checks the very resources kmesh
    reads; only the listener shape differs, because such a client resolves
    a name through an API listener, not a socket address."""
    m = {t: dict(v) for t, v in m.items()}
    for l in list(m[LDS].values()):
        f = l.filter_chains[0].filters[0] if l.filter_chains else None
        if not f or not f.typed_config.type_url.endswith("HttpConnectionManager"):
            continue
        hcm = hcm_pb2.HttpConnectionManager()
        f.typed_config.Unpack(hcm)
        if not hcm.HasField("rds"):
            continue
        # gRPC applies RBAC on servers only (gRFC A41) and refuses it on a
        # client's listener; kmesh enforces it at the client's node. The
        # client check reads everything else.
        kept = [f for f in hcm.http_filters if f.name != "envoy.filters.http.rbac"]
        del hcm.http_filters[:]
        hcm.http_filters.extend(kept)
        for vh in m[RDS][hcm.rds.route_config_name].virtual_hosts:
            if vh.name == "allow_any":
                continue
            api = listener_pb2.Listener(name=vh.name)
            api.api_listener.api_listener.Pack(hcm)
            m[LDS][api.name] = api
    # gRPC clients have no direct responses (gRFC A28: NACKed as an
    # unsupported action): those routes are left out of the client's copy
    for name, rc in list(m[RDS].items()):
        rc = copy_msg(rc)
        for vh in rc.virtual_hosts:
            kept = [r for r in vh.routes if not r.HasField("direct_response")]
            del vh.routes[:]
            vh.routes.extend(kept)
        m[RDS][name] = rc
    return m


def server_shaped(m, address, port):
    """The mesh's HTTP RBAC filter for a proxyless gRPC *server* (gRPC takes
    RBAC on servers only): the Listener such a server asks for
    ("grpc/server?xds.resource.listening_address=ADDRESS:PORT"), its socket
    address, one filter chain whose connection manager holds the same RBAC
    filter message as the mesh's 0.0.0.0_80 listener, then the router, and
    an inline route config of one non-forwarding route (what a gRPC server
    serves locally)."""
    R = route_components_pb2
    hcm = hcm_pb2.HttpConnectionManager()
    m[LDS]["0.0.0.0_80"].filter_chains[0].filters[0].typed_config.Unpack(hcm)
    filters = [f for f in hcm.http_filters if f.name == "envoy.filters.http.rbac"]
    filters.append(hcm_pb2.HttpFilter(name="envoy.filters.http.router",
                                      typed_config=typed(router_pb2.Router())))
    server_hcm = hcm_pb2.HttpConnectionManager(
        stat_prefix="inbound", http_filters=filters,
        route_config=route_pb2.RouteConfiguration(name="inbound", virtual_hosts=[R.VirtualHost(
            name="inbound", domains=["*"],
            routes=[R.Route(match=R.RouteMatch(prefix="/"),
                            non_forwarding_action=R.NonForwardingAction())])]))
    name = "grpc/server?xds.resource.listening_address=%s:%d" % (address, port)
    l = listener_pb2.Listener(
        name=name,
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
            address=address, port_value=port)),
        filter_chains=[listener_components_pb2.FilterChain(filters=[
            listener_components_pb2.Filter(name="envoy.filters.network.http_connection_manager",
                                           typed_config=typed(server_hcm))])])
    return {LDS: {name: l}}


def copy_msg(msg):
    c = type(msg)()
    c.CopyFrom(msg)
    return c


def node_ip(i):
    """The multi-node VM lane's node i (1-based) on its virtual network."""
    return "10.77.0.%d" % (10 + i)


def cluster_mesh(nodes, first=H, bad=False):
    """The mesh of scripts/vmtest-cluster.sh: every node runs one endpoint
    (busybox httpd on NODE_IP:8080) and a client. web (VIP 10.96.0.10:80,
    RDS "80", the DENY /admin RBAC filter) has every node's endpoint, the
    first with health @first (None: removed); its v2 subset is the last
    node; db (tcp_proxy 10.96.0.20:5000, maglev) is node 2. @bad adds a
    subset load balancer to web: NACKed."""
    eps = [(node_ip(i), 8080, 1, H) for i in range(2, nodes + 1)]
    if first is not None:
        eps.insert(0, (node_ip(1), 8080, 1, first))
    web = cluster(WEB)
    if bad:
        web.lb_subset_config.fallback_policy = cluster_pb2.Cluster.LbSubsetConfig.ANY_ENDPOINT
    return {
        CDS: {c.name: c for c in (web, cluster(WEB_V2), cluster(DB, cluster_pb2.Cluster.MAGLEV))},
        EDS: {a.cluster_name: a for a in (
            cla(WEB, eps),
            cla(WEB_V2, [(node_ip(nodes), 8080, 1, H)]),
            cla(DB, [(node_ip(2), 8080, 1, H)]))},
        LDS: {l.name: l for l in (http_listener(80, "80", deny_admin()),
                                   tcp_listener("10.96.0.20", 5000, DB))},
        RDS: {r.name: r for r in (web_routes(),)},
    }


CLUSTER_SCENARIOS = {
    "all": lambda n: cluster_mesh(n),
    "without-first": lambda n: cluster_mesh(n, first=None),
    "first-draining": lambda n: cluster_mesh(n, first=D),
    "bad": lambda n: cluster_mesh(n, first=D, bad=True),
}


def scenario(name):
    if name.startswith("cluster:"):
        # cluster:SCENARIO:NODES (scripts/vmtest-cluster.sh)
        _, which, nodes = name.split(":")
        return CLUSTER_SCENARIOS[which](int(nodes))
    if name.startswith("scale:"):
        # scale:SERVICES:ENDPOINTS_PER:ROUTES_PER[:EDS_VARIANT]
        return scale(*[int(x) for x in name.split(":")[1:]])
    if name.startswith("bad:"):
        mutate, _, _ = BAD[name[4:]]
        m = SCENARIOS["scale-down"]()
        mutate(m)
        return m
    return SCENARIOS[name]()


if __name__ == "__main__":
    # fixtures.py bad-cases: "NAME TYPE EXPECTED-PREFIX" lines for the test
    import os
    import struct
    import sys
    if sys.argv[1:2] == ["fuzz-seeds"]:
        # fuzz-seeds DIR: selftests/fuzz/fuzz_xds.c's input format, one file
        # per scenario: each type's DiscoveryResponse as a u16-framed record
        from envoy.service.discovery.v3 import discovery_pb2
        os.makedirs(sys.argv[2], exist_ok=True)
        names = list(SCENARIOS) + ["bad:" + n for n in BAD] + ["scale:3:2:3"]

        def frame(m, t):
            resp = discovery_pb2.DiscoveryResponse(version_info="1", type_url=t, nonce="1")
            for r in sorted(m[t].values(), key=lambda m: m.SerializeToString()):
                resp.resources.add().Pack(r)
            b = resp.SerializeToString()
            return struct.pack("<H", len(b)) + b if len(b) < 65536 else b""
        for name in names:
            m = scenario(name)
            with open(os.path.join(sys.argv[2], name.replace(":", "_")), "wb") as f:
                f.write(b"".join(frame(m, t) for t in (CDS, EDS, LDS, RDS)))
        # A small mesh, then EDS updates alone (the agent's EDS-only path):
        # one endpoint moved, and one refused (a bad address, a weight over
        # 65535), within the fuzzer's 4 KB inputs.
        base = scenario("scale:3:2:3")
        moved = scenario("scale:3:2:3:1")
        first = sorted(moved[EDS])[0]
        bad_addr, bad_weight = scenario("scale:3:2:3:2"), scenario("scale:3:2:3:2")
        bad_addr[EDS][first].endpoints[0].lb_endpoints[1].endpoint.address.socket_address.address = "10.0.0.300"
        bad_weight[EDS][first].endpoints[0].lb_endpoints[1].load_balancing_weight.value = 70000
        for seed, updates in (("eds-updates-address", (moved, bad_addr)),
                              ("eds-updates-weight", (bad_weight, moved))):
            with open(os.path.join(sys.argv[2], seed), "wb") as f:
                f.write(b"".join(frame(base, t) for t in (CDS, EDS, LDS, RDS)) +
                        b"".join(frame(u, EDS) for u in updates))
    if sys.argv[1:] == ["bad-cases"]:
        for n, (_, t, msg) in BAD.items():
            scenario("bad:" + n)
            print("%s\t%s\t%s" % (n, t.rsplit(".", 1)[-1], msg))
