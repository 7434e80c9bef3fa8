// A fake EC2 Query API for the integration tests: DescribeNetworkInterfaces
// pages chained by NextToken, DescribeInstances, throttling and 5xx faults,
// and a check that every request carries a SigV4 Authorization header
// scoped to ec2 (the signature itself is not verified). Answers use the
// element layout of the real EC2 answers (2016-11-15 API). Node only, no
// npm packages; listens on 127.0.0.1.
//
//   const { startEc2Server, buildInterfacesXml, paginate } = require('./ec2-server');
//   const ec2 = await startEc2Server({ pages: paginate(items, 1000) });
//   // enrich.aws_entities.endpoint: ec2.url
//   ec2.requests  // [{ action, params, token, headers, body, status }]
//   await ec2.close();
//
// CLI (manual runs): node ec2-server.js [--interfaces N] [--per-page M]
// prints {"url": ...} once listening.
'use strict';
const http = require('node:http');

const HOST = '127.0.0.1';
const VERSION = '2016-11-15';
const XMLNS = `http://ec2.amazonaws.com/doc/${VERSION}/`;
const MAX_BODY = 1024 * 1024;
const ACTIONS = new Set(['DescribeNetworkInterfaces', 'DescribeInstances']);
// Credential=<key id>/<yyyymmdd>/<region>/ec2/aws4_request
const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/ec2\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

function xmlEscape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;',
  }[c]));
}

function xmlUnescape(s) {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (m, e) => ({
    amp: '&', lt: '<', gt: '>', quot: '"', apos: "'",
  }[e]));
}

function el(name, value) {
  if (value === undefined || value === null) return '';
  if (value === '') return `<${name}/>`;
  return `<${name}>${xmlEscape(value)}</${name}>`;
}

function requestId(n) {
  return `5f2b3c1e-0d4a-4e8b-9c7f-${String(n).padStart(12, '0')}`;
}

