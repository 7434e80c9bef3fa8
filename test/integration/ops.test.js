// Operating vpcflowd: /metrics after a known workload, /healthz turning 503
// when the output stays down past output.retry_budget (and 200 again once it
// is back), SIGHUP reloads while flows arrive, and check-config. Started by
// meson (suite "integration"); everything on 127.0.0.1.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./harness');
const { kinesisCall, splitGzipMembers } = require('../emulators/common');

let kin;
test.before(async () => { kin = await h.startKinesis(); });
test.after(() => kin && kin.stop());

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function get(port, p, opts = {}) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`, opts);
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

// The exposition text as { 'name{label="v"}': value }, checking its shape:
// every sample's family has HELP and TYPE lines before it.
function parseMetrics(text) {
  const out = {};
  const typed = new Set();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        assert.match(m[3], /^(counter|gauge)$/, line);
        typed.add(m[2]);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+="(?:[^"\\]|\\.)*"\})? (-?[0-9.e+]+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    assert.ok(typed.has(m[1]), `${m[1]} has no TYPE line before it`);
    out[m[1] + (m[2] || '')] = Number(m[3]);
  }
  return out;
}

// Sum of a family's samples (every label value).
function total(metrics, name) {
  return Object.entries(metrics)
    .filter(([k]) => k === name || k.startsWith(name + '{'))
    .reduce((a, [, v]) => a + v, 0);
}

async function until(ms, probe) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await probe();
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

function putRaw(stream, data) {
  return kinesisCall(kin.url, 'PutRecord', {
    StreamName: stream, PartitionKey: 'bad', Data: Buffer.from(data).toString('base64'),
  });
}

test('metrics after a known workload, and the endpoints', async () => {
  const dir = h.tmpdir('metrics');
  h.setupStream(kin.url, 'metrics', 2, dir, [[2000, 21, 700000]]);
  // one record that is not gzip past its magic: a parse error of kind gzip
  await putRaw('metrics', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
  const records = (await kinesisCall(kin.url, 'ListShards', { StreamName: 'metrics' })).Shards;
  const port = await freePort();
  const cfg = h.writeConfig(dir, kin.url, 'metrics', { metricsListen: `127.0.0.1:${port}` });
  let state;
  const running = h.runVpcflowd(cfg, { keepDocs: true, onStart: (s) => { state = s; }, timeoutMs: 60000 });
  try {
    const r = await until(30000, async () => {
      try {
        const m = parseMetrics((await get(port, '/metrics')).text);
        return { ok: total(m, 'vpcflowd_flows_total') === 2000
          && total(m, 'vpcflowd_parse_errors_total') === 1
          && m.vpcflowd_checkpoints_total >= 2, m };
      } catch (e) {
        return { ok: false, e };
      }
    });
    assert.ok(r.ok, `metrics never reached the workload: ${JSON.stringify(r.m || String(r.e))}`);
    const m = r.m;
    // what the stdout output printed agrees with the counters
    const byStatus = {};
    for (const d of state.all) byStatus[d._log_status] = (byStatus[d._log_status] || 0) + 1;
    assert.strictEqual(state.all.length, 2000);
    for (const s of ['OK', 'NODATA', 'SKIPDATA']) {
      assert.strictEqual(m[`vpcflowd_flows_total{log_status="${s}"}`], byStatus[s] || 0, s);
    }
    assert.strictEqual(m['vpcflowd_parse_errors_total{kind="gzip"}'], 1);
    assert.strictEqual(m['vpcflowd_output_messages_total{output="stdout"}'], 2000);
    assert.strictEqual(m['vpcflowd_output_errors_total{output="stdout"}'], 0);
    assert.strictEqual(m.vpcflowd_shards_owned, 2);
    assert.strictEqual(m.vpcflowd_up, 1);
    // one series per shard; records: the corpus' members plus the bad one
    for (const s of records) {
      assert.ok(`vpcflowd_kinesis_records_total{shard="${s.ShardId}"}` in m, s.ShardId);
      assert.ok(`vpcflowd_kinesis_millis_behind_latest{shard="${s.ShardId}"}` in m, s.ShardId);
    }
    const stored = fs.readdirSync(dir).filter((f) => f.endsWith('.gz'));
    assert.strictEqual(stored.length, 1);
    const members = splitGzipMembers(fs.readFileSync(path.join(dir, stored[0]))).length;
    assert.strictEqual(total(m, 'vpcflowd_kinesis_records_total'), members + 1);
    assert.ok(total(m, 'vpcflowd_kinesis_bytes_total') > 0);
    assert.strictEqual(m.vpcflowd_kinesis_throttled_total, 0);
    // the newest event time is the newest flow's
    const newest = Math.max(...state.all.map((d) => d.timestamp));
    assert.ok(Math.abs(m.vpcflowd_last_flow_timestamp_seconds - newest) <= 60,
      `last flow ${m.vpcflowd_last_flow_timestamp_seconds}, newest GELF timestamp ${newest}`);
    assert.ok(m.process_resident_memory_bytes > 1e6);
    assert.ok(m.process_open_fds > 3);
    assert.ok(Math.abs(m.process_start_time_seconds - Date.now() / 1000) < 120);

    const health = await get(port, '/healthz');
    assert.deepStrictEqual([health.status, health.text], [200, 'ok\n']);
    const metrics = await get(port, '/metrics');
    assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
    assert.strictEqual((await get(port, '/nothing')).status, 404);
    assert.strictEqual((await get(port, '/metrics', { method: 'POST', body: 'x' })).status, 405);
  } finally {
    state.stop();
  }
  const run = await running;
  assert.strictEqual(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
});

// A GELF TCP receiver we can take down and bring back on the same port.
function tcpReceiver(port) {
  const lines = [];
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\0')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    lines,
    stop: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  })));
}

test('/healthz: 503 once the output is down past retry_budget, 200 when it is back', async () => {
  const dir = h.tmpdir('health');
  h.setupStream(kin.url, 'health', 1, dir, [[500, 31, 710000]]);
  const port = await freePort();
  const gelfPort = await freePort();
  let rx = await tcpReceiver(gelfPort);
  const cfg = h.writeConfig(dir, kin.url, 'health', {
    metricsListen: `127.0.0.1:${port}`,
    output: ['type: gelf_tcp', 'host: 127.0.0.1', `port: ${gelfPort}`, 'retry_budget: 2s'],
  });
  let state;
  const running = h.runVpcflowd(cfg, { onStart: (s) => { state = s; }, timeoutMs: 90000 });
  const ids = new Set();
  try {
    const first = await until(30000, async () => ({ ok: rx.lines.length >= 500 }));
    assert.ok(first.ok, `${rx.lines.length} of 500 messages before the outage`);
    assert.strictEqual((await get(port, '/healthz')).status, 200);
    for (const l of rx.lines) ids.add(l._aws_event_id);

    await rx.stop();
    const downAt = Date.now();
    h.putCorpus(kin.url, 'health', dir, 500, 32, 710500);   // these meet a closed port
    const down = await until(30000, async () => {
      const r = await get(port, '/healthz');
      return { ok: r.status === 503, r };
    });
    const after = Date.now() - downAt;
    assert.ok(down.ok, `still ${down.r.status} ${after} ms into the outage`);
    assert.match(down.r.text, /^unhealthy: the output has been down for \d+ s\n$/);
    assert.ok(after >= 2000, `503 after ${after} ms, before the 2 s budget`);
    const m = parseMetrics((await get(port, '/metrics')).text);
    assert.strictEqual(m.vpcflowd_up, 0);
    assert.strictEqual(m['vpcflowd_output_down{output="gelf_tcp"}'], 1);

    rx = await tcpReceiver(gelfPort);
    const back = await until(30000, async () => {
      const r = await get(port, '/healthz');
      return { ok: r.status === 200 && rx.lines.length > 0, r };
    });
    assert.ok(back.ok, `not healthy again after the receiver came back: ${back.r.status}`);
    const all = await until(30000, async () => {
      for (const l of rx.lines) ids.add(l._aws_event_id);
      return { ok: ids.size >= 1000 };
    });
    assert.ok(all.ok, `${ids.size} of 1000 flows after the outage`);
    h.assertSameSet([...ids], new Set([...h.idRange(710000, 1000)]), 'across the outage');
  } finally {
    state.stop();
  }
  const run = await running;
  await rx.stop();
  assert.strictEqual(run.code, 0, run.stderr);
});

test('SIGHUP while flows arrive: lists and GeoIP reloaded, no flow dropped', async () => {
  const dir = h.tmpdir('hup');
  h.setupStream(kin.url, 'hup', 2, dir, [[1000, 41, 720000]]);
  const list = path.join(dir, 'bad.txt');
  fs.writeFileSync(list, '192.0.2.1\n');      // matches nothing in the corpus
  const maxmind = path.join(h.root, 'test', 'data', 'maxmind');
  const cfg = h.writeConfig(dir, kin.url, 'hup', {
    sections: `enrich:
  geoip:
    city_db: ${path.join(maxmind, 'GeoLite2-City-Test.mmdb')}
    asn_db: ${path.join(maxmind, 'GeoLite2-ASN-Test.mmdb')}
  threat_lists:
    - name: bad
      path: ${list}
      refresh: 1h
