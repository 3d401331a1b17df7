#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""An xDS v3 ADS management server for kmesh's tests, on Debian's grpcio and
the Python code protoc generates at build time from the same Envoy protos
the agent uses (scripts/gen-xds-protos.sh → build/xds/py).

    PYTHONPATH=build/xds/py mgmt_server.py --listen 127.0.0.1:15010 \
        --scenario-file DIR/scenario --log DIR/requests.jsonl

State of the world over one ADS stream per client. The snapshot is one of
the scenarios in fixtures.py; writing another scenario's name into the
scenario file switches to it (pushed to every stream, types whose content
changed only). Every request a client sends is logged as one JSON line:
its type, version_info, response_nonce, resource_names and error_detail,
plus whether it ACKs or NACKs the last response of its type.
"""
import argparse
import json
import os
import queue
import sys
import threading
import time
from concurrent import futures

import grpc
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import json_format
from google.rpc import status_pb2  # noqa: F401 (error_detail's type)

import fixtures

METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
NAMED_TYPES = (fixtures.EDS, fixtures.RDS)  # asked for by name


class Snapshot:
    def __init__(self, name):
        self.name = name
        # type_url -> {name: message}
        self.resources = fixtures.scenario(name)
        self.versions = {}
        self.blobs = {}
        self._client_shaped = None

    def resources_for(self, node_id):
        """Proxyless gRPC clients (node id "proxyless~..."), like
        @grpc/grpc-js-xds, get the same mesh with API listeners; proxyless
        gRPC servers ("proxyless-server~ADDRESS:PORT~...") the mesh's RBAC
        filter on their listener."""
        if (node_id or "").startswith("proxyless-server~"):
            # "proxyless-server~ADDRESS:PORT~...": a gRPC server's listener
            address, port = node_id.split("~")[1].rsplit(":", 1)
            return fixtures.server_shaped(self.resources, address, int(port))
        if not (node_id or "").startswith("proxyless~"):
            return self.resources
        if self._client_shaped is None:
            self._client_shaped = fixtures.client_shaped(self.resources)
        return self._client_shaped

    def set_versions(self, previous):
        """A type's version changes only when its content does."""
        for t, res in self.resources.items():
            blob = b"".join(k.encode() + v.SerializeToString(deterministic=True)
                            for k, v in sorted(res.items()))
            if previous and previous.blobs.get(t) == blob:
                self.versions[t] = previous.versions[t]
            else:
                self.versions[t] = "%s-%d" % (self.name, time.monotonic_ns() // 1000)
            self.blobs[t] = blob


class Server:
    def __init__(self, scenario, log_path):
        self.lock = threading.Lock()
        self.streams = []
        self.snapshot = Snapshot(scenario)
        self.snapshot.set_versions(None)
        self.log = open(log_path, "a", buffering=1)
        self.nonce = 0

    def set_scenario(self, name):
        snap = Snapshot(name)
        with self.lock:
            snap.set_versions(self.snapshot)
            self.snapshot = snap
            streams = list(self.streams)
        self.log_event({"event": "scenario", "name": name})
        for s in streams:
            s.push()

    def log_event(self, obj):
        self.log.write(json.dumps(obj, sort_keys=True) + "\n")

    def next_nonce(self):
        with self.lock:
            self.nonce += 1
            return str(self.nonce)

    def handler(self, request_iterator, context):
        md = dict(context.invocation_metadata())
        self.log_event({"event": "stream", "peer": context.peer(),
                        "authorization": md.get("authorization")})
        stream = Stream(self, context)
        with self.lock:
            self.streams.append(stream)
        reader = threading.Thread(target=stream.read, args=(request_iterator,), daemon=True)
        reader.start()
        try:
            while True:
                item = stream.out.get()
                if item is None:
                    return
                yield item
        finally:
            with self.lock:
                self.streams.remove(stream)


class Stream:
    def __init__(self, server, context):
        self.server = server
        self.context = context
        self.out = queue.Queue()
        self.lock = threading.Lock()
        self.names = {}        # type_url -> names subscribed (None: wildcard)
        self.sent = {}         # type_url -> (version, names) last sent
        self.last_nonce = {}   # type_url -> nonce of the last response sent
        self.node = None

    def read(self, request_iterator):
        try:
            for req in request_iterator:
                self.on_request(req)
        except grpc.RpcError:
            pass
        finally:
            self.out.put(None)

    def on_request(self, req):
        t = req.type_url
        if req.HasField("node"):
            self.node = req.node.id
        kind = "request"
        if req.response_nonce and req.response_nonce == self.last_nonce.get(t):
            kind = "nack" if req.HasField("error_detail") else "ack"
        self.server.log_event({
            "event": kind, "type": t.rsplit(".", 1)[-1], "node": self.node,
            "version_info": req.version_info, "nonce": req.response_nonce,
            "names": list(req.resource_names),
            "error_detail": req.error_detail.message if req.HasField("error_detail") else None,
            "error_code": req.error_detail.code if req.HasField("error_detail") else None,
            "node_cluster": req.node.cluster if req.HasField("node") else None,
            "node_metadata": json_format.MessageToDict(req.node.metadata)
            if req.HasField("node") else None,
        })
        with self.lock:
            # Listeners and clusters by wildcard (kmesh-agent), or by the
            # names a client asks for (a gRPC client's listener and clusters)
            self.names[t] = list(req.resource_names) \
                if t in NAMED_TYPES or req.resource_names else None
        self.push(only=t)

    def push(self, only=None):
        snap = self.server.snapshot
        with self.lock:
            for t, names in list(self.names.items()):
                if only and t != only:
                    continue
                res = snap.resources_for(self.node).get(t, {})
                if names is not None:
                    if not names:
                        continue
                    res = {k: v for k, v in res.items() if k in names}
                key = (snap.versions.get(t, ""), tuple(sorted(names or [])))
                if self.sent.get(t) == key:
                    continue
                self.sent[t] = key
                resp = discovery_pb2.DiscoveryResponse(
                    version_info=key[0], type_url=t, nonce=self.server.next_nonce())
                for name in sorted(res):
                    resp.resources.add().Pack(res[name])
                self.last_nonce[t] = resp.nonce
                self.server.log_event({"event": "response", "type": t.rsplit(".", 1)[-1],
                                       "version_info": resp.version_info,
                                       "nonce": resp.nonce, "names": sorted(res)})
                self.out.put(resp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--scenario-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert", help="serve TLS with this certificate chain (PEM)")
    ap.add_argument("--tls-key", help="...and this key (PEM)")
    args = ap.parse_args()

    with open(args.scenario_file) as f:
        current = f.read().strip()
    srv = Server(current, args.log)
    handler = grpc.method_handlers_generic_handler(
        "envoy.service.discovery.v3.AggregatedDiscoveryService",
        {"StreamAggregatedResources": grpc.stream_stream_rpc_method_handler(
            srv.handler,
            request_deserializer=discovery_pb2.DiscoveryRequest.FromString,
            response_serializer=discovery_pb2.DiscoveryResponse.SerializeToString)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    if args.tls_cert:
        with open(args.tls_cert, "rb") as c, open(args.tls_key, "rb") as k:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        port = server.add_secure_port(args.listen, creds)
    else:
        port = server.add_insecure_port(args.listen)
    if not port:
        sys.exit("mgmt_server: cannot listen on %s" % args.listen)
    server.start()
    srv.log_event({"event": "listening", "address": args.listen, "scenario": current,
                   "tls": bool(args.tls_cert)})
    mtime = os.stat(args.scenario_file).st_mtime_ns
    while True:
        time.sleep(0.05)
        try:
            m = os.stat(args.scenario_file).st_mtime_ns
        except FileNotFoundError:
            continue
        if m == mtime:
            continue
        mtime = m
        with open(args.scenario_file) as f:
            name = f.read().strip()
        if name and name != current:
            current = name
            srv.set_scenario(name)


if __name__ == "__main__":
    main()
