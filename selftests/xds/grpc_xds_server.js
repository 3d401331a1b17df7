// SPDX-License-Identifier: GPL-2.0-only
// The mesh's HTTP RBAC filter read by an independent xDS implementation:
// gRPC applies RBAC on servers only (gRFC A41), so an @grpc/grpc-js-xds
// XdsServer on ADDRESS:PORT takes its listener from the test server (the
// same RBAC message as the mesh's 0.0.0.0_80 listener: fixtures.server_shaped)
// and a plain gRPC client calls it: a method under /admin (the DENY rule's
// path prefix) must be refused with PERMISSION_DENIED, another one answered.
//
//   GRPC_XDS_EXPERIMENTAL_RBAC=true NODE_PATH=build/xds/client/node_modules \
//       node grpc_xds_server.js SERVER ADDRESS:PORT
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const [server, listen] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xds-server-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const bootstrap = path.join(dir, 'bootstrap.json');
fs.writeFileSync(bootstrap, JSON.stringify({
	xds_servers: [{ server_uri: server, channel_creds: [{ type: 'insecure' }],
			server_features: ['xds_v3'] }],
	node: { id: 'proxyless-server~' + listen + '~grpc-js-xds.default~default.svc.cluster.local',
		cluster: 'grpc-js-xds-check', locality: {} },
	server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
}));
process.env.GRPC_XDS_BOOTSTRAP = bootstrap;

const grpc = require('@grpc/grpc-js');
const xds = require('@grpc/grpc-js-xds');
xds.register();

const echo = (call, cb) => cb(null, call.request);
const ident = (x) => x;
const method = (p) => ({ path: p, requestStream: false, responseStream: false,
			 requestSerialize: ident, requestDeserialize: ident,
			 responseSerialize: ident, responseDeserialize: ident });
const srv = new xds.XdsServer();
srv.addService({ Get: method('/admin.Users/Get') }, { Get: echo });
srv.addService({ Get: method('/public.Items/Get') }, { Get: echo });
srv.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err) => {
	if (err) {
		console.log('bind ' + err.message);
		process.exit(1);
	}
	const client = new grpc.Client(listen, grpc.credentials.createInsecure());
	const call = (p) => new Promise((resolve) => {
		client.makeUnaryRequest(p, ident, ident, Buffer.from('x'), new grpc.Metadata(),
			{ deadline: Date.now() + 20000, waitForReady: true },
			(e) => resolve(e ? grpc.status[e.code] : 'OK'));
	});
	(async () => {
		console.log('call /admin.Users/Get ' + await call('/admin.Users/Get'));
		console.log('call /public.Items/Get ' + await call('/public.Items/Get'));
		process.exit(0);
	})();
});
