// Self-test of the GELF receiver: it must flag every rule it claims to
// enforce (so a vpcflowd test can fail) and accept valid GELF on every
// transport (so it can pass). Everything on 127.0.0.1; takes a few seconds.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn, execFileSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const tls = require('node:tls');
const zlib = require('node:zlib');
const { startReceiver, checkPayload } = require('./gelf-receiver');
const { makeCerts } = require('./certs');

const HOST = '127.0.0.1';
const CLI = path.join(__dirname, 'gelf-receiver.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tmpdir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vf-${name}-`));
}

function gelf(extra = {}) {
  return { version: '1.1', host: 'aws-flowlogs', short_message: 'eni-1 ACCEPT TCP 10.0.0.1:1 -> 10.0.0.2:2', timestamp: 1700000000.123, level: 6, ...extra };
}

function json(doc) {
  return Buffer.from(JSON.stringify(doc));
}

// ------------------------------------------------------------------ senders

const udpClient = dgram.createSocket('udp4');
test.after(() => udpClient.close());

function sendUdp(port, buf) {
  return new Promise((resolve, reject) => udpClient.send(buf, port, HOST, (e) => (e ? reject(e) : resolve())));
}

function chunkHeader(id, seq, count) {
  return Buffer.concat([Buffer.from([0x1e, 0x0f]), id, Buffer.from([seq, count])]);
}

// Splits payload into n GELF chunks (as Buffers, in sequence order).
function chunks(payload, n, id = Buffer.from('0011223344556677', 'hex')) {
  const size = Math.ceil(payload.length / n);
  const out = [];
  for (let i = 0; i < n; i++) out.push(Buffer.concat([chunkHeader(id, i, n), payload.subarray(i * size, (i + 1) * size)]));
  return out;
}

// Writes data in pieces of the given sizes (cycled), with a pause between
// them, so frames and their 0 bytes straddle TCP segments.
async function writeSplit(sock, data, sizes) {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length];
    sock.write(data.subarray(off, off + n));
    off += n;
    await sleep(2);
  }
}

function connectTcp(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST, () => resolve(s));
    s.once('error', reject);
  });
}

function endSocket(s) {
  return new Promise((resolve) => {
    s.on('close', resolve);
    s.end();
  });
}

