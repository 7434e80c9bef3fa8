'use strict'
// Shared helpers for the emulator harness: flag parsing, self-exit watchers,
// a Kinesis JSON 1.1 client, a seeded PRNG and a gzip member splitter.
// Everything here talks to loopback endpoints only (see assertLoopbackUrl).

const http = require('http')
const zlib = require('zlib')

// ---------------------------------------------------------------- flags

// parseFlags(argv, spec): spec maps a flag name (without --) to 'string',
// 'int', 'float', 'bool' or 'list' (repeatable string). Unknown flags throw.
// Accepts --name value, --name=value, and --no-name for bool flags.
function parseFlags (argv, spec) {
  const out = { _: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) { out._.push(a); continue }
    let name = a.slice(2)
    let value
    const eq = name.indexOf('=')
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq) }
    let type = spec[name]
    if (type === undefined && name.startsWith('no-') && spec[name.slice(3)] === 'bool') {
      out[camel(name.slice(3))] = false
      continue
    }
    if (type === undefined) throw new Error('unknown flag --' + name)
    if (type === 'bool') {
      out[camel(name)] = value === undefined ? true : !/^(0|false|no)$/i.test(value)
      continue
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error('flag --' + name + ' needs a value')
      value = argv[++i]
    }
    const key = camel(name)
    if (type === 'int') {
      if (!/^-?\d+$/.test(value)) throw new Error('flag --' + name + ' needs an integer, got ' + value)
      out[key] = parseInt(value, 10)
    } else if (type === 'float') {
      const f = Number(value)
      if (!Number.isFinite(f)) throw new Error('flag --' + name + ' needs a number, got ' + value)
      out[key] = f
    } else if (type === 'list') {
      (out[key] = out[key] || []).push(value)
    } else {
      out[key] = value
    }
  }
  return out
}

function camel (s) { return s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase()) }

// ---------------------------------------------------------------- lifecycle

// Make a long-running helper exit by itself: after maxSeconds, when its stdin
// (if it is a pipe or socket) reaches EOF, on SIGTERM/SIGINT/SIGHUP, and (if
// watchParent) when its parent process goes away.
function installSelfExit ({ maxSeconds = 600, ignoreStdin = false, watchParent = false, name = 'helper', onExit }) {
  const fs = require('fs')
  let exiting = false
  const exit = (code, why) => {
    if (exiting) return
    exiting = true
    if (why) process.stderr.write(name + ': exiting: ' + why + '\n')
    try { if (onExit) onExit() } catch (_) {}
    process.exit(code)
  }
  if (maxSeconds > 0) setTimeout(() => exit(0, 'max-seconds ' + maxSeconds + ' reached'), maxSeconds * 1000).unref()
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => exit(0, sig))
  if (!ignoreStdin) {
    let st = null
    try { st = fs.fstatSync(0) } catch (_) {}
    // Only a pipe or a socket has a meaningful EOF: /dev/null, a regular file
    // or a terminal would end at once or never, so they are not watched.
    if (st && (st.isFIFO() || st.isSocket())) {
      process.stdin.on('data', () => {})
      process.stdin.on('end', () => exit(0, 'stdin closed'))
      process.stdin.on('error', () => exit(0, 'stdin error'))
      process.stdin.resume()
    }
  }
  if (watchParent) {
    const ppid = process.ppid
    setInterval(() => { if (process.ppid !== ppid) exit(0, 'parent process gone') }, 500).unref()
  }
  return exit
}

// ---------------------------------------------------------------- endpoint safety

function assertLoopbackUrl (u) {
  const url = new URL(u)
  if (url.protocol !== 'http:') throw new Error('only http:// endpoints are supported: ' + u)
  const h = url.hostname
  if (!(h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '[::1]' || h === '::1')) {
    throw new Error('refusing non-loopback endpoint ' + u + ' (tests only talk to 127.0.0.0/8)')
  }
  return url
}

// ---------------------------------------------------------------- Kinesis client

const FAKE_AUTH = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, ' +
  'SignedHeaders=host;x-amz-date, Signature=0000'

function amzDate (d = new Date()) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 8 })

// Low-level: POST one Kinesis operation. Resolves {status, body (parsed JSON or
// null), raw (Buffer), headers}; rejects only on transport errors (with .code).
function kinesisRaw (endpoint, op, payload, { timeoutMs = 15000, agent = keepAliveAgent, rawBody } = {}) {
  const url = assertLoopbackUrl(endpoint)
  const body = rawBody !== undefined ? rawBody : Buffer.from(JSON.stringify(payload === undefined ? {} : payload))
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 80,
      path: '/',
      method: 'POST',
      agent,
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'Kinesis_20131202.' + op,
        'X-Amz-Date': amzDate(),
        Authorization: FAKE_AUTH,
        'Content-Length': body.length
      }
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        let parsed = null
        try { parsed = raw.length ? JSON.parse(raw.toString('utf8')) : null } catch (_) {}
        resolve({ status: res.statusCode, body: parsed, raw, headers: res.headers })
      })
    })
    req.setTimeout(timeoutMs, () => {
      const e = new Error(op + ': request timed out after ' + timeoutMs + ' ms')
      e.code = 'ETIMEDOUT'
      req.destroy(e)
    })
    req.on('error', reject)
    req.end(body)
  })
}

