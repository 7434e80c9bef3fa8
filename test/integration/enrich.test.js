// Enrichment against real lookups: MaxMind's test databases, threat lists
// served over HTTP (ETag, 304, failures) and from files, and an EC2 Query
// API server for the AWS entities, all on 127.0.0.1.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const h = require('./harness');
const { startListServer } = require('./lists-server');
const {
  startEc2Server, paginate, sampleInterfaces, buildInterfacesXml, errorXml,
} = require('./ec2-server');

const data = path.join(h.root, 'test', 'data');
const cityDb = path.join(data, 'maxmind', 'GeoLite2-City-Test.mmdb');
const asnDb = path.join(data, 'maxmind', 'GeoLite2-ASN-Test.mmdb');

let kin;
before(async () => { kin = await h.startKinesis(); });
after(() => kin && kin.stop());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// vpcflowd run, with its documents and stderr visible while it runs.
function startRun(cfg) {
  const child = spawn(h.bin, ['run', '-c', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: path.dirname(cfg), ...h.awsEnv },
  });
  const run = { child, docs: new Map(), stderr: '', exited: null };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const doc = JSON.parse(line);
    run.docs.set(doc._aws_event_id, doc);
  });
  child.stderr.on('data', (d) => { run.stderr += d; });
  run.done = new Promise((resolve) => child.on('exit', (code) => {
    run.exited = code;
    resolve(code);
  }));
  return run;
}

