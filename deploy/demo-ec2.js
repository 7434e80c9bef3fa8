// The demo's EC2 endpoint: the corpus generator's 300 internal hosts
// (bench/gen_corpus.c: 10.a.b.c) as network interfaces of several kinds,
// served by the tests' EC2 Query API server on 127.0.0.1. Prints
// {"url": ...} once it listens; stops on SIGTERM or after --max-seconds.
'use strict';
const path = require('node:path');
const { startEc2Server, paginate } = require(path.join(__dirname, '..', 'test', 'integration', 'ec2-server'));

const host = (h) => `10.${Math.floor(h / 250) % 4}.${Math.floor(h / 50) % 5 + 1}.${h % 250 + 2}`;
const pad = (i, n) => String(i).padStart(n, '0');

function iface(h) {
  const id = `eni-${pad(h, 17)}`;
  const base = { id, privateIp: host(h), vpcId: 'vpc-0a1b2c3d', subnetId: 'subnet-0a1b2c3d' };
  switch (h % 10) {
    case 1:
      return { ...base, description: 'RDSNetworkInterface', requesterId: 'amazon-rds', requesterManaged: true };
    case 2:
      return { ...base, description: `ELB app/web-alb/50dc6c495c0c${pad(h, 4)}`, requesterId: 'amazon-elb',
        requesterManaged: true };
    case 3:
      return { ...base, description: `Interface for NAT Gateway nat-${pad(h, 17)}`, interfaceType: 'nat_gateway',
        requesterManaged: true };
    case 4:
      return { ...base, description: `AWS Lambda VPC ENI-ingest-${h}-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d`,
        interfaceType: 'lambda', requesterManaged: true };
    case 5:
      return { ...base, description: `VPC Endpoint Interface vpce-${pad(h, 17)}`, interfaceType: 'vpc_endpoint',
        requesterManaged: true };
    default:
      return { ...base, description: 'Primary network interface', instanceId: `i-${pad(h, 17)}`,
        tags: { Name: `app-${h}` } };
  }
}

const maxSeconds = Number(process.argv[process.argv.indexOf('--max-seconds') + 1]) || 600;
const interfaces = Array.from({ length: 300 }, (_, h) => iface(h));
startEc2Server({ pages: paginate(interfaces, 100), instances: [] }).then((s) => {
  process.stdout.write(`${JSON.stringify({ url: s.url })}\n`);
  const stop = () => s.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  setTimeout(stop, maxSeconds * 1000).unref();
});