function errorXml(code, message, n = 0) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<Response><Errors><Error>${el('Code', code)}${el('Message', message)}`
    + `</Error></Errors><RequestID>${requestId(n)}</RequestID></Response>`;
}

// One address of privateIps: a string, or { ip, publicIp, publicIpOwner }.
function privateIpItem(a, primary) {
  const ip = typeof a === 'string' ? a : a.ip;
  let x = '<item>' + el('privateIpAddress', ip) + el('primary', primary ? 'true' : 'false');
  if (typeof a === 'object' && a.publicIp) {
    x += '<association>' + el('publicIp', a.publicIp)
      + el('ipOwnerId', a.publicIpOwner || 'amazon') + '</association>';
  }
  return x + '</item>';
}

// One interface in DescribeNetworkInterfaces' layout. it: { id (required),
// description, subnetId, vpcId, availabilityZone, ownerId, requesterId,
// requesterManaged (bool), status, macAddress, privateIp, publicIp,
// publicIpOwner, privateIps (the secondary ones: strings or { ip, publicIp }),
// ipv6 (strings), instanceId, instanceOwnerId, attachmentOwnerId, deviceIndex,
// groups ([{ id, name }]), tags ({ key: value }), sourceDestCheck (bool),
// interfaceType, operatorPrincipal }.
function interfaceXml(it, n) {
  const hex = (n % 65536).toString(16).padStart(4, '0');
  const privateIp = it.privateIp || `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  let x = '<item>';
  x += el('networkInterfaceId', it.id);
  x += el('subnetId', it.subnetId || 'subnet-0a1b2c3d4e5f60001');
  x += el('vpcId', it.vpcId || 'vpc-0a1b2c3d4e5f60001');
  x += el('availabilityZone', it.availabilityZone || 'us-east-1a');
  x += el('description', it.description || '');
  x += el('ownerId', it.ownerId || '123456789012');
  if (it.requesterId) x += el('requesterId', it.requesterId);
  x += el('requesterManaged', it.requesterManaged ? 'true' : 'false');
  x += el('status', it.status || 'in-use');
  x += el('macAddress', it.macAddress || `02:00:00:00:${hex.slice(0, 2)}:${hex.slice(2)}`);
  x += el('privateIpAddress', privateIp);
  x += el('sourceDestCheck', it.sourceDestCheck === false ? 'false' : 'true');
  const groups = it.groups || [];
  x += groups.length === 0 ? '<groupSet/>' : '<groupSet>' + groups.map((g) =>
    '<item>' + el('groupId', g.id) + el('groupName', g.name) + '</item>').join('') + '</groupSet>';
  if (it.instanceId || it.attachmentOwnerId || it.instanceOwnerId) {
    x += '<attachment>';
    x += el('attachmentId', `eni-attach-${String(it.id).replace(/^eni-/, '')}`);
    if (it.instanceId) x += el('instanceId', it.instanceId);
    x += el('instanceOwnerId', it.instanceOwnerId || it.attachmentOwnerId || '123456789012');
    x += el('deviceIndex', String(it.deviceIndex ?? (it.instanceId ? 0 : 1)));
    x += el('status', 'attached');
    x += el('attachTime', '2024-03-01T12:00:00.000Z');
    x += el('deleteOnTermination', it.instanceId ? 'true' : 'false');
    x += '</attachment>';
  }
  if (it.publicIp) {
    x += '<association>' + el('publicIp', it.publicIp)
      + el('ipOwnerId', it.publicIpOwner || 'amazon') + '</association>';
  }
  const tags = Object.entries(it.tags || {});
  x += tags.length === 0 ? '<tagSet/>' : '<tagSet>' + tags.map(([k, v]) =>
    '<item>' + el('key', k) + el('value', v) + '</item>').join('') + '</tagSet>';
  const primary = it.publicIp ? { ip: privateIp, publicIp: it.publicIp, publicIpOwner: it.publicIpOwner } : privateIp;
  x += '<privateIpAddressesSet>' + [primary, ...(it.privateIps || [])]
    .map((a, i) => privateIpItem(a, i === 0)).join('') + '</privateIpAddressesSet>';
  const v6 = it.ipv6 || [];
  x += v6.length === 0 ? '<ipv6AddressesSet/>' : '<ipv6AddressesSet>' + v6.map((a, i) =>
    '<item>' + el('ipv6Address', a) + el('isPrimaryIpv6', i === 0 ? 'true' : 'false') + '</item>')
    .join('') + '</ipv6AddressesSet>';
  if (it.operatorPrincipal) {
    x += '<operator>' + el('managed', 'true') + el('principal', it.operatorPrincipal) + '</operator>';
  }
  x += el('interfaceType', it.interfaceType || 'interface');
  return x + '</item>';
}

// A DescribeNetworkInterfaces answer holding items; opts.nextToken for a
// page that is not the last.
function buildInterfacesXml(items, opts = {}) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<DescribeNetworkInterfacesResponse xmlns="${XMLNS}">`
    + `<requestId>${requestId(opts.requestId || 1)}</requestId>`
    + '<networkInterfaceSet>' + items.map((it, i) => interfaceXml(it, (opts.first || 0) + i + 1)).join('')
    + '</networkInterfaceSet>'
    + (opts.nextToken ? el('nextToken', opts.nextToken) : '')
    + '</DescribeNetworkInterfacesResponse>';
}

// Pages of perPage items chained by tokens that need URL encoding.
function paginate(items, perPage = 1000) {
  const pages = [];
  for (let i = 0; i < items.length || pages.length === 0; i += perPage) {
    const last = i + perPage >= items.length;
    pages.push(buildInterfacesXml(items.slice(i, i + perPage), {
      first: i,
      requestId: pages.length + 1,
      nextToken: last ? null : `AAEAA+page${pages.length + 2}/of/${Math.ceil(items.length / perPage)}==`,
    }));
  }
  return pages;
}

// A DescribeInstances answer: instances [{ id, name, tags }] (name: the
// Name tag; tags: other tags), one reservation each.
function buildInstancesXml(instances, opts = {}) {
  let x = '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<DescribeInstancesResponse xmlns="${XMLNS}">`
    + `<requestId>${requestId(opts.requestId || 1)}</requestId><reservationSet>`;
  for (const inst of instances) {
    const tags = Object.entries({ ...(inst.tags || {}), ...(inst.name !== undefined ? { Name: inst.name } : {}) });
    x += '<item>' + el('reservationId', `r-${inst.id.replace(/^i-/, '')}`)
      + el('ownerId', '123456789012') + '<groupSet/><instancesSet><item>'
      + el('instanceId', inst.id) + el('imageId', 'ami-0f000000000000001')
      + '<instanceState><code>16</code><name>running</name></instanceState>'
      + el('instanceType', 't3.micro')
      + (tags.length === 0 ? '<tagSet/>' : '<tagSet>' + tags.map(([k, v]) =>
        '<item>' + el('key', k) + el('value', v) + '</item>').join('') + '</tagSet>')
      + '<networkInterfaceSet/></item></instancesSet></item>';
  }
  return x + '</reservationSet>' + (opts.nextToken ? el('nextToken', opts.nextToken) : '')
    + '</DescribeInstancesResponse>';
}