function post(port, { path: p = '/gelf', method = 'POST', body = Buffer.alloc(0), headers = {}, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, path: p, method, agent, headers: { 'content-length': body.length, ...headers } }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A receiver closed after the test even when an assertion fails first, so a
// failing self-test cannot hang on open sockets.
async function start(t, opts) {
  const rx = await startReceiver(opts);
  t.after(() => rx.close());
  return rx;
}

function rules(rx) {
  return rx.violations.map((v) => v.rule);
}

// ------------------------------------------------------------------ message rules

// Each case is sent as one UDP datagram: [name, payload, rule or null].
const longId = '_' + 'a'.repeat(10);
const CASES = [
  ['valid message', json(gelf({ _src_addr: '10.0.0.1', _bytes: 1234, '_x.y@z-w_v': 'ok', [longId]: 0.5 })), null],
  ['valid without optional fields', json({ version: '1.1', host: 'h', short_message: 'm' }), null],
  ['trailing white space is fine', Buffer.from(`${JSON.stringify(gelf())}\n`), null],
  ['not JSON', Buffer.from('hello graylog'), 'json'],
  ['truncated JSON', Buffer.from('{"version":"1.1","host":"h"'), 'json'],
  ['two documents', Buffer.from(JSON.stringify(gelf()) + JSON.stringify(gelf())), 'trailing-data'],
  ['trailing garbage', Buffer.from(`${JSON.stringify(gelf())} x`), 'trailing-data'],
  ['array', Buffer.from(`[${JSON.stringify(gelf())}]`), 'not-object'],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"version":"1.1","host":"h","short_message":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'utf8'],
  ['version missing', json({ host: 'h', short_message: 'm' }), 'version'],
  ['version 1.0', json(gelf({ version: '1.0' })), 'version'],
  ['version as number', json(gelf({ version: 1.1 })), 'version'],
  ['host missing', json({ version: '1.1', short_message: 'm' }), 'host'],
  ['host blank', json(gelf({ host: '  ' })), 'host'],
  ['host empty', json(gelf({ host: '' })), 'host'],
  ['host a number', json(gelf({ host: 5 })), 'host'],
  ['short_message missing', json({ version: '1.1', host: 'h' }), 'short_message'],
  ['short_message blank', json(gelf({ short_message: '\t' })), 'short_message'],
  ['short_message an object', json(gelf({ short_message: { a: 1 } })), 'short_message'],
  ['timestamp a string', json(gelf({ timestamp: '1700000000' })), 'timestamp'],
  ['timestamp zero', json(gelf({ timestamp: 0 })), 'timestamp'],
  ['timestamp negative', json(gelf({ timestamp: -1 })), 'timestamp'],
  ['timestamp in milliseconds', json(gelf({ timestamp: 1700000000123 })), 'timestamp'],
  ['level a fraction', json(gelf({ level: 1.5 })), 'level'],
  ['level a string', json(gelf({ level: '6' })), 'level'],
  ['level negative', json(gelf({ level: -1 })), 'level'],
  ['key without underscore', json(gelf({ src_addr: '10.0.0.1' })), 'key-name'],
  ['full_message is not one of ours', json(gelf({ full_message: 'x' })), 'key-name'],
  ['key "_" alone', json(gelf({ _: 'x' })), 'key-name'],
  ['key with a space', json(gelf({ '_a b': 'x' })), 'key-name'],
  ['key with a non-ASCII letter', json(gelf({ '_caf\u00e9': 'x' })), 'key-name'],
  ['key with a slash', json(gelf({ '_a/b': 'x' })), 'key-name'],
  ['_id', json(gelf({ _id: 'x' })), 'key-id'],
  ['_source (collides with host)', json(gelf({ _source: 'x' })), 'key-reserved'],
  ['_message (collides with short_message)', json(gelf({ _message: 'x' })), 'key-reserved'],
  ['duplicate key', Buffer.from('{"version":"1.1","host":"h","short_message":"m","_a":"1","_a":"2"}'), 'duplicate-key'],
  ['duplicate key via an escape', Buffer.from('{"version":"1.1","host":"h","short_message":"m","_a":"1","\\u005fa":"2"}'), 'duplicate-key'],
  ['duplicate standard key', Buffer.from('{"version":"1.1","host":"h","host":"h2","short_message":"m"}'), 'duplicate-key'],
  ['boolean value', json(gelf({ _flag: true })), 'value-type'],
  ['null value', json(gelf({ _n: null })), 'value-type'],
  ['object value', json(gelf({ _o: { a: 1 } })), 'value-type'],
  ['array value', json(gelf({ _l: [1] })), 'value-type'],
  ['number out of range', Buffer.from('{"version":"1.1","host":"h","short_message":"m","_big":1e400}'), 'value-type'],
  ['empty string value', json(gelf({ _e: '' })), 'value-blank'],
  ['leading space', json(gelf({ _s: ' x' })), 'value-untrimmed'],
  ['trailing newline', json(gelf({ _s: 'x\n' })), 'value-untrimmed'],
  ['control character at the end (Java trim)', json(gelf({ _s: 'x\u0001' })), 'value-untrimmed'],
  ['no-break space (JS trim)', json(gelf({ _s: '\u00a0x' })), 'value-untrimmed'],
];

