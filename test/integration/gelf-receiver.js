// A GELF receiver for the tests: UDP (chunked, gzip, zlib), TCP (plain or
// TLS, 0-byte framed) and HTTP (POST /gelf), decoded the way Graylog decodes
// them (see /work/shared/reference/graylog.md section 6). Every payload that
// Graylog would drop or silently change is recorded as a violation, so a test
// fails when vpcflowd sends something a real Graylog would lose or mangle.
// The rules are stricter than Graylog where Graylog only "tolerates"
// (a missing version or host), because vpcflowd must never rely on that.
// Library: startReceiver(opts); CLI: see USAGE below. 127.0.0.1 only.
'use strict';
const dgram = require('node:dgram');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const tls = require('node:tls');
const zlib = require('node:zlib');

const HOST = '127.0.0.1';
const MAX_CHUNKS = 128; // GelfChunkAggregator.MAX_CHUNKS
const CHUNK_HEADER = 12; // magic(2) + message id(8) + seq(1) + count(1)
const CHUNK_TIMEOUT_MS = 5000; // GelfChunkAggregator.VALIDITY_PERIOD
const DECOMPRESS_LIMIT = 8 * 1024 * 1024; // decompress_size_limit default
const TCP_MAX_FRAME = 2 * 1024 * 1024; // max_message_size default
const SAMPLE_CHARS = 120; // how much of a payload a violation shows

// The GELF fields with a fixed meaning; every other key is an additional
// field and must be "_name".
const STANDARD = new Set(['version', 'host', 'short_message', 'timestamp', 'level']);
// After Graylog strips the one "_", these names are either set by the decoder
// itself (so "_source" loses against host) or reserved by Graylog or its
// search backend: the field would be dropped or would overwrite another one.
const RESERVED = new Set(['message', 'source', 'timestamp', 'full_message', 'level',
  'facility', 'line', 'file', 'streams', '_id', '_ttl', '_source', '_all', '_index',
  '_type', '_score']);
const KEY_CHARS = /^[A-Za-z0-9._@-]+$/;
// A timestamp above this (year 5138) is milliseconds sent as seconds.
const MAX_TIMESTAMP = 1e11;

// ------------------------------------------------------------------ payload

// The start of a payload, printable, for violation messages.
function sample(data) {
  const text = Buffer.isBuffer(data) ? data.subarray(0, SAMPLE_CHARS * 4).toString('latin1') : String(data);
  const s = JSON.stringify(text.slice(0, SAMPLE_CHARS));
  return text.length > SAMPLE_CHARS ? `${s}...` : s;
}

function isChunk(buf) {
  return buf.length >= 2 && buf[0] === 0x1e && buf[1] === 0x0f;
}

// Graylog's GELFMessage.Type detection on the first two bytes.
function payloadKind(buf) {
  if (buf.length >= 2) {
    if (buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (buf[0] === 0x78 && (256 * buf[0] + buf[1]) % 31 === 0) return 'zlib';
    if (isChunk(buf)) return 'chunk';
  }
  return 'plain';
}

// Decompresses gzip/zlib payloads with Graylog's 8 MiB limit.
// Returns { buf } or { rule, detail }.
function decompress(buf, kind) {
  const fn = kind === 'gzip' ? zlib.gunzipSync : zlib.inflateSync;
  try {
    return { buf: fn(buf, { maxOutputLength: DECOMPRESS_LIMIT }) };
  } catch (e) {
    if (e.code === 'ERR_BUFFER_TOO_LARGE') {
      return { rule: 'size', detail: `${kind} payload decompresses to more than ${DECOMPRESS_LIMIT} bytes` };
    }
    return { rule: 'decompress', detail: `bad ${kind} payload: ${e.message}` };
  }
}

// ------------------------------------------------------------------ JSON scan
// JSON.parse keeps the last of duplicate keys without a word, and rejects a
// payload with trailing data where Graylog keeps the first document. So the
// top-level object is also scanned by hand: its keys, in order, and its end.
// The scan is loose; JSON.parse validates the text it delimits.

function skipWs(s, i) {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

// s[i] is '"'; returns the index after the closing quote, or -1.
function scanString(s, i) {
  for (i++; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i + 1;
  }
  return -1;
}

const SCALAR = /[-+.0-9A-Za-z]+/y;

// Returns the index after the value starting at s[i], or -1.
function scanValue(s, i) {
  if (s[i] === '"') return scanString(s, i);
  if (s[i] === '{' || s[i] === '[') {
    let depth = 0;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '"') {
        i = scanString(s, i) - 1;
        if (i < 0) return -1;
      } else if (c === '{' || c === '[') {
        depth++;
      } else if ((c === '}' || c === ']') && --depth === 0) {
        return i + 1;
      }
    }
    return -1;
  }
  SCALAR.lastIndex = i;
  return SCALAR.test(s) ? SCALAR.lastIndex : -1;
}

