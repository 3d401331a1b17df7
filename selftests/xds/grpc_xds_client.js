// SPDX-License-Identifier: GPL-2.0-only
// An independent xDS client for the test fixtures: @grpc/grpc-js-xds (gRPC's
// own xDS resolver for Node) resolves xds:///TARGET through the management
// server, reading the same Clusters, ClusterLoadAssignments and
// RouteConfigurations kmesh-agent reads (the listener is the API-listener
// form of the same HTTP connection manager: fixtures.client_shaped). The
// server's request log then says whether this client ACKed or NACKed each
// type, and gRPC's subchannel trace which endpoints it was given.
//
//   GRPC_TRACE=subchannel GRPC_VERBOSITY=DEBUG NODE_PATH=build/xds/client/node_modules \
//       node grpc_xds_client.js SERVER TARGET TIMEOUT_MS
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const [server, target, timeoutMs] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xds-client-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const bootstrap = path.join(dir, 'bootstrap.json');
fs.writeFileSync(bootstrap, JSON.stringify({
	xds_servers: [{ server_uri: server, channel_creds: [{ type: 'insecure' }],
			server_features: ['xds_v3'] }],
	// "proxyless~": the test server gives this node API listeners
	node: { id: 'proxyless~127.0.0.1~grpc-js-xds.default~default.svc.cluster.local',
		cluster: 'grpc-js-xds-check', locality: {} },
}));
process.env.GRPC_XDS_BOOTSTRAP = bootstrap;

const grpc = require('@grpc/grpc-js');
require('@grpc/grpc-js-xds').register();

const channel = new grpc.Channel('xds:///' + target, grpc.credentials.createInsecure(), {});
// Leave idle: resolve (LDS, RDS, CDS, EDS) and let the load balancer
// connect to the endpoints it was given. They are HTTP/1.1 servers, not
// gRPC, so nothing gets READY; the subchannel trace (GRPC_TRACE=subchannel)
// shows which addresses it tried.
channel.getConnectivityState(true);
setTimeout(() => {
	console.log('state ' + ['IDLE', 'CONNECTING', 'READY', 'TRANSIENT_FAILURE', 'SHUTDOWN'][
		channel.getConnectivityState(false)]);
	process.exit(0);
}, Number(timeoutMs || 8000));