test('message rules: every violation is flagged, valid messages are not', async (t) => {
  const rx = await start(t, { udp: true });
  for (const [name, payload, rule] of CASES) {
    const before = { m: rx.messages.length, v: rx.violations.length };
    await sendUdp(rx.ports.udp, payload);
    await rx.waitFor((m, r) => m.length > before.m || r.violations.length > before.v, 2000);
    const got = rx.violations.slice(before.v);
    if (rule === null) {
      assert.deepStrictEqual(got, [], name);
      assert.strictEqual(rx.messages.length, before.m + 1, name);
    } else {
      assert.deepStrictEqual(got.map((v) => v.rule), [rule], `${name}: ${JSON.stringify(got)}`);
      assert.strictEqual(got[0].transport, 'udp');
      // the violation shows the start of the payload
      assert.ok(got[0].sample.startsWith(JSON.stringify(payload.toString('latin1').slice(0, 10)).slice(0, -1)), name);
    }
  }
  // a parsed message is recorded as Graylog would take it
  assert.strictEqual(rx.messages[0].transport, 'udp');
  assert.strictEqual(rx.messages[0].doc._bytes, 1234);
  // with trailing data, Graylog keeps the first document
  const two = checkPayload('{"version":"1.1","host":"first","short_message":"m"}{"host":"second"}');
  assert.strictEqual(two.doc.host, 'first');
  assert.deepStrictEqual(two.problems.map((p) => p[0]), ['trailing-data']);
  await rx.close();
});

test('several violations in one message are all named', async (t) => {
  const rx = await start(t, { udp: true });
  await sendUdp(rx.ports.udp, json({ host: '', short_message: 'm', _ok: 'x', bad: true, _e: '' }));
  await rx.waitFor((m) => m.length === 1);
  await rx.close();
  assert.deepStrictEqual(rules(rx).sort(), ['host', 'key-name', 'value-blank', 'version']);
});

// ------------------------------------------------------------------ UDP

test('UDP: chunked out of order, gzip, zlib, chunked gzip', async (t) => {
  const rx = await start(t, { udp: 0 });
  const port = rx.ports.udp;
  const big = json(gelf({ _pad: 'p'.repeat(3000), _n: 1 }));
  const parts = chunks(big, 3, Buffer.from('a1a2a3a4a5a6a7a8', 'hex'));
  for (const i of [2, 0, 1]) await sendUdp(port, parts[i]);
  await sendUdp(port, zlib.gzipSync(json(gelf({ _n: 2 }))));
  await sendUdp(port, zlib.deflateSync(json(gelf({ _n: 3 }))));
  await sendUdp(port, zlib.deflateSync(json(gelf({ _n: 4 })), { level: 1 })); // 78 01
  await sendUdp(port, zlib.deflateSync(json(gelf({ _n: 5 })), { level: 9 })); // 78 da
  const gz = chunks(zlib.gzipSync(json(gelf({ _n: 6, _pad: 'q'.repeat(5000) }))), 2, Buffer.from('b1b2b3b4b5b6b7b8', 'hex'));
  await sendUdp(port, gz[1]);
  await sendUdp(port, gz[0]);
  await sendUdp(port, chunks(json(gelf({ _n: 7 })), 1, Buffer.from('c1c2c3c4c5c6c7c8', 'hex'))[0]);
  await rx.waitFor((m) => m.length === 7);
  await rx.close();
  assert.deepStrictEqual(rx.violations, []);
  assert.deepStrictEqual(rx.messages.map((m) => m.doc._n).sort(), [1, 2, 3, 4, 5, 6, 7]);
  assert.strictEqual(rx.messages.find((m) => m.doc._n === 1).doc._pad.length, 3000);
  assert.strictEqual(rx.stats.udpChunks, 6);
});

test('UDP: duplicate chunks, bad headers, reused ids, incomplete messages', async (t) => {
  const rx = await start(t, { udp: true, chunkTimeoutMs: 150 });
  const port = rx.ports.udp;
  const id = (n) => Buffer.alloc(8, n);
  const p = chunks(json(gelf({ _n: 1 })), 2, id(1));
  await sendUdp(port, p[0]);
  await sendUdp(port, p[0]);
  await sendUdp(port, p[1]);
  await rx.waitFor((m) => m.length === 1);
  await sendUdp(port, p[1]); // after completion: a duplicate as well
  await sendUdp(port, Buffer.concat([chunkHeader(id(2), 0, 129), Buffer.from('{}')]));
  await sendUdp(port, Buffer.concat([chunkHeader(id(3), 0, 0), Buffer.from('{}')]));
  await sendUdp(port, Buffer.concat([chunkHeader(id(4), 3, 3), Buffer.from('{}')]));
  await sendUdp(port, Buffer.from([0x1e, 0x0f, 1, 2, 3]));
  const q = chunks(json(gelf({ _n: 2 })), 3, id(5));
  await sendUdp(port, q[0]);
  await sendUdp(port, q[2]);
  await rx.waitFor((m, r) => r.violations.some((v) => v.rule === 'chunk-incomplete'), 2000);
  await rx.close();
  assert.deepStrictEqual(rules(rx), ['chunk-duplicate', 'chunk-duplicate', 'chunk-count', 'chunk-count',
    'chunk-seq', 'chunk-header', 'chunk-incomplete']);
  assert.match(rx.violations[6].detail, /incomplete chunked message 0505050505050505: .*\[0,2\] of 3/);
  assert.strictEqual(rx.messages.length, 1);
});