// { keys, end } of the object at the start of s, or null if there is none.
function scanObject(s) {
  let i = skipWs(s, 0);
  if (s[i] !== '{') return null;
  const keys = [];
  i = skipWs(s, i + 1);
  if (s[i] === '}') return { keys, end: i + 1 };
  for (;;) {
    if (s[i] !== '"') return null;
    const keyEnd = scanString(s, i);
    if (keyEnd < 0) return null;
    try {
      keys.push(JSON.parse(s.slice(i, keyEnd))); // decodes escapes: "\u005fa" is "_a"
    } catch (_) {
      return null;
    }
    i = skipWs(s, keyEnd);
    if (s[i] !== ':') return null;
    i = scanValue(s, skipWs(s, i + 1));
    if (i < 0) return null;
    i = skipWs(s, i);
    if (s[i] === '}') return { keys, end: i + 1 };
    if (s[i] !== ',') return null;
    i = skipWs(s, i + 1);
  }
}

// ------------------------------------------------------------------ rules

// Blank for Graylog (Java trim: every char <= U+0020) or for JS trim().
function isBlank(s) {
  return s.trim() === '' || /^[\x00-\x20]*$/.test(s);
}

// Graylog stores additional string fields trimmed (Java trim), and JS trim()
// also strips Unicode spaces: either would change the value.
function isTrimmed(s) {
  return s === s.trim() && s.charCodeAt(0) > 0x20 && s.charCodeAt(s.length - 1) > 0x20;
}

function typeName(v) {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}

// The standard fields. Pushes [rule, detail] onto problems.
function checkStandard(doc, problems) {
  if (!('version' in doc)) problems.push(['version', 'missing "version"']);
  else if (doc.version !== '1.1') problems.push(['version', `"version" is ${JSON.stringify(doc.version)}, not "1.1"`]);
  for (const k of ['host', 'short_message']) {
    if (!(k in doc)) problems.push([k, `missing "${k}"`]);
    else if (typeof doc[k] !== 'string') problems.push([k, `"${k}" is a ${typeName(doc[k])}, not a string`]);
    else if (isBlank(doc[k])) problems.push([k, `"${k}" is blank`]);
  }
  if ('timestamp' in doc) {
    const t = doc.timestamp;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
      problems.push(['timestamp', `"timestamp" must be a number > 0, got ${JSON.stringify(t)}`]);
    } else if (t > MAX_TIMESTAMP) {
      problems.push(['timestamp', `"timestamp" ${t} looks like milliseconds; GELF wants seconds`]);
    }
  }
  if ('level' in doc) {
    const l = doc.level;
    // Graylog keeps the level only if it is > -1
    if (!Number.isInteger(l) || l < 0) problems.push(['level', `"level" must be an integer >= 0, got ${JSON.stringify(l)}`]);
  }
}

// One additional field: its name and its value.
function checkAdditional(key, value, problems) {
  const name = key.slice(1);
  if (!key.startsWith('_') || !KEY_CHARS.test(name)) {
    problems.push(['key-name', `key ${JSON.stringify(key)} is not "_" + [A-Za-z0-9._@-]+`]);
    return;
  }
  if (key === '_id') {
    problems.push(['key-id', 'key "_id" is forbidden']);
    return;
  }
  if (RESERVED.has(name) || name.startsWith('gl2_')) {
    problems.push(['key-reserved', `key ${JSON.stringify(key)} becomes "${name}", which Graylog sets or reserves`]);
  }
  if (typeof value === 'string') {
    if (value === '') problems.push(['value-blank', `${key} is an empty string (Graylog drops it)`]);
    else if (!isTrimmed(value)) problems.push(['value-untrimmed', `${key} = ${JSON.stringify(value)} has surrounding white space (Graylog trims it)`]);
  } else if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push(['value-type', `${key} is a ${typeName(value)}; only strings and numbers survive`]);
  }
}

