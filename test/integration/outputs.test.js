// vpcflowd run from kinesalite into each GELF output, checked by a receiver
// that applies Graylog's decoding rules (gelf-receiver.js): every flow
// arrives, and nothing Graylog would drop or mangle is sent.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const h = require('./harness');
const { startReceiver } = require('./gelf-receiver');
const { makeCerts } = require('./certs');

let kin;
test.before(async () => { kin = await h.startKinesis(); });
test.after(() => kin && kin.stop());

function idsOf(rx) {
  return rx.messages.map((m) => m.doc._aws_event_id);
}

function noViolations(rx) {
  assert.deepStrictEqual(rx.violations.slice(0, 5), [], 'the receiver saw GELF violations');
}

// One stream of n flows (ids from first), one vpcflowd run into `output`,
// until the receiver holds every id.
async function deliver(name, { shards = 1, n = 1000, first = 0, output, rx, kinesisLines, timeoutMs = 60000 }) {
  const dir = h.tmpdir(name);
  h.setupStream(kin.url, name, shards, dir, [[n, shards + first, first]]);
  const cfg = h.writeConfig(dir, kin.url, name, { output, kinesis: kinesisLines });
  const want = h.idRange(first, n);
  const run = await h.runVpcflowd(cfg, {
    done: () => new Set(idsOf(rx)).size >= n, timeoutMs,
  });
  return { run, want, dir };
}

for (const compression of ['none', 'gzip', 'zlib']) {
  test(`gelf_udp, forced chunking, compression ${compression}`, async () => {
    const rx = await startReceiver({ udp: true });
    try {
      // one record per GetRecords: bursts a loopback socket buffer holds
      const { run, want } = await deliver(`udp-${compression}`, {
        rx,
        kinesisLines: ['max_records: 1'],
        output: ['type: gelf_udp', 'host: 127.0.0.1', `port: ${rx.ports.udp}`,
          `compression: ${compression}`, 'chunk_size: 128'],
      });
      assert.strictEqual(run.code, 0, run.stderr);
      noViolations(rx);
      h.assertSameSet(idsOf(rx), want, 'udp');
      assert.ok(rx.stats.udpChunks > rx.messages.length, 'messages were chunked');
      const doc = rx.messages[0].doc;
      assert.strictEqual(doc.host, 'aws-flowlogs');
      assert.strictEqual(doc.version, '1.1');
    } finally {
      await rx.close();
    }
  });
}

test('gelf_tcp: every flow, checkpointed after acknowledgement', async () => {
  const rx = await startReceiver({ tcp: true });
  try {
    const { run, want, dir } = await deliver('tcp', {
      rx, shards: 2, n: 4000,
      output: ['type: gelf_tcp', 'host: 127.0.0.1', `port: ${rx.ports.tcp}`],
    });
    assert.strictEqual(run.code, 0, run.stderr);
    noViolations(rx);
    h.assertSameSet(idsOf(rx), want, 'tcp');
    assert.ok(fs.readdirSync(path.join(dir, 'checkpoints', 'tcp')).length >= 1);
  } finally {
    await rx.close();
  }
});

test('gelf_tcp over TLS: verified delivery; a certificate for another name is refused', async () => {
  const certs = makeCerts(h.tmpdir('certs'));
  const good = await startReceiver({ tls: { key: certs.serverKey, cert: certs.serverCert } });
  try {
    const { run, want } = await deliver('tls', {
      rx: good, n: 2000,
      output: ['type: gelf_tcp', 'host: 127.0.0.1', `port: ${good.ports.tcp}`,
        'tls:', '  enabled: true', `  ca_file: ${certs.caCert}`],
    });
    assert.strictEqual(run.code, 0, run.stderr);
    noViolations(good);
    h.assertSameSet(idsOf(good), want, 'tls');
  } finally {
    await good.close();
  }

  const wrong = await startReceiver({ tls: { key: certs.wrongKey, cert: certs.wrongCert } });
  try {
    const dir = h.tmpdir('tls-wrong');
    h.setupStream(kin.url, 'tls-wrong', 1, dir, [[200, 9, 0]]);
    const cfg = h.writeConfig(dir, kin.url, 'tls-wrong', {
      output: ['type: gelf_tcp', 'host: 127.0.0.1', `port: ${wrong.ports.tcp}`,
        'tls:', '  enabled: true', `  ca_file: ${certs.caCert}`],
    });
    const run = await h.runVpcflowd(cfg, { timeoutMs: 3000 });
    assert.strictEqual(run.code, 0, run.stderr);
    assert.match(run.stderr, /certificate refused: .*(mismatch|IP address)/i);
    assert.strictEqual(wrong.messages.length, 0, 'nothing sent to the wrong server');
    // nothing acknowledged, so nothing checkpointed: the next run reads it all
    assert.ok(!fs.existsSync(path.join(dir, 'checkpoints', 'tls-wrong')) ||
      fs.readdirSync(path.join(dir, 'checkpoints', 'tls-wrong')).length === 0);
  } finally {
    await wrong.close();
  }
});

