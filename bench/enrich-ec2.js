// The EC2 Query API for bench/enrich.sh: test/integration/ec2-server.js
// serving network interfaces that own the benchmark corpus's internal
// hosts, so that enrich.aws_entities finds an entity for each of them.
//
//   node bench/enrich-ec2.js [--interfaces N] [--per-page M]
//
// prints {"url": ..., "interfaces": N} once listening on 127.0.0.1 and
// serves until SIGTERM or SIGINT. The first 300 interfaces are the
// corpus's hosts 0..299 (bench/gen_corpus.c: internal_ip(), with the
// corpus's interface ids, instance ids and VPC); the others (default
// 2,000 in all) hold addresses in 10.8.0.0/13, which the corpus never
// uses, so that the table has the size of a mid-sized account. Kinds, by
// host: EC2 instances mostly (named by a Name tag, by DescribeInstances
// or by their description), then ELB, RDS, Lambda, VPC endpoint and NAT
// interfaces.
'use strict';
const path = require('node:path');
const { startEc2Server, paginate } = require(path.join(__dirname, '..', 'test',
  'integration', 'ec2-server.js'));

const CORPUS_HOSTS = 300;
const VPC = 'vpc-0a1b2c3d';
const SUBNET = 'subnet-0a1b2c3d';

const hex = (n, width) => n.toString(16).padStart(width, '0');

// gen_corpus's internal_ip(host), and 10.8.0.0/13 past its hosts
function address(h) {
  if (h < CORPUS_HOSTS) {
    return `10.${Math.floor(h / 250) % 4}.${Math.floor(h / 50) % 5 + 1}.${h % 250 + 2}`;
  }
  const k = h - CORPUS_HOSTS;
  return `10.${8 + ((k >> 16) & 7)}.${(k >> 8) & 255}.${k & 255}`;
}

// One interface of host h: { interface fields } for ec2-server.js
function iface(h) {
  const base = {
    id: `eni-${hex(h, 8)}${String(h).padStart(9, '0')}`,
    privateIp: address(h),
    vpcId: VPC,
    subnetId: SUBNET,
  };
  switch (h % 10) {
    case 6:
      return { ...base, description: `ELB app/web-${h}/50dc6c495c0c9188`,
        requesterId: 'amazon-elb', requesterManaged: true, attachmentOwnerId: 'amazon-elb' };
    case 7:
      return { ...base, description: 'RDSNetworkInterface', requesterId: 'amazon-rds',
        requesterManaged: true, attachmentOwnerId: 'amazon-rds' };
    case 8:
      return { ...base, description: `AWS Lambda VPC ENI-fn-${h}-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d`,
        requesterManaged: true, interfaceType: 'lambda' };
    case 9:
      return h % 20 === 9
        ? { ...base, description: `VPC Endpoint Interface vpce-${hex(h, 17)}`,
          requesterId: '727180483921', requesterManaged: true, interfaceType: 'vpc_endpoint' }
        : { ...base, description: `Interface for NAT Gateway nat-${hex(h, 17)}`,
          requesterManaged: true, attachmentOwnerId: 'amazon-aws',
          interfaceType: 'nat_gateway', sourceDestCheck: false };
    default:
      // gen_corpus's instance id of host h: i-%017x
      return { ...base, description: 'Primary network interface', instanceId: `i-${hex(h, 17)}`,
        tags: h % 4 === 1 ? { Name: `app-${h}`, team: 'bench' } : {} };
  }
}

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const n = Math.max(arg('--interfaces', 2000), CORPUS_HOSTS);
const items = Array.from({ length: n }, (_, h) => iface(h));
// DescribeInstances knows every instance; a quarter of those whose
// interface has no Name tag have one on the instance
const instances = items.filter((it) => it.instanceId && !(it.tags && it.tags.Name))
  .map((it, i) => (i % 4 === 0 ? { id: it.instanceId, name: `host-${it.instanceId.slice(2)}` }
    : { id: it.instanceId }));

startEc2Server({ pages: paginate(items, arg('--per-page', 1000)), instances }).then((s) => {
  process.stdout.write(JSON.stringify({ url: s.url, interfaces: n }) + '\n');
  const stop = () => s.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
});