// Checks one decoded payload (text). Returns { doc, problems }: doc is the
// object Graylog would take (or null), problems a list of [rule, detail].
function checkPayload(text) {
  const problems = [];
  let doc;
  let body = text;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // Graylog uses the first document and drops what follows.
    const scan = scanObject(text);
    try {
      if (!scan) throw e;
      body = text.slice(0, scan.end);
      doc = JSON.parse(body);
      problems.push(['trailing-data', `data after the JSON object: ${sample(text.slice(scan.end))}`]);
    } catch (_) {
      problems.push(['json', `not valid JSON: ${e.message}`]);
      return { doc: null, problems };
    }
  }
  if (typeName(doc) !== 'object') {
    problems.push(['not-object', `payload is a JSON ${typeName(doc)}, not one object`]);
    return { doc: null, problems };
  }
  checkStandard(doc, problems);
  const seen = new Set();
  for (const key of scanObject(body).keys) {
    if (seen.has(key)) {
      problems.push(['duplicate-key', `key ${JSON.stringify(key)} appears more than once`]);
    } else if (!STANDARD.has(key)) {
      checkAdditional(key, doc[key], problems);
    }
    seen.add(key);
  }
  return { doc, problems };
}

// Bytes -> text; invalid UTF-8 would reach Graylog as U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeText(buf, problems) {
  try {
    return utf8.decode(buf);
  } catch (_) {
    problems.push(['utf8', 'payload is not valid UTF-8']);
    return buf.toString('utf8');
  }
}

// ------------------------------------------------------------------ receiver state

function violation(ctx, transport, rule, detail, payload) {
  const v = { transport, rule, detail, sample: payload === undefined ? '' : sample(payload) };
  ctx.rx.violations.push(v);
  ctx.rx.stats.violations++;
  if (ctx.opts.onViolation) ctx.opts.onViolation(v);
  notify(ctx);
}

function formatViolation(v) {
  return `GELF violation [${v.transport}] ${v.rule}: ${v.detail}${v.sample ? ` | ${v.sample}` : ''}`;
}

function notify(ctx) {
  for (const check of [...ctx.waiters]) check();
}

// A whole GELF payload (one datagram, reassembled chunks, a TCP frame or an
// HTTP body): detect compression, decode, check, record.
function handlePayload(ctx, transport, buf) {
  const kind = payloadKind(buf);
  if (kind === 'chunk') {
    violation(ctx, transport, 'chunk-transport', transport === 'udp'
      ? 'a reassembled message is itself a chunk' : `GELF chunks are only for UDP, not ${transport}`, buf);
    return;
  }
  if (kind !== 'plain') {
    if (transport === 'tcp') {
      // the 0-byte delimiter makes compression impossible on GELF TCP
      violation(ctx, transport, 'tcp-compressed', `${kind} frame on TCP (GELF TCP is never compressed)`, buf);
      return;
    }
    const out = decompress(buf, kind);
    if (!out.buf) {
      violation(ctx, transport, out.rule, out.detail, buf);
      return;
    }
    buf = out.buf;
  }
  const problems = [];
  const text = decodeText(buf, problems);
  const result = checkPayload(text);
  for (const [rule, detail] of problems.concat(result.problems)) violation(ctx, transport, rule, detail, text);
  if (result.doc) {
    const entry = { transport, doc: result.doc };
    ctx.rx.messages.push(entry);
    ctx.rx.stats.messages++;
    if (ctx.opts.onMessage) ctx.opts.onMessage(entry);
    notify(ctx);
  }
}

// ------------------------------------------------------------------ UDP

function onDatagram(ctx, buf) {
  ctx.rx.stats.udpDatagrams++;
  if (isChunk(buf)) onChunk(ctx, buf);
  else handlePayload(ctx, 'udp', buf);
}