test('gelf_http with gzip, retrying 5xx answers', async () => {
  const rx = await startReceiver({ http: true, httpFail: { first: 3, status: 503 } });
  try {
    const { run, want } = await deliver('http', {
      rx, n: 1500,
      output: ['type: gelf_http', `url: http://127.0.0.1:${rx.ports.http}/gelf`,
        'compression: gzip'],
    });
    assert.strictEqual(run.code, 0, run.stderr);
    noViolations(rx);
    h.assertSameSet(idsOf(rx), want, 'http');
    assert.strictEqual(rx.stats.httpFailed, 3);
  } finally {
    await rx.close();
  }
});

test('gelf_http bulk: many messages a request, one a line', async () => {
  const rx = await startReceiver({ http: true, httpBulk: true });
  try {
    const { run, want } = await deliver('http-bulk', {
      rx, n: 3000,
      output: ['type: gelf_http', `url: http://127.0.0.1:${rx.ports.http}/gelf`,
        'bulk_max_size: 64KiB'],
    });
    assert.strictEqual(run.code, 0, run.stderr);
    noViolations(rx);
    h.assertSameSet(idsOf(rx), want, 'http bulk');
    assert.ok(rx.stats.httpRequests < 3000 / 10, `${rx.stats.httpRequests} requests`);
    assert.ok(rx.stats.httpMaxBody <= 64 * 1024, 'bodies within Graylog\'s default 64 KiB');
  } finally {
    await rx.close();
  }
});

// The receiver as its own process, writing each message to a file as it
// reads it, so it can be killed with SIGKILL.
function receiverProcess(port, out) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'gelf-receiver.js'),
      '--tcp', String(port), '--out', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    readline.createInterface({ input: child.stdout }).once('line', (l) => {
      resolve({ child, ports: JSON.parse(l), errors: () => err });
    });
    child.once('exit', (code) => reject(new Error(`receiver exited ${code}: ${err}`)));
  });
}

// The ids in the receiver's file; the last line may be half written
// while the test reads it.
function fileIds(file) {
  if (!fs.existsSync(file)) return [];
  const ids = [];
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    try {
      ids.push(JSON.parse(l).doc._aws_event_id);
    } catch (_) { /* an empty or partial last line */ }
  }
  return ids;
}

test('gelf_tcp: the receiver killed and restarted mid-stream loses no flow', async () => {
  const dir = h.tmpdir('tcp-kill');
  const out = path.join(dir, 'received.jsonl');
  const n = 30000;
  h.setupStream(kin.url, 'tcp-kill', 2, dir, [[n, 21, 0]]);
  let rx = await receiverProcess(0, out);
  const port = rx.ports.tcp;
  const cfg = h.writeConfig(dir, kin.url, 'tcp-kill', {
    output: ['type: gelf_tcp', 'host: 127.0.0.1', `port: ${port}`],
  });
  let killed = false;
  let restarted = null;
  let back = false;
  const run = await h.runVpcflowd(cfg, {
    timeoutMs: 90000,
    done: () => {
      const got = fileIds(out);
      if (!killed && got.length >= 5000) {
        killed = true;
        rx.child.kill('SIGKILL');
        // down for a second, then back on the same port
        restarted = new Promise((r) => setTimeout(r, 1000))
          .then(() => receiverProcess(port, out)).then((p) => { rx = p; back = true; });
      }
      return back && new Set(got).size >= n;
    },
  });
  await restarted;
  const errors = rx.errors();
  rx.child.kill('SIGTERM');
  assert.strictEqual(run.code, 0, run.stderr);
  assert.strictEqual(errors, '', 'violations');
  h.assertSameSet(fileIds(out), h.idRange(0, n), 'across the receiver restart');
  assert.match(run.stderr, /gelf_tcp 127\.0\.0\.1:\d+: .*(reconnecting|retrying)/);
});