// n interfaces of eight kinds (EC2 with and without a Name tag, ALB, RDS,
// NAT, Lambda, VPC endpoint, EFS, a plain one), each with the entity it
// should become: expect: { entity, aws_type, description, vpc_id,
// subnet_id, addrs, instance_id (EC2) }. An EC2 interface without a Name
// tag expects its own description: the instance's Name tag, if
// DescribeInstances gives one, replaces it. Addresses are unique for
// n < 65536: 10.a.b.c privates, 198.18-19.x.y publics, 2001:db8::/64.
function sampleInterfaces(n) {
  const kinds = [
    (i, ip, pub) => ({ description: 'Primary network interface', instanceId: `i-${hex(i, 17)}`,
      tags: i % 16 ? {} : { Name: `web-${i}` }, publicIp: pub, ipv6: [v6(i + 1)],
      expect: { entity: `ec2:i-${hex(i, 17)}`, aws_type: 'EC2', instance_id: `i-${hex(i, 17)}`,
        description: i % 16 ? 'Primary network interface' : `web-${i}`, addrs: [ip, pub, v6(i + 1)] } }),
    (i, ip, pub) => ({ description: `ELB app/alb-${i}/50dc6c495c0c9188`, requesterId: 'amazon-elb',
      requesterManaged: true, attachmentOwnerId: 'amazon-elb', publicIp: pub, publicIpOwner: 'amazon-elb',
      expect: { entity: `elb:alb-${i}`, aws_type: 'ELB', description: `ELB app/alb-${i}/50dc6c495c0c9188`, addrs: [ip, pub] } }),
    (i, ip) => ({ description: 'RDSNetworkInterface', requesterId: 'amazon-rds', requesterManaged: true,
      attachmentOwnerId: 'amazon-rds',
      expect: { aws_type: 'RDS', description: 'RDSNetworkInterface', addrs: [ip] } }),
    (i, ip, pub) => ({ description: `Interface for NAT Gateway nat-${hex(i, 17)}`, requesterManaged: true,
      attachmentOwnerId: 'amazon-aws', interfaceType: 'nat_gateway', sourceDestCheck: false, publicIp: pub,
      expect: { entity: `nat:nat-${hex(i, 17)}`, aws_type: 'NAT', description: `Interface for NAT Gateway nat-${hex(i, 17)}`, addrs: [ip, pub] } }),
    (i, ip) => ({ description: `AWS Lambda VPC ENI-fn-${i}-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d`,
      requesterManaged: true, interfaceType: 'lambda',
      expect: { entity: `lambda:fn-${i}`, aws_type: 'LAMBDA', description: `AWS Lambda VPC ENI-fn-${i}-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d`, addrs: [ip] } }),
    (i, ip) => ({ description: `VPC Endpoint Interface vpce-${hex(i, 17)}`, requesterId: '727180483921',
      requesterManaged: true, interfaceType: 'vpc_endpoint',
      expect: { entity: `vpce:vpce-${hex(i, 17)}`, aws_type: 'VPCE', description: `VPC Endpoint Interface vpce-${hex(i, 17)}`, addrs: [ip] } }),
    (i, ip) => ({ description: `EFS mount target for fs-${hex(i, 17)} (fsmt-${hex(i, 17)})`, requesterManaged: true,
      expect: { aws_type: 'EFS', description: `EFS mount target for fs-${hex(i, 17)} (fsmt-${hex(i, 17)})`, addrs: [ip] } }),
    (i, ip) => ({ description: 'spare interface', tags: { Name: `spare-${i}` },
      expect: { aws_type: 'ENI', description: `spare-${i}`, addrs: [ip] } }),
  ];
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = i + 1;
    const id = `eni-${hex(i, 17)}`;
    const ip = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
    const pub = `198.${18 + ((k >> 16) & 1)}.${(k >> 8) & 255}.${k & 255}`;
    const it = { id, privateIp: ip, ...kinds[i % kinds.length](i, ip, pub) };
    if (!it.expect.entity) {
      it.expect.entity = it.expect.aws_type === 'RDS' ? `rds:${id}` : `eni:${id}`;
    }
    it.expect.vpc_id = 'vpc-0a1b2c3d4e5f60001';
    it.expect.subnet_id = 'subnet-0a1b2c3d4e5f60001';
    out.push(it);
  }
  return out;
}