async function waitFor(what, cond, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const count = (text, sub) => text.split(sub).length - 1;

// vpcflowd replay, without blocking this process: the servers the test
// runs here must keep answering.
function replay(args) {
  return new Promise((resolve) => {
    const child = spawn(h.bin, ['replay', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...h.awsEnv },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

test('threat lists: conditional GET, a failed fetch keeps the list, SIGHUP reloads', async () => {
  const dir = h.tmpdir('enrich-lists');
  const lists = await startListServer({
    '/bad.txt': [
      { body: '# everything\n0.0.0.0/1\n128.0.0.0/1\n', etag: '"v1"' },
      { notModifiedIf: '"v1"', times: 2 },
      { status: 500, times: 2 },
      { body: '203.0.113.1\n', etag: '"v2"' },
      { notModifiedIf: '"v2"' },
    ],
  });
  const local = path.join(dir, 'local.txt');
  fs.writeFileSync(local, '198.51.100.1\n');
  let run;
  try {
    h.setupStream(kin.url, 'enrich-lists', 1, dir, [[200, 31, 400000]]);
    const cfg = h.writeConfig(dir, kin.url, 'enrich-lists', {
      sections: `enrich:
  threat_lists:
    - name: bad
      url: ${lists.url('/bad.txt')}
      refresh: 1s
    - name: local
      path: ${local}
      refresh: 1h
`,
      logLevel: 'debug',
    });
    run = startRun(cfg);
    // checks the flows with both addresses (NODATA records have none)
    const batch = async (ids, check) => {
      await waitFor(`${ids.size} flows`, () => [...ids].every((id) => run.docs.has(id)));
      let checked = 0;
      for (const id of ids) {
        const d = run.docs.get(id);
        if (d._src_addr === undefined || d._dst_addr === undefined) continue;
        check(d);
        checked++;
      }
      assert.ok(checked > ids.size * 0.9, `${checked} flows with addresses`);
    };
    // v1 holds every IPv4 address
    await batch(h.idRange(400000, 200), (d) => {
      assert.strictEqual(d._src_addr_threat_indicated, 'true');
      assert.strictEqual(d._src_addr_threat_indicated_bad, 'true');
      assert.strictEqual(d._dst_addr_threat_indicated_bad, 'true');
      assert.strictEqual(d._src_addr_threat_indicated_local, undefined);
    });
    // two 304s, then failures: the last good list stays
    await waitFor('two failed fetches', () =>
      lists.requests.filter((r) => r.status === 500).length >= 2);
    assert.ok(lists.requests.filter((r) => r.status === 304).length >= 2,
      'conditional GETs answered 304');
    assert.ok(lists.requests.slice(1).every((r) => r.headers['if-none-match']),
      'every fetch after the first is conditional');
    h.putCorpus(kin.url, 'enrich-lists', dir, 100, 32, 500000);
    await batch(h.idRange(500000, 100), (d) => {
      assert.strictEqual(d._dst_addr_threat_indicated_bad, 'true', 'kept after failures');
    });
    assert.match(run.stderr, /threat list bad: .*HTTP status 500; keeping its last good contents/);
    // v2 holds nothing the corpus uses
    await waitFor('v2 loaded', () => /threat list bad: 1 entries/.test(run.stderr));
    h.putCorpus(kin.url, 'enrich-lists', dir, 100, 33, 600000);
    await batch(h.idRange(600000, 100), (d) => {
      assert.strictEqual(d._src_addr_threat_indicated, 'false');
      assert.strictEqual(d._dst_addr_threat_indicated, 'false');
      assert.strictEqual(d._dst_addr_threat_indicated_bad, undefined);
    });
    // the file list changes; refresh is 1h, SIGHUP reloads it now
    fs.writeFileSync(local, '0.0.0.0/1\n128.0.0.0/1\n');
    run.child.kill('SIGHUP');
    await waitFor('the reload', () => /threat list local: 2 entries/.test(run.stderr));
    assert.match(run.stderr, /reloading threat lists/);
    h.putCorpus(kin.url, 'enrich-lists', dir, 100, 34, 700000);
    await batch(h.idRange(700000, 100), (d) => {
      assert.strictEqual(d._src_addr_threat_indicated_local, 'true');
      assert.strictEqual(d._src_addr_threat_indicated, 'true');
    });
    run.child.kill('SIGTERM');
    assert.strictEqual(await run.done, 0, run.stderr);
  } finally {
    if (run) fs.writeFileSync(path.join(dir, 'vpcflowd.stderr'), run.stderr);
    if (run && run.exited === null) run.child.kill('SIGKILL');
    await lists.close();
  }
});

// What Graylog stores: the keys without their leading underscore.
function stored(doc) {
  const out = {};
  for (const [k, v] of Object.entries(doc)) out[k.startsWith('_') ? k.slice(1) : k] = v;
  return out;
}

// A Graylog query of field:value terms joined by AND, with one level of
// (a OR b) groups; values compare as text, as on keyword fields.
function matches(doc, query) {
  const term = (t) => {
    const [f, v] = t.split(':');
    return doc[f] !== undefined && String(doc[f]) === v;
  };
  return query.split(' AND ').every((part) => {
    const p = part.trim();
    if (p.startsWith('(')) return p.slice(1, -1).split(' OR ').some((t) => term(t.trim()));
    return term(p);
  });
}

const FORMAT = '${version} ${account-id} ${vpc-id} ${interface-id} ${srcaddr} ${dstaddr} '
  + '${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} '
  + '${log-status} ${pkt-srcaddr} ${pkt-dstaddr}';

test('every enrichment field from real lookups: EC2, threat lists, GeoIP and ASN', async () => {
  const dir = h.tmpdir('enrich-all');
  // 2500 interfaces of eight kinds over three pages, and one address that
  // is in two VPCs: 10.0.0.1 is sample 0's EC2 instance in vpc-0a1b...01
  // and an RDS interface in vpc-other
  const items = sampleInterfaces(2500);
  items.push({ id: 'eni-0ther00000000001', privateIp: '10.0.0.1', vpcId: 'vpc-other',
    subnetId: 'subnet-other', description: 'RDSNetworkInterface', requesterId: 'amazon-rds',
    requesterManaged: true });
  const ec2 = await startEc2Server({
    pages: paginate(items, 1000),
    // the Name tag of an instance whose interface carries none
    instances: items.filter((it) => it.instanceId).map((it, i) =>
      ({ id: it.instanceId, name: i === 1 ? 'app-server' : undefined })),
    faults: { throttle: 1, error500: 1 },
  });
  const lists = await startListServer({
    '/plain.txt': [{ body: '# bad hosts\n81.2.69.142\n', etag: '"p1"' }],
    '/drop.txt': [{ body: '; Spamhaus DROP\n89.160.20.112/28 ; SBL1\n', etag: '"d1"' }],
  });
  fs.writeFileSync(path.join(dir, 'tor.txt'), 'ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n'
    + 'Published 2026-11-21 10:00:00\nLastStatus 2026-11-21 11:00:00\n'
    + 'ExitAddress 216.160.83.58 2026-11-21 11:05:00\n');
  fs.writeFileSync(path.join(dir, 'intel.csv'), 'first_seen,ip,note\n'
    + '2026-11-01,1.128.0.9,"scanner, aggressive"\n');
  const cfg = h.writeConfig(dir, kin.url, 'none', {
    sections: `enrich:
  geoip:
    city_db: ${cityDb}
    asn_db: ${asnDb}
  threat_lists:
    - name: plain
      url: ${lists.url('/plain.txt')}
    - name: spamhaus
      url: ${lists.url('/drop.txt')}
      format: spamhaus
    - name: tor
      path: ${dir}/tor.txt
      format: tor
    - name: intel
      path: ${dir}/intel.csv
      format: csv
      column: 2
  aws_entities:
    enabled: true
    regions: [us-east-1]
    endpoint: ${ec2.url}
`,
  });
  const vpc = 'vpc-0a1b2c3d4e5f60001';
  const line = (v, eni, src, dst, sport, dport, psrc = '-', pdst = '-') =>
    `5 123456789012 ${v} ${eni} ${src} ${dst} ${sport} ${dport} 6 10 840 1700000000 1700000060 ACCEPT OK ${psrc} ${pdst}`;
  const flows = [
    // 0: threat (plain) from London to an EC2 instance on 443
    line(vpc, 'eni-00000000000000000', '81.2.69.142', '10.0.0.1', 50000, 443),
    // 1: RDS (sample 2) to Linkoping, in Spamhaus DROP
    line(vpc, 'eni-00000000000000002', '10.0.0.3', '89.160.20.115', 5432, 40000),
    // 2: ALB, NAT's public address, both with public addresses
    line(vpc, 'eni-00000000000000001', '198.18.0.2', '198.18.0.4', 443, 40001),
    // 3: Lambda -> VPC endpoint; EFS and a plain ENI as packet addresses
    line(vpc, 'eni-00000000000000004', '10.0.0.5', '10.0.0.6', 40002, 443, '10.0.0.7', '10.0.0.8'),
    // 4: a Tor exit node and a CSV-listed scanner (AS 1221)
    line(vpc, 'eni-00000000000000000', '216.160.83.58', '1.128.0.9', 40003, 80),
    // 5: the same private address in another VPC: the flow's VPC wins
    line('vpc-other', 'eni-0ther00000000001', '10.0.0.1', '10.0.0.3', 5432, 40004),
    // 6: an EC2 instance's IPv6 address and an EC2 instance named by DescribeInstances
    line(vpc, 'eni-00000000000000000', '2001:db8::1', '10.0.0.9', 40005, 22),
  ];
  fs.writeFileSync(path.join(dir, 'flows.log'), flows.join('\n') + '\n');
  try {
    const r = await replay(['-c', cfg, '--format', FORMAT, '-o', 'stdout',
      path.join(dir, 'flows.log')]);
    assert.strictEqual(r.status, 0, r.stderr);
    const docs = r.stdout.trim().split('\n').map((l) => stored(JSON.parse(l)));
    assert.strictEqual(docs.length, flows.length);
    // GELF as Graylog takes it: no booleans, no empty strings
    for (const d of docs) {
      for (const [k, v] of Object.entries(d)) {
        assert.ok(typeof v !== 'boolean' && v !== '' && v !== null, `${k}: ${v}`);
      }
    }
    // the EC2 calls: three pages after a throttle and a 500, signed
    const dni = ec2.requests.filter((q) => q.action === 'DescribeNetworkInterfaces');
    assert.strictEqual(dni.filter((q) => q.status === 200).length, 3, 'three pages');
    assert.ok(ec2.requests.some((q) => q.status === 503 || q.status === 500), 'a 5xx was retried');
    assert.ok(ec2.requests.some((q) => q.action === 'DescribeInstances'), 'Name tags asked for');

    const [d0, d1, d2, d3, d4, d5, d6] = docs;
    assert.strictEqual(d0.src_addr_internal, 'false');
    assert.strictEqual(d0.src_addr_threat_indicated, 'true');
    assert.strictEqual(d0.src_addr_threat_indicated_plain, 'true');
    assert.strictEqual(d0.src_addr_country_code, 'GB');
    assert.strictEqual(d0.src_addr_city_name, 'London');
    assert.strictEqual(d0.src_addr_geolocation, '51.5142,-0.0931');
    assert.strictEqual(d0.dst_addr_internal, 'true');
    assert.strictEqual(d0.dst_addr_entity, 'ec2:i-00000000000000000');
    assert.strictEqual(d0.dst_addr_entity_aws_type, 'EC2');
    assert.strictEqual(d0.dst_addr_entity_description, 'web-0');
    assert.strictEqual(d0.dst_addr_entity_vpc_id, vpc);
    assert.strictEqual(d0.dst_addr_entity_subnet_id, 'subnet-0a1b2c3d4e5f60001');
    assert.strictEqual(d0.dst_addr_threat_indicated, 'false');
    assert.strictEqual(d0.dst_addr_country_code, undefined, 'internal: no GeoIP');

    assert.strictEqual(d1.src_addr_entity, 'rds:eni-00000000000000002');
    assert.strictEqual(d1.src_addr_entity_aws_type, 'RDS');
    assert.strictEqual(d1.dst_addr_threat_indicated_spamhaus, 'true');
    assert.strictEqual(d1.dst_addr_city_name, 'Link\u00f6ping');
    assert.strictEqual(d1.dst_addr_as_number, 29518);
    assert.strictEqual(d1.dst_addr_as_organization, 'Bredband2 AB');

    assert.strictEqual(d2.src_addr_entity, 'elb:alb-1');
    assert.strictEqual(d2.src_addr_entity_aws_type, 'ELB');
    assert.strictEqual(d2.src_addr_internal, 'true', 'a public address of our own');
    assert.strictEqual(d2.dst_addr_entity, 'nat:nat-00000000000000003');
    assert.strictEqual(d2.dst_addr_entity_aws_type, 'NAT');

    assert.strictEqual(d3.src_addr_entity, 'lambda:fn-4');
    assert.strictEqual(d3.src_addr_entity_aws_type, 'LAMBDA');
    assert.strictEqual(d3.dst_addr_entity, 'vpce:vpce-00000000000000005');
    assert.strictEqual(d3.dst_addr_entity_aws_type, 'VPCE');
    assert.strictEqual(d3.pkt_src_addr_entity_aws_type, 'EFS');
    assert.strictEqual(d3.pkt_src_addr_entity, 'eni:eni-00000000000000006');
    assert.strictEqual(d3.pkt_dst_addr_entity_aws_type, 'ENI');
    assert.strictEqual(d3.pkt_dst_addr_entity_description, 'spare-7');

    assert.strictEqual(d4.src_addr_threat_indicated_tor, 'true');
    assert.strictEqual(d4.src_addr_city_name, 'Milton');
    assert.strictEqual(d4.dst_addr_threat_indicated_intel, 'true');
    assert.strictEqual(d4.dst_addr_as_number, 1221);
    assert.strictEqual(d4.dst_addr_as_organization, 'Telstra Pty Ltd');

    assert.strictEqual(d5.src_addr_entity, 'rds:eni-0ther00000000001', 'the flow VPC wins');
    assert.strictEqual(d5.src_addr_entity_vpc_id, 'vpc-other');
    assert.strictEqual(d6.src_addr_entity, 'ec2:i-00000000000000000', 'IPv6');
    assert.strictEqual(d6.dst_addr_entity, 'ec2:i-00000000000000008');
    assert.strictEqual(d6.dst_addr_entity_description, 'app-server', 'from DescribeInstances');

    // every enrichment field of spec section 3 came out at least once
    const suffixes = new Set();
    for (const d of docs) {
      for (const k of Object.keys(d)) {
        const m = /^(?:pkt_)?(?:src|dst)_addr_(.+)$/.exec(k);
        if (m) suffixes.add(m[1]);
      }
    }
    for (const f of ['internal', 'entity', 'entity_aws_type', 'entity_description',
      'entity_vpc_id', 'entity_subnet_id', 'threat_indicated', 'threat_indicated_plain',
      'threat_indicated_spamhaus', 'threat_indicated_tor', 'threat_indicated_intel',
      'geolocation', 'country_code', 'city_name', 'as_number', 'as_organization']) {
      assert.ok(suffixes.has(f), `<f>_${f} produced`);
    }
    // the searches Graylog's AWS plugins documented
    const hits = (q) => docs.map((d, i) => (matches(d, q) ? i : -1)).filter((i) => i >= 0);
    assert.deepStrictEqual(hits('dst_addr_threat_indicated:true'), [1, 4]);
    assert.deepStrictEqual(hits('src_addr_entity_aws_type:RDS AND dst_addr_internal:false'), [1]);
    assert.deepStrictEqual(hits('dst_addr_entity_aws_type:EC2 AND src_addr_internal:false'
      + ' AND (dst_port:80 OR dst_port:443)'), [0]);

    // --no-enrich: the same flows without any of it
    const plain = await replay(['-c', cfg, '--no-enrich', '--format', FORMAT,
      '-o', 'stdout', path.join(dir, 'flows.log')]);
    assert.strictEqual(plain.status, 0, plain.stderr);
    assert.doesNotMatch(plain.stdout, /_addr_internal|_addr_entity|_threat_/);
  } finally {
    await ec2.close();
    await lists.close();
  }
});

// gen_corpus's internal address of host h (bench/gen_corpus.c)
const corpusHost = (h) => `10.${Math.floor(h / 250) % 4}.${Math.floor(h / 50) % 5 + 1}.${h % 250 + 2}`;

test('the entity table refreshes in the background; a failed refresh keeps the last one', async () => {
  const dir = h.tmpdir('enrich-entities');
  // hosts 0..299 of the corpus: EC2 instances first, RDS after the change
  const version = (kind) => buildInterfacesXml(Array.from({ length: 300 }, (_, i) => (kind === 'ec2'
    ? { id: `eni-e${String(i).padStart(16, '0')}`, privateIp: corpusHost(i),
      instanceId: `i-${String(i).padStart(17, '0')}`, description: 'Primary network interface' }
    : { id: `eni-r${String(i).padStart(16, '0')}`, privateIp: corpusHost(i),
      description: 'RDSNetworkInterface', requesterId: 'amazon-rds', requesterManaged: true })));
  let mode = 'ec2';
  const ec2 = await startEc2Server({
    pages: () => (mode === 'fail'
      ? { status: 503, body: errorXml('Unavailable', 'The service is unavailable.') }
      : version(mode)),
    instances: [],
  });
  let run;
  try {
    h.setupStream(kin.url, 'enrich-entities', 1, dir, [[200, 41, 800000]]);
    const cfg = h.writeConfig(dir, kin.url, 'enrich-entities', {
      sections: `enrich:
  aws_entities:
    enabled: true
    endpoint: ${ec2.url}
    refresh: 1s
`,
      logLevel: 'debug',
    });
    run = startRun(cfg);
    const types = async (ids) => {
      await waitFor(`${ids.size} flows`, () => [...ids].every((id) => run.docs.has(id)));
      const seen = new Set();
      for (const id of ids) {
        const d = run.docs.get(id);
        for (const f of ['_src_addr', '_dst_addr']) {
          if (/^10\./.test(d[f] || '')) {
            assert.strictEqual(d[`${f}_internal`], 'true');
            seen.add(d[`${f}_entity_aws_type`]);
          }
        }
      }
      return [...seen].sort();
    };
    assert.deepStrictEqual(await types(h.idRange(800000, 200)), ['EC2']);
    // EC2 fails for a while: the table in use stays
    mode = 'fail';
    await waitFor('a failed refresh', () => /aws entities: us-east-1: .*keeping the last table \(300 interfaces\)/.test(run.stderr));
    h.putCorpus(kin.url, 'enrich-entities', dir, 100, 42, 810000);
    assert.deepStrictEqual(await types(h.idRange(810000, 100)), ['EC2']);
    // the interfaces change hands: the next refresh publishes them
    const before = count(run.stderr, 'new entities');
    mode = 'rds';
    await waitFor('the new table', () => count(run.stderr, 'new entities') > before);
    h.putCorpus(kin.url, 'enrich-entities', dir, 100, 43, 820000);
    assert.deepStrictEqual(await types(h.idRange(820000, 100)), ['RDS']);
    run.child.kill('SIGTERM');
    assert.strictEqual(await run.done, 0, run.stderr);
    assert.ok(ec2.requests.filter((q) => q.status === 503).length >= 2, 'failures were served');
  } finally {
    if (run) fs.writeFileSync(path.join(dir, 'vpcflowd.stderr'), run.stderr);
    if (run && run.exited === null) run.child.kill('SIGKILL');
    await ec2.close();
  }
});

test('a list server that never answers: SIGHUP does no harm and SIGTERM stops the start', async () => {
  const dir = h.tmpdir('enrich-hang');
  const net = require('node:net');
  const sockets = [];
  const hang = net.createServer((s) => sockets.push(s));
  await new Promise((r) => hang.listen(0, '127.0.0.1', r));
  try {
    const cfg = h.writeConfig(dir, kin.url, 'none', {
      sections: `enrich:\n  threat_lists:\n    - name: slow\n      url: http://127.0.0.1:${hang.address().port}/list.txt\n`,
    });
    const run = startRun(cfg);
    await waitFor('the list fetch', () => sockets.length > 0);
    run.child.kill('SIGHUP');
    await sleep(500);
    assert.strictEqual(run.exited, null, 'SIGHUP at start must not kill it');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.done;
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    assert.notStrictEqual(code, null, run.stderr);
  } finally {
    for (const s of sockets) s.destroy();
    hang.close();
  }
});

test('a GeoIP database that is not there stops the start with its name', () => {
  const dir = h.tmpdir('enrich-geoip-missing');
  const cfg = h.writeConfig(dir, kin.url, 'none', {
    sections: `enrich:\n  geoip:\n    city_db: ${dir}/GeoLite2-City.mmdb\n`,
  });
  const r = spawnSync(h.bin, ['replay', '-c', cfg, '-'], { input: '', encoding: 'utf8' });
  assert.strictEqual(r.status, 2, r.stderr);
  assert.match(r.stderr, /GeoLite2-City\.mmdb: .*No such file/);
});