class KinesisError extends Error {
  constructor (op, status, body) {
    const type = body && body.__type ? String(body.__type).replace(/^.*#/, '') : 'HTTP' + status
    super(op + ': HTTP ' + status + ' ' + type + (body && body.message ? ': ' + body.message : ''))
    this.status = status
    this.type = type
    this.body = body
  }
}

function isRetryable (err) {
  if (!(err instanceof KinesisError)) return true // transport error: reset, refused, timeout
  if (err.status >= 500) return true
  return /ProvisionedThroughputExceeded|LimitExceeded|Throttling|KMSThrottling/.test(err.type)
}

// High-level: call an operation, retrying throttling/5xx/transport errors.
async function kinesisCall (endpoint, op, payload, { retries = 8, baseDelayMs = 50, timeoutMs } = {}) {
  for (let attempt = 0; ; attempt++) {
    let err
    try {
      const r = await kinesisRaw(endpoint, op, payload, { timeoutMs })
      if (r.status === 200) return r.body || {}
      err = new KinesisError(op, r.status, r.body)
    } catch (e) {
      err = e
    }
    if (attempt >= retries || !isRetryable(err)) throw err
    await sleep(Math.min(2000, baseDelayMs * 2 ** attempt))
  }
}

function sleep (ms) { return new Promise((resolve) => setTimeout(resolve, ms)) }

// ---------------------------------------------------------------- PRNG

// mulberry32: tiny deterministic 32-bit generator; returns floats in [0, 1).
function makeRng (seed) {
  let a = (Number(seed) >>> 0) || 0x9e3779b9
  return function () {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------------------------------------------------------------- gzip members

let crcTable = null
function crc32 (buf) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf) >>> 0
  if (!crcTable) {
    crcTable = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      crcTable[n] = c >>> 0
    }
  }
  let c = 0xffffffff
  for (let i = 0; i < buf.length; i++) c = crcTable[(c ^ buf[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

// splitGzipMembers(buf) -> [{offset, length, member (Buffer view), size}]
// Walks RFC 1952 members one by one: parses the header (FEXTRA, FNAME,
// FCOMMENT, FHCRC), inflates the raw deflate stream to find where it ends,
// then checks the CRC32/ISIZE trailer. Throws on anything malformed.
// Options: allowTrailingZeros (padding after the last member, as some tools write).
function splitGzipMembers (buf, { allowTrailingZeros = true } = {}) {
  const members = []
  let pos = 0
  while (pos < buf.length) {
    if (allowTrailingZeros && buf[pos] === 0 && buf.subarray(pos).every((b) => b === 0)) break
    const start = pos
    const fail = (why) => { throw new Error('gzip member #' + members.length + ' at offset ' + start + ': ' + why) }
    if (buf.length - pos < 18) fail('truncated (fewer than 18 bytes left)')
    if (buf[pos] !== 0x1f || buf[pos + 1] !== 0x8b) fail('bad magic ' + buf.subarray(pos, pos + 2).toString('hex'))
    if (buf[pos + 2] !== 8) fail('compression method ' + buf[pos + 2] + ' is not deflate')
    const flg = buf[pos + 3]
    if (flg & 0xe0) fail('reserved header flags set')
    pos += 10
    if (flg & 0x04) { // FEXTRA
      if (pos + 2 > buf.length) fail('truncated FEXTRA')
      const xlen = buf.readUInt16LE(pos)
      pos += 2 + xlen
    }
    for (const bit of [0x08, 0x10]) { // FNAME, FCOMMENT: zero-terminated
      if (flg & bit) {
        const z = buf.indexOf(0, pos)
        if (z < 0) fail('unterminated FNAME/FCOMMENT')
        pos = z + 1
      }
    }
    if (flg & 0x02) { // FHCRC: low 16 bits of the header's CRC32
      if (pos + 2 > buf.length) fail('truncated FHCRC')
      const want = buf.readUInt16LE(pos)
      if ((crc32(buf.subarray(start, pos)) & 0xffff) !== want) fail('header CRC mismatch')
      pos += 2
    }
    if (pos >= buf.length) fail('no deflate data')
    let res
    try {
      res = zlib.inflateRawSync(buf.subarray(pos), { info: true })
    } catch (e) {
      fail('deflate stream: ' + e.message)
    }
    const used = res.engine.bytesWritten
    pos += used
    if (pos + 8 > buf.length) fail('truncated trailer')
    const crc = buf.readUInt32LE(pos)
    const isize = buf.readUInt32LE(pos + 4)
    pos += 8
    if (crc32(res.buffer) !== crc) fail('CRC32 mismatch')
    if ((res.buffer.length >>> 0) !== isize) fail('ISIZE mismatch')
    members.push({ offset: start, length: pos - start, member: buf.subarray(start, pos), size: res.buffer.length })
  }
  return members
}

// Write one JSON line to stdout and return once it is flushed.
function printJsonLine (obj) {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + '\n', resolve))
}

module.exports = {
  parseFlags,
  installSelfExit,
  assertLoopbackUrl,
  kinesisRaw,
  kinesisCall,
  KinesisError,
  isRetryable,
  sleep,
  makeRng,
  crc32,
  splitGzipMembers,
  printJsonLine,
  FAKE_AUTH,
  amzDate
}