function hex(i, width) {
  return i.toString(16).padStart(width, '0');
}

// 2001:db8::k in canonical text (k < 2^32).
function v6(k) {
  return k > 0xffff ? `2001:db8::${(k >>> 16).toString(16)}:${(k & 0xffff).toString(16)}`
    : `2001:db8::${k.toString(16)}`;
}

// The top-level nextToken of an answer, unescaped; null on the last page.
function tokenOf(xml) {
  const m = /<nextToken>([^<]*)<\/nextToken>\s*<\/Describe\w+Response>\s*$/.exec(xml);
  return m ? xmlUnescape(m[1]) : null;
}

// The values of Name.1, Name.2, ... in params.
function listParam(params, name) {
  const out = [];
  for (let i = 1; params.has(`${name}.${i}`); i++) out.push(params.get(`${name}.${i}`));
  return out;
}

// opts: {
//   pages: [xml, ...] (page i+1 answers the nextToken found in page i) or
//          function({ params, token, index }) -> xml | { status, body },
//   instances: xml | [{ id, name, tags }] (answers only the ids asked for,
//          InvalidInstanceID.NotFound for unknown ones asked by InstanceId.N)
//          | function({ params, ids }) -> xml | { status, body },
//   faults: { throttle: N, error500: N }: the first N signed requests, any
//          action, get 503 RequestLimitExceeded, the next N 500 InternalError,
// }
// Resolves to { url, port, requests, count(action), close() }.
function startEc2Server(opts = {}) {
  const pages = opts.pages || [buildInterfacesXml([])];
  const faults = { throttle: 0, error500: 0, ...(opts.faults || {}) };
  const requests = [];
  const sockets = new Set();
  const pageOfToken = new Map();
  if (Array.isArray(pages)) {
    pages.forEach((xml, i) => {
      const t = tokenOf(xml);
      if (t !== null) pageOfToken.set(t, i + 1);
    });
  }
  let faulted = 0;

  function reply(res, rec, status, body) {
    rec.status = status;
    res.writeHead(status, { 'Content-Type': 'text/xml;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  function asAnswer(r) {
    return typeof r === 'string' ? { status: 200, body: r } : { status: r.status || 200, body: r.body };
  }

  function interfaces(params) {
    const token = params.get('NextToken');
    const max = params.get('MaxResults');
    if (max !== null && (!/^\d+$/.test(max) || +max < 5 || +max > 1000)) {
      return { status: 400, body: errorXml('InvalidParameterValue', `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`) };
    }
    if (typeof pages === 'function') {
      return asAnswer(pages({ params, token, index: requests.length - 1 }));
    }
    const i = token === null ? 0 : pageOfToken.get(token);
    if (i === undefined || i >= pages.length) {
      return { status: 400, body: errorXml('InvalidParameterValue', 'The nextToken is not valid') };
    }
    return { status: 200, body: pages[i] };
  }

  function instances(params) {
    const ids = listParam(params, 'InstanceId');
    const filterIds = params.get('Filter.1.Name') === 'instance-id' ? listParam(params, 'Filter.1.Value') : null;
    const src = opts.instances;
    if (typeof src === 'function') return asAnswer(src({ params, ids: filterIds || ids }));
    if (typeof src === 'string') return { status: 200, body: src };
    const known = src || [];
    const wanted = filterIds || ids;
    if (!filterIds) {
      const missing = ids.filter((id) => !known.some((k) => k.id === id));
      if (missing.length > 0) {
        return { status: 400, body: errorXml('InvalidInstanceID.NotFound', missing.length === 1
          ? `The instance ID '${missing[0]}' does not exist`
          : `The instance IDs '${missing.join(', ')}' do not exist`) };
      }
    }
    const picked = wanted.length ? known.filter((k) => wanted.includes(k.id)) : known;
    return { status: 200, body: buildInstancesXml(picked) };
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const params = new URLSearchParams(body);
      const rec = {
        method: req.method, path: req.url, headers: req.headers, body, params: Object.fromEntries(params),
        action: params.get('Action'), token: params.get('NextToken'), status: 0,
      };
      requests.push(rec);
      const auth = AUTH_RE.exec(req.headers.authorization || '');
      if (!auth || !req.headers['x-amz-date']) {
        return reply(res, rec, 401, errorXml('AuthFailure', 'AWS was not able to validate the provided access credentials', requests.length));
      }
      rec.region = auth[3];
      if (req.method !== 'POST' || size > MAX_BODY
          || !/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
        return reply(res, rec, 400, errorXml('InvalidRequest', 'The request received was invalid.', requests.length));
      }
      if (!ACTIONS.has(rec.action)) {
        return reply(res, rec, 400, errorXml('InvalidAction', `The action ${rec.action} is not valid for this web service.`, requests.length));
      }
      if (params.get('Version') !== VERSION) {
        return reply(res, rec, 400, errorXml('MissingParameter', 'The request must contain the parameter Version', requests.length));
      }
      if (faulted < faults.throttle) {
        faulted++;
        return reply(res, rec, 503, errorXml('RequestLimitExceeded', 'Request limit exceeded.', requests.length));
      }
      if (faulted < faults.throttle + faults.error500) {
        faulted++;
        return reply(res, rec, 500, errorXml('InternalError', 'An internal error has occurred', requests.length));
      }
      const a = rec.action === 'DescribeNetworkInterfaces' ? interfaces(params) : instances(params);
      return reply(res, rec, a.status, a.body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      resolve({
        url: `http://${HOST}:${port}/`,
        port,
        requests,
        count: (action) => requests.filter((r) => !action || r.action === action).length,
        close: () => new Promise((done) => {
          server.close(() => done());
          for (const s of sockets) s.destroy();
        }),
      });
    });
  });
}

module.exports = {
  startEc2Server, buildInterfacesXml, buildInstancesXml, paginate, sampleInterfaces,
  errorXml, xmlEscape,
};

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const items = sampleInterfaces(arg('--interfaces', 20));
  const instances = items.filter((it) => it.instanceId)
    .map((it) => ({ id: it.instanceId, name: `host-${it.instanceId}` }));
  startEc2Server({ pages: paginate(items, arg('--per-page', 1000)), instances }).then((s) => {
    process.stdout.write(JSON.stringify({ url: s.url }) + '\n');
    const stop = () => s.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