`,
  });
  let state;
  const running = h.runVpcflowd(cfg, { keepDocs: true, onStart: (s) => { state = s; }, timeoutMs: 90000 });
  try {
    assert.ok((await until(30000, async () => ({ ok: new Set(state.ids).size >= 1000 }))).ok);
    // reload three times while more flows come in; the last one lists
    // every IPv4 address
    const puts = [];
    for (let i = 0; i < 3; i++) {
      if (i === 2) fs.writeFileSync(list, '0.0.0.0/1\n128.0.0.0/1\n');
      state.kill('SIGHUP');
      puts.push(new Promise((r) => setImmediate(() => {
        h.putCorpus(kin.url, 'hup', dir, 500, 42 + i, 721000 + i * 500);
        r();
      })));
      await new Promise((r) => setTimeout(r, 700));
    }
    await Promise.all(puts);
    const want = h.idRange(720000, 1000);
    for (const id of h.idRange(721000, 1500)) want.add(id);
    const done = await until(30000, async () => ({ ok: new Set(state.ids).size >= want.size }));
    assert.ok(done.ok, `${new Set(state.ids).size} of ${want.size} flows`);
    h.assertSameSet(state.ids, want, 'flows across three reloads');
    // every document still carries GeoIP and the threat flags; after the
    // last reload (and a flush of the caches) the new list matches
    for (const d of state.all.filter((x) => x._src_addr)) {
      assert.ok('_src_addr_threat_indicated' in d, `threat flag on ${d._aws_event_id}`);
    }
    const hit = await until(20000, async () => {
      h.putCorpus(kin.url, 'hup', dir, 50, 49, 730000 + Math.floor(Math.random() * 1e5));
      await new Promise((r) => setTimeout(r, 500));
      return { ok: state.all.some((d) => d._src_addr_threat_indicated_bad === 'true') };
    });
    assert.ok(hit.ok, 'the reloaded list is used');
    assert.ok(state.all.some((d) => d._dst_addr_country_code || d._src_addr_country_code), 'GeoIP fields');
  } finally {
    state.stop();
  }
  const run = await running;
  assert.strictEqual(run.code, 0, run.stderr);
  // the reloads are logged (three SIGHUPs may fold into fewer reloads)
  assert.match(run.stderr, /enrich: reloading threat lists, GeoIP/);
  assert.match(run.stderr, /threat list bad: 2 entries/);
});

test('check-config: prints the effective configuration with secrets masked', () => {
  const dir = h.tmpdir('check');
  const file = path.join(dir, 'vpcflowd.yml');
  fs.writeFileSync(file, `aws:
  region: eu-west-1
  role_arn: arn:aws:iam::123456789012:role/reader
  external_id: very-secret-id