test('UDP: chunks still missing when the receiver closes are reported', async (t) => {
  const rx = await start(t, { udp: true });
  await sendUdp(rx.ports.udp, chunks(json(gelf()), 2)[0]);
  await rx.waitFor(() => rx.stats.udpChunks === 1);
  await rx.close();
  assert.deepStrictEqual(rules(rx), ['chunk-incomplete']);
});

test('UDP: decompressed size limit and corrupt compression', async (t) => {
  const rx = await start(t, { udp: true });
  const huge = zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024 + 1, 0x20));
  assert.ok(huge.length < 60000);
  await sendUdp(rx.ports.udp, huge);
  await sendUdp(rx.ports.udp, Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]));
  await rx.waitFor((m, r) => r.violations.length === 2);
  await rx.close();
  assert.deepStrictEqual(rules(rx), ['size', 'decompress']);
});

// ------------------------------------------------------------------ TCP

function frames(n, from = 0) {
  const out = [];
  for (let i = from; i < from + n; i++) out.push(json(gelf({ _n: i, _pad: 'x'.repeat(1 + i * 37) })), Buffer.from([0]));
  return Buffer.concat(out);
}

test('TCP: frames split across writes', async (t) => {
  const rx = await start(t, { tcp: true });
  const s = await connectTcp(rx.ports.tcp);
  await writeSplit(s, frames(5), [1, 7, 100, 3, 250]);
  await endSocket(s);
  await rx.waitFor((m) => m.length === 5);
  await rx.close();
  assert.deepStrictEqual(rx.violations, []);
  assert.deepStrictEqual(rx.messages.map((m) => m.doc._n), [0, 1, 2, 3, 4]);
  assert.ok(rx.messages.every((m) => m.transport === 'tcp'));
});

test('TCP: truncated, compressed, empty and oversized frames', async (t) => {
  const rx = await start(t, { tcp: true });
  let s = await connectTcp(rx.ports.tcp);
  s.write(Buffer.concat([frames(1), Buffer.from('{"version":"1.1"')]));
  await endSocket(s);
  await rx.waitFor((m, r) => r.violations.length === 1);
  assert.deepStrictEqual(rules(rx), ['tcp-truncated']);

  s = await connectTcp(rx.ports.tcp);
  // gzip has 0 bytes in it: only its first frame is the point here
  s.write(Buffer.concat([zlib.gzipSync(json(gelf())), Buffer.from([0])]));
  await endSocket(s);
  await rx.waitFor((m, r) => r.violations.some((v) => v.rule === 'tcp-compressed'));

  const n = rx.violations.length;
  s = await connectTcp(rx.ports.tcp);
  s.write(Buffer.concat([frames(1, 10), Buffer.from([0]), frames(1, 11)]));
  await endSocket(s);
  await rx.waitFor((m) => m.some((x) => x.doc._n === 11));
  assert.deepStrictEqual(rules(rx).slice(n), ['tcp-empty-frame']);

  s = await connectTcp(rx.ports.tcp);
  const over = Buffer.alloc(2 * 1024 * 1024 + 10, 0x41);
  await writeSplit(s, Buffer.concat([over, Buffer.from([0]), frames(1, 12)]), [65536]);
  await endSocket(s);
  await rx.waitFor((m) => m.some((x) => x.doc._n === 12));
  await rx.close();
  assert.deepStrictEqual(rules(rx).slice(n), ['tcp-empty-frame', 'tcp-frame-size']);
});