function onChunk(ctx, buf) {
  ctx.rx.stats.udpChunks++;
  const bad = (rule, detail) => violation(ctx, 'udp', rule, detail, buf.subarray(0, 64));
  if (buf.length < CHUNK_HEADER) return bad('chunk-header', `chunk of ${buf.length} bytes, shorter than its 12-byte header`);
  const id = buf.toString('hex', 2, 10);
  const seq = buf[10];
  const count = buf[11];
  if (count === 0 || count > MAX_CHUNKS) return bad('chunk-count', `message ${id}: sequence count ${count} (must be 1..${MAX_CHUNKS})`);
  if (seq >= count) return bad('chunk-seq', `message ${id}: sequence number ${seq} >= count ${count}`);
  if (ctx.completed.has(id)) return bad('chunk-duplicate', `message ${id}: chunk ${seq} after the message was complete (duplicate chunk or reused id)`);
  let msg = ctx.pending.get(id);
  if (!msg) {
    msg = { count, parts: new Array(count), got: 0 };
    msg.timer = setTimeout(() => expireChunks(ctx, id, 'not complete within ' + ctx.chunkTimeoutMs + ' ms'), ctx.chunkTimeoutMs);
    ctx.pending.set(id, msg);
  }
  if (msg.count !== count) return bad('chunk-count', `message ${id}: chunk ${seq} says ${count} chunks, an earlier one ${msg.count}`);
  if (msg.parts[seq]) return bad('chunk-duplicate', `message ${id}: chunk ${seq} received twice`);
  msg.parts[seq] = buf.subarray(CHUNK_HEADER);
  if (++msg.got < count) return undefined;
  clearTimeout(msg.timer);
  ctx.pending.delete(id);
  rememberCompleted(ctx, id);
  handlePayload(ctx, 'udp', Buffer.concat(msg.parts));
  return undefined;
}

// Ids of complete messages, for one validity period: a chunk for one of them
// is a duplicate (Graylog would start a new, never complete message).
function rememberCompleted(ctx, id) {
  const now = Date.now();
  ctx.completed.set(id, now);
  for (const [old, t] of ctx.completed) {
    if (now - t < ctx.chunkTimeoutMs) break; // insertion order = time order
    ctx.completed.delete(old);
  }
}

function expireChunks(ctx, id, why) {
  const msg = ctx.pending.get(id);
  if (!msg) return;
  clearTimeout(msg.timer);
  ctx.pending.delete(id);
  const got = msg.parts.map((p, i) => (p ? i : -1)).filter((i) => i >= 0);
  const first = msg.parts.find((p) => p);
  violation(ctx, 'udp', 'chunk-incomplete',
    `incomplete chunked message ${id}: ${why}; got chunks [${got.join(',')}] of ${msg.count}`, first);
}

// ------------------------------------------------------------------ TCP

function onTcpConnection(ctx, sock) {
  ctx.rx.stats.tcpConnections++;
  ctx.sockets.add(sock);
  const st = { parts: [], size: 0, discarding: false };
  sock.on('data', (d) => onTcpData(ctx, st, d));
  sock.on('error', () => {}); // a reset is the client's business; 'close' follows
  sock.on('close', () => {
    ctx.sockets.delete(sock);
    if (st.size > 0 && !st.discarding) { // an oversized one was flagged already
      violation(ctx, 'tcp', 'tcp-truncated', `truncated frame: ${st.size} bytes without a terminating 0 byte at connection close`,
        st.parts.length ? Buffer.concat(st.parts) : undefined);
    }
  });
}

function onTcpData(ctx, st, d) {
  let from = 0;
  for (;;) {
    const nul = d.indexOf(0, from);
    if (nul < 0) {
      addFramePart(ctx, st, d.subarray(from));
      return;
    }
    addFramePart(ctx, st, d.subarray(from, nul));
    endFrame(ctx, st);
    from = nul + 1;
  }
}

function addFramePart(ctx, st, part) {
  if (part.length === 0) return;
  st.size += part.length;
  if (st.discarding) return;
  st.parts.push(part);
  if (st.size > TCP_MAX_FRAME) {
    // Graylog discards up to the next delimiter
    violation(ctx, 'tcp', 'tcp-frame-size', `frame longer than ${TCP_MAX_FRAME} bytes`, st.parts[0]);
    st.parts = [];
    st.discarding = true;
  }
}