kinesis:
  stream: vpc-flow-logs
checkpoint:
  store: dynamodb
  failover: 60s
output:
  type: kafka
  kafka:
    brokers: 127.0.0.1:9092
    topic: flows
    properties:
      sasl.username: reader
      sasl.password: hunter2
metrics:
  listen: 0.0.0.0:9108
`);
  const out = execFileSync(h.bin, ['check-config', '-c', file], { encoding: 'utf8' });
  assert.ok(!out.includes('very-secret-id') && !out.includes('hunter2'), out);
  assert.match(out, /external_id: "\*\*\*"/);
  assert.match(out, /"sasl\.password": "\*\*\*"/);
  assert.match(out, /"sasl\.username": "reader"/);
  assert.match(out, /table: "vpcflowd-vpc-flow-logs"/);   // the default, filled in
  assert.match(out, /failover: 1m/);
  assert.match(out, /retry_budget: 1m/);
  assert.match(out, /listen: "0\.0\.0\.0:9108"/);
  // what it prints loads again, to the same print
  const again = path.join(dir, 'printed.yml');
  fs.writeFileSync(again, out);
  assert.strictEqual(execFileSync(h.bin, ['check-config', '-c', again], { encoding: 'utf8' }), out);
  // a mistake: exit 2, the file, line and key
  fs.writeFileSync(file, 'output:\n  type: gelf_tcp\n  retry_budget: soon\n');
  const bad = spawnSync(h.bin, ['check-config', '-c', file], { encoding: 'utf8' });
  assert.strictEqual(bad.status, 2);
  assert.match(bad.stderr, /vpcflowd\.yml:3: output\.retry_budget: /);
});