// ------------------------------------------------------------------ TLS

let certs;
test.before(() => { certs = makeCerts(tmpdir('certs')); });

function connectTls(port, extra = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, ca: fs.readFileSync(certs.caCert), ...extra }, () => resolve(s));
    s.once('error', reject);
  });
}

test('certs: OpenSSL 3 accepts them strictly', () => {
  for (const [cert, purpose] of [[certs.serverCert, 'sslserver'], [certs.wrongCert, 'sslserver'], [certs.clientCert, 'sslclient']]) {
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', purpose, '-CAfile', certs.caCert, cert], { encoding: 'utf8' });
    assert.match(out, /: OK/);
  }
  const text = execFileSync('openssl', ['x509', '-in', certs.serverCert, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
  assert.match(text, /IP Address:127\.0\.0\.1, DNS:localhost/);
});

test('TLS: frames split across writes, verified against the test CA', async (t) => {
  const rx = await start(t, { tcp: true, tls: { key: certs.serverKey, cert: certs.serverCert } });
  const s = await connectTls(rx.ports.tcp);
  assert.ok(s.authorized);
  await writeSplit(s, frames(4), [5, 64, 2]);
  await endSocket(s);
  await rx.waitFor((m) => m.length === 4);
  await rx.close();
  assert.deepStrictEqual(rx.violations, []);
  assert.deepStrictEqual(rx.messages.map((m) => m.doc._n), [0, 1, 2, 3]);
});

test('TLS: a client checking the host name refuses the wrong certificate', async (t) => {
  const rx = await start(t, { tcp: true, tls: { key: certs.wrongKey, cert: certs.wrongCert } });
  await assert.rejects(connectTls(rx.ports.tcp), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  await rx.close();
});

test('TLS: client certificates when requested', async (t) => {
  const rx = await start(t, {
    tcp: true, tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.caCert, requestCert: true },
  });
  const s = await connectTls(rx.ports.tcp, { key: fs.readFileSync(certs.clientKey), cert: fs.readFileSync(certs.clientCert) });
  s.write(frames(1));
  await endSocket(s);
  await rx.waitFor((m) => m.length === 1);
  // without one the server ends the handshake (TLS 1.3 reports it on first read)
  const bare = await connectTls(rx.ports.tcp).catch((e) => e);
  if (!(bare instanceof Error)) {
    await new Promise((resolve) => { bare.on('error', resolve); bare.on('close', resolve); bare.write(frames(1, 1)); });
  }
  await rx.waitFor(() => rx.stats.tlsErrors === 1);
  await rx.close();
  assert.strictEqual(rx.messages.length, 1);
  assert.deepStrictEqual(rx.violations, []);
});

// ------------------------------------------------------------------ HTTP

test('HTTP: plain, gzip, deflate, keep-alive', async (t) => {
  const rx = await start(t, { http: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = rx.ports.http;
  const answers = [
    await post(port, { body: json(gelf({ _n: 1 })), agent }),
    await post(port, { body: zlib.gzipSync(json(gelf({ _n: 2, _pad: 'z'.repeat(70000) }))), headers: { 'content-encoding': 'gzip' }, agent }),
    await post(port, { body: zlib.deflateSync(json(gelf({ _n: 3 }))), headers: { 'content-encoding': 'deflate' }, agent }),
    await post(port, { body: zlib.gzipSync(json(gelf({ _n: 4 }))), agent }), // detected without a header
  ];
  agent.destroy();
  await rx.close();
  assert.deepStrictEqual(answers, Array(4).fill({ status: 202, body: '' }));
  assert.deepStrictEqual(rx.violations, []);
  assert.deepStrictEqual(rx.messages.map((m) => m.doc._n), [1, 2, 3, 4]);
  assert.strictEqual(rx.stats.httpConnections, 1, 'one keep-alive connection');
  assert.strictEqual(rx.stats.httpRequests, 4);
  assert.ok(rx.stats.httpMaxBody > 70000);
});

test('HTTP: wrong path, wrong method, bad content', async (t) => {
  const rx = await start(t, { http: 0 });
  const port = rx.ports.http;
  assert.strictEqual((await post(port, { path: '/', body: json(gelf()) })).status, 404);
  assert.strictEqual((await post(port, { path: '/gelf', method: 'PUT', body: json(gelf()) })).status, 405);
  assert.strictEqual((await post(port, { path: '/gelf', method: 'GET' })).status, 405);
  assert.strictEqual((await post(port, { body: json(gelf({ _b: false })) })).status, 202);
  assert.strictEqual((await post(port, { body: json(gelf()), headers: { 'content-encoding': 'br' } })).status, 400);
  await rx.close();
  assert.deepStrictEqual(rules(rx), ['http-path', 'http-method', 'http-method', 'value-type', 'http-encoding']);
  assert.strictEqual(rx.violations[3].transport, 'http');
});

test('HTTP: httpFail answers the first N POSTs with an error', async (t) => {
  const rx = await start(t, { http: true, httpFail: { first: 2, status: 503 } });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await post(rx.ports.http, { body: json(gelf({ _n: i })) })).status);
  await rx.close();
  assert.deepStrictEqual(statuses, [503, 503, 202]);
  assert.deepStrictEqual(rx.messages.map((m) => m.doc._n), [2]);
  assert.strictEqual(rx.stats.httpRequests, 3);
  assert.strictEqual(rx.stats.httpFailed, 2);
  assert.deepStrictEqual(rx.violations, []);
});

// ------------------------------------------------------------------ CLI

function startCli(t, args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL')); // harmless once it has exited
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  const ports = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l)));
    exited.then((r) => reject(new Error(`gelf-receiver exited: ${JSON.stringify(r)}`)));
  });
  return { child, ports, exited };
}

function outLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function waitLines(file, n) {
  for (let i = 0; i < 200 && outLines(file).length < n; i++) await sleep(10);
  return outLines(file);
}

test('CLI: SIGKILL loses nothing it read; restart on the same TCP port', async (t) => {
  const out = path.join(tmpdir('cli'), 'messages.jsonl');
  const a = startCli(t, ['--tcp', '0', '--udp', '0', '--http', '0', '--out', out]);
  const ports = await a.ports;
  assert.ok(ports.tcp > 0 && ports.udp > 0 && ports.http > 0);
  const s = await connectTcp(ports.tcp);
  s.on('error', () => {});
  t.after(() => s.destroy());
  s.write(frames(2));
  await sendUdp(ports.udp, json(gelf({ _n: 'udp' })));
  await waitLines(out, 3);
  // a 202 means the message is on disk already: kill right after it
  assert.strictEqual((await post(ports.http, { body: json(gelf({ _n: 'http' })) })).status, 202);
  a.child.kill('SIGKILL');
  assert.strictEqual((await a.exited).signal, 'SIGKILL');
  const lines = outLines(out);
  assert.deepStrictEqual(lines.map((l) => `${l.transport}:${l.doc._n}`).sort(), ['http:http', 'tcp:0', 'tcp:1', 'udp:udp']);

  // the old connection is in TIME_WAIT or reset; the port must bind again
  const b = startCli(t, ['--tcp', String(ports.tcp), '--out', out]);
  assert.strictEqual((await b.ports).tcp, ports.tcp);
  const s2 = await connectTcp(ports.tcp);
  s2.write(frames(1, 7));
  s2.write(json(gelf({ _bad: null })));
  s2.write(Buffer.from([0]));
  await endSocket(s2);
  await waitLines(out, 6);
  b.child.stdin.end(); // stdin closing stops it; a violation makes it exit 1
  const r = await b.exited;
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /GELF violation \[tcp\] value-type: _bad is a null/);
  assert.strictEqual(outLines(out).length, 6);
});

test('CLI: SIGTERM with no violation exits 0', async (t) => {
  const c = startCli(t, ['--udp', '0']);
  const ports = await c.ports;
  assert.deepStrictEqual(Object.keys(ports), ['udp', 'tcp', 'http']);
  c.child.kill('SIGTERM');
  const r = await c.exited;
  assert.strictEqual(r.code, 0, r.stderr);
});