function endFrame(ctx, st) {
  const frame = Buffer.concat(st.parts);
  const discarded = st.discarding;
  st.parts = [];
  st.size = 0;
  st.discarding = false;
  if (discarded) return;
  ctx.rx.stats.tcpFrames++;
  if (frame.length === 0) violation(ctx, 'tcp', 'tcp-empty-frame', 'empty frame (two 0 bytes in a row)');
  else handlePayload(ctx, 'tcp', frame);
}

// ------------------------------------------------------------------ HTTP

function onHttpRequest(ctx, req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => finishHttp(ctx, req, res, Buffer.concat(chunks)));
}

function reply(res, status) {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

// Content-Encoding as Netty's HttpContentDecompressor applies it.
function decodeHttpBody(ctx, encoding, body) {
  const enc = String(encoding || 'identity').trim().toLowerCase();
  try {
    if (enc === 'identity') return body;
    if (enc === 'gzip' || enc === 'x-gzip') return zlib.gunzipSync(body, { maxOutputLength: DECOMPRESS_LIMIT });
    if (enc === 'deflate' || enc === 'x-deflate') {
      // zlib-wrapped, or raw deflate as some clients send it
      try {
        return zlib.inflateSync(body, { maxOutputLength: DECOMPRESS_LIMIT });
      } catch (e) {
        if (e.code === 'ERR_BUFFER_TOO_LARGE') throw e;
        return zlib.inflateRawSync(body, { maxOutputLength: DECOMPRESS_LIMIT });
      }
    }
  } catch (e) {
    const rule = e.code === 'ERR_BUFFER_TOO_LARGE' ? 'size' : 'decompress';
    violation(ctx, 'http', rule, `Content-Encoding ${enc}: ${e.message}`, body);
    return null;
  }
  violation(ctx, 'http', 'http-encoding', `unsupported Content-Encoding ${JSON.stringify(enc)}`, body);
  return null;
}

function finishHttp(ctx, req, res, body) {
  const stats = ctx.rx.stats;
  stats.httpRequests++;
  const path = req.url.split('?')[0];
  if (req.method !== 'POST') {
    violation(ctx, 'http', 'http-method', `${req.method} ${req.url}: only POST is accepted (405)`, body);
    return reply(res, 405);
  }
  if (path !== '/gelf') {
    violation(ctx, 'http', 'http-path', `POST ${req.url}: the path must be /gelf (404)`, body);
    return reply(res, 404);
  }
  if (ctx.httpFailLeft > 0) {
    // injected failure: the client must send this message again
    ctx.httpFailLeft--;
    stats.httpFailed++;
    return reply(res, ctx.httpFailStatus);
  }
  const decoded = decodeHttpBody(ctx, req.headers['content-encoding'], body);
  if (!decoded) return reply(res, 400);
  // Graylog's default max_chunk_size (64 KiB) caps the body; only recorded
  stats.httpMaxBody = Math.max(stats.httpMaxBody, decoded.length);
  // recorded (and written by the CLI) before the 202 leaves
  if (ctx.opts.httpBulk) {
    // "Enable Bulk Receiving": one document a line
    const lines = decoded.toString('latin1').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let off = 0;
    for (const l of lines) {
      handlePayload(ctx, 'http', decoded.subarray(off, off + l.length));
      off += l.length + 1;
    }
  } else {
    handlePayload(ctx, 'http', decoded);
  }
  return reply(res, 202);
}

// ------------------------------------------------------------------ listeners

function wanted(v) {
  return v !== undefined && v !== null && v !== false;
}

function portOf(v) {
  return v === true ? 0 : Number(v);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A fixed port may still be held for a moment by a receiver that was just
// killed: retry EADDRINUSE for a while. (TCP servers set SO_REUSEADDR, so
// TIME_WAIT connections of the old one do not block the new one.)
async function bindRetry(port, attempt) {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || port === 0 || Date.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

function listenServer(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

function bindUdp(ctx, port) {
  return new Promise((resolve, reject) => {
    // no reuseAddr: two receivers sharing a UDP port would split the datagrams
    const sock = dgram.createSocket({ type: 'udp4' });
    sock.once('error', reject);
    sock.on('message', (buf) => onDatagram(ctx, buf));
    sock.bind(port, HOST, () => {
      sock.removeListener('error', reject);
      sock.on('error', () => {});
      try {
        sock.setRecvBufferSize(4 * 1024 * 1024); // capped by net.core.rmem_max
      } catch (_) { /* keep the default */ }
      resolve(sock);
    });
  });
}

// tls option values: PEM text or Buffers, or file names.
function pem(v) {
  if (v === undefined || Buffer.isBuffer(v) || String(v).includes('-----BEGIN')) return v;
  return fs.readFileSync(v);
}

function makeTcpServer(ctx) {
  const onConn = (sock) => onTcpConnection(ctx, sock);
  const t = ctx.opts.tls;
  const server = t ? tls.createServer({
    key: pem(t.key),
    cert: pem(t.cert),
    ca: pem(t.ca),
    requestCert: !!t.requestCert,
    rejectUnauthorized: !!t.requestCert,
  }, onConn) : net.createServer(onConn);
  // raw connections, so close() also ends those still in a TLS handshake
  server.on('connection', (s) => {
    ctx.sockets.add(s);
    s.on('close', () => ctx.sockets.delete(s));
  });
  server.on('tlsClientError', (e) => {
    ctx.rx.stats.tlsErrors++;
    ctx.rx.tlsErrors.push(e.message);
  });
  return server;
}

function makeHttpServer(ctx) {
  const server = http.createServer((req, res) => onHttpRequest(ctx, req, res));
  server.keepAliveTimeout = 60000; // like Graylog's idle timeout, not Node's 5 s
  server.on('connection', () => { ctx.rx.stats.httpConnections++; });
  return server;
}

// Resolves with the messages once pred(messages, receiver) holds; rejects
// after timeoutMs (default 10 s) with the counts and the first violations.
function waitFor(ctx, pred, timeoutMs = 10000) {
  const rx = ctx.rx;
  return new Promise((resolve, reject) => {
    let timer = null;
    let poll = null;
    const check = () => {
      let ok;
      try {
        ok = pred(rx.messages, rx);
      } catch (e) {
        done();
        reject(e);
        return true;
      }
      if (ok) {
        done();
        resolve(rx.messages);
      }
      return ok;
    };
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      ctx.waiters.delete(check);
    };
    if (check()) return;
    // checked on every message and violation, and polled for conditions on
    // stats (chunks, connections) that do not announce themselves
    ctx.waiters.add(check);
    poll = setInterval(check, 20);
    timer = setTimeout(() => {
      done();
      const vs = rx.violations.slice(0, 5).map(formatViolation).join('\n  ');
      reject(new Error(`waitFor: condition not met after ${timeoutMs} ms ` +
        `(${rx.messages.length} messages, ${rx.violations.length} violations)${vs ? `\n  ${vs}` : ''}`));
    }, timeoutMs);
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (server.closeAllConnections) server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function closeReceiver(ctx) {
  if (ctx.closed) return;
  ctx.closed = true;
  // chunks still missing now will never come
  for (const id of [...ctx.pending.keys()]) expireChunks(ctx, id, 'receiver closed before it was complete');
  if (ctx.udp) await new Promise((resolve) => ctx.udp.close(resolve));
  if (ctx.tcp) {
    for (const s of ctx.sockets) s.destroy();
    await closeServer(ctx.tcp);
  }
  if (ctx.http) await closeServer(ctx.http);
}

// opts: { udp, tcp, http: port | true (0/true = a free port), tls: {key, cert,
// ca?, requestCert?} (TCP over TLS), httpFail: {first, status},
// chunkTimeoutMs (default 5000), onMessage(entry), onViolation(v) }
async function startReceiver(opts = {}) {
  const rx = {
    ports: { udp: null, tcp: null, http: null },
    messages: [],
    violations: [],
    tlsErrors: [],
    stats: {
      messages: 0, violations: 0, udpDatagrams: 0, udpChunks: 0, tcpConnections: 0,
      tcpFrames: 0, tlsErrors: 0, httpConnections: 0, httpRequests: 0, httpFailed: 0, httpMaxBody: 0,
    },
  };
  const fail = opts.httpFail || {};
  const ctx = {
    opts, rx, pending: new Map(), completed: new Map(), sockets: new Set(), waiters: new Set(),
    chunkTimeoutMs: opts.chunkTimeoutMs || CHUNK_TIMEOUT_MS,
    httpFailLeft: fail.first || 0, httpFailStatus: fail.status || 500,
  };
  rx.waitFor = (pred, timeoutMs) => waitFor(ctx, pred, timeoutMs);
  rx.close = () => closeReceiver(ctx);
  try {
    if (wanted(opts.udp)) {
      const port = portOf(opts.udp);
      ctx.udp = await bindRetry(port, () => bindUdp(ctx, port));
      rx.ports.udp = ctx.udp.address().port;
    }
    if (wanted(opts.tcp) || opts.tls) {
      const port = wanted(opts.tcp) ? portOf(opts.tcp) : 0;
      ctx.tcp = await bindRetry(port, () => listenServer(makeTcpServer(ctx), port));
      rx.ports.tcp = ctx.tcp.address().port;
    }
    if (wanted(opts.http)) {
      const port = portOf(opts.http);
      ctx.http = await bindRetry(port, () => listenServer(makeHttpServer(ctx), port));
      rx.ports.http = ctx.http.address().port;
    }
  } catch (e) {
    await closeReceiver(ctx);
    throw e;
  }
  return rx;
}

// ------------------------------------------------------------------ CLI

const USAGE = `usage: node gelf-receiver.js [flags]
  --udp PORT              GELF UDP on 127.0.0.1 (0 = a free port)
  --tcp PORT              GELF TCP (0 = a free port)
  --tls-key F --tls-cert F  TCP over TLS with this key and certificate
  --tls-ca F              CA for client certificates (with --tls-request-cert)
  --tls-request-cert      require a client certificate signed by --tls-ca
  --http PORT             GELF HTTP, POST /gelf (0 = a free port)
  --http-fail-first N     answer the first N POSTs with --http-fail-status
  --http-fail-status S    (default 500)
  --chunk-timeout-ms N    UDP chunk validity period (default 5000)
  --out FILE              append each message as a JSON line {"transport","doc"}
Prints {"udp":P,"tcp":P,"http":P} once listening, each violation on stderr.
Exits when stdin (a pipe) closes or on SIGTERM; exit code 1 after any violation.`;

const FLAGS = {
  '--udp': 'udp', '--tcp': 'tcp', '--http': 'http', '--tls-key': 'tlsKey', '--tls-cert': 'tlsCert',
  '--tls-ca': 'tlsCa', '--http-fail-first': 'failFirst', '--http-fail-status': 'failStatus',
  '--chunk-timeout-ms': 'chunkTimeoutMs', '--out': 'out',
};

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tls-request-cert') a.requestCert = true;
    else if (FLAGS[argv[i]] && i + 1 < argv.length) a[FLAGS[argv[i]]] = argv[++i];
    else throw new Error(`bad argument ${argv[i]}`);
  }
  if (!!a.tlsKey !== !!a.tlsCert) throw new Error('--tls-key and --tls-cert go together');
  return a;
}

async function main() {
  let a;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  // one write(2) per message: a SIGKILL loses nothing the receiver has read
  const out = a.out ? fs.openSync(a.out, 'a') : null;
  const opts = {
    udp: a.udp, tcp: a.tcp, http: a.http,
    chunkTimeoutMs: a.chunkTimeoutMs ? Number(a.chunkTimeoutMs) : undefined,
    onMessage: (m) => { if (out !== null) fs.writeSync(out, `${JSON.stringify(m)}\n`); },
    onViolation: (v) => process.stderr.write(`${formatViolation(v)}\n`),
  };
  if (a.tlsKey) opts.tls = { key: a.tlsKey, cert: a.tlsCert, ca: a.tlsCa, requestCert: a.requestCert };
  if (a.failFirst) opts.httpFail = { first: Number(a.failFirst), status: Number(a.failStatus || 500) };
  const rx = await startReceiver(opts);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await rx.close();
    process.exit(rx.violations.length ? 1 : 0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Only a pipe or socket has a meaningful EOF (/dev/null would end at once).
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
  }
  process.stdout.write(`${JSON.stringify(rx.ports)}\n`);
}

module.exports = {
  startReceiver, checkPayload, formatViolation, payloadKind,
  MAX_CHUNKS, CHUNK_HEADER, DECOMPRESS_LIMIT, TCP_MAX_FRAME,
};

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`gelf-receiver: ${e.stack}\n`);
    process.exit(2);
  });
}
