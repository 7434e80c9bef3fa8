#!/usr/bin/env node
'use strict'
// Self-test of the emulator harness: starts emulators.js and fault-proxy.js as
// child processes on free loopback ports, drives them with kinesis.js and raw
// Kinesis calls, and checks every fault type, ListShards pagination and
// ChildShards. Prints "N passed, M failed"; exits 0 only if nothing failed.
// Usage: node test/emulators/selftest.js [--verbose]

const { spawn } = require('child_process')
const path = require('path')
const fs = require('fs')
const os = require('os')
const net = require('net')
const http = require('http')
const zlib = require('zlib')
const assert = require('assert')
const { kinesisRaw, splitGzipMembers, crc32, sleep } = require('./common')
const kinesis = require('./kinesis')
const { parseFaultSpec, normalizeConfig } = require('./fault-proxy')

const HERE = __dirname
const VERBOSE = process.argv.includes('--verbose')
const children = []
let passed = 0
let failed = 0

// A hard stop, so a hung step can never keep this process (and so its
// children, whose stdin is our pipe) alive.
setTimeout(() => {
  console.log('selftest: global timeout')
  console.log(passed + ' passed, ' + (failed + 1) + ' failed')
  process.exit(1)
}, 180000).unref()

async function step (name, fn) {
  const t0 = Date.now()
  try {
    await fn()
    passed++
    console.log('ok   ' + name + ' (' + (Date.now() - t0) + ' ms)')
  } catch (e) {
    failed++
    console.log('FAIL ' + name + ': ' + (e && e.stack ? e.stack : e))
  }
}

// Spawn a node script and resolve with {child, info} once it printed its JSON line.
function startChild (script, args, { timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HERE, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(script + ': no JSON line after ' + timeoutMs + ' ms; stderr: ' + err)), timeoutMs)
    child.stderr.on('data', (d) => { err += d; if (VERBOSE) process.stderr.write(d) })
    child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0 && !child.info) {
        clearTimeout(timer)
        try {
          child.info = JSON.parse(out.slice(0, nl))
        } catch (e) {
          return reject(new Error(script + ': bad first line ' + out.slice(0, nl)))
        }
        if (child.info.error) return reject(new Error(script + ': ' + child.info.error))
        resolve({ child, info: child.info })
      }
    })
    child.on('exit', (code) => { child.exited = code; clearTimeout(timer); if (!child.info) reject(new Error(script + ' exited ' + code + ': ' + err)) })
  })
}

function waitExit (child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const t = setTimeout(() => resolve(false), ms)
    child.once('exit', () => { clearTimeout(t); resolve(true) })
  })
}

function runCli (args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HERE, 'kinesis.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error('kinesis.js ' + args[0] + ' exited ' + code + ': ' + err))
      try { resolve(JSON.parse(out.trim().split('\n').pop())) } catch (e) { reject(new Error('kinesis.js ' + args[0] + ': bad output ' + out)) }
    })
  })
}

function httpJson (method, url, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const data = body === undefined ? Buffer.alloc(0) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, agent: false, headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
      let s = ''
      res.on('data', (c) => { s += c })
      res.on('end', () => { try { resolve({ status: res.statusCode, body: JSON.parse(s) }) } catch (e) { resolve({ status: res.statusCode, text: s }) } })
    })
    req.on('error', reject)
    req.end(data)
  })
}

// one Kinesis call with a fresh connection (so resets do not poison a pool)
const freshAgent = () => new http.Agent({ keepAlive: false })
const call = (ep, op, payload) => kinesisRaw(ep, op, payload, { agent: freshAgent(), timeoutMs: 10000 })

async function ok (ep, op, payload) {
  const r = await call(ep, op, payload)
  if (r.status !== 200) throw new Error(op + ' -> HTTP ' + r.status + ' ' + r.raw.toString())
  return r.body
}

// A gzip member with every optional header field, written by hand (RFC 1952).
function gzipWithAllHeaderFields (payload) {
  const head = [Buffer.from([0x1f, 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02, 1, 2, 3, 4, 0, 255])]
  const extra = Buffer.from('VF\x03\x00abc', 'latin1')
  const xlen = Buffer.alloc(2); xlen.writeUInt16LE(extra.length)
  head.push(xlen, extra, Buffer.from('name.json\0comment\0', 'latin1'))
  const h = Buffer.concat(head)
  const hcrc = Buffer.alloc(2); hcrc.writeUInt16LE(crc32(h) & 0xffff)
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(payload), 0)
  trailer.writeUInt32LE(payload.length >>> 0, 4)
  return Buffer.concat([h, hcrc, zlib.deflateRawSync(payload), trailer])
}

function cwlRecord (i, nEvents) {
  const events = []
  for (let j = 0; j < nEvents; j++) {
    events.push({ id: String(1e15 + i * 1000 + j), timestamp: 1700000000000 + j, message: '2 123456789012 eni-0abc' + i + ' 10.0.0.' + j + ' 10.0.1.1 443 ' + (40000 + j) + ' 6 10 840 1700000000 1700000060 ACCEPT OK' })
  }
  return Buffer.from(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: 'vpc-flow', logStream: 'eni-' + i, subscriptionFilters: ['f'], logEvents: events }))
}

async function readShardToEnd (ep, stream, shardId, maxCalls = 60) {
  let iter = (await ok(ep, 'GetShardIterator', { StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator
  const records = []
  for (let i = 0; i < maxCalls; i++) {
    const r = await ok(ep, 'GetRecords', { ShardIterator: iter })
    records.push(...r.Records)
    if (!r.NextShardIterator) return { records, last: r }
    iter = r.NextShardIterator
    if (r.Records.length === 0) await sleep(100)
  }
  throw new Error('shard ' + shardId + ' did not end after ' + maxCalls + ' GetRecords')
}

async function readShardCaughtUp (ep, stream, shardId) {
  let iter = (await ok(ep, 'GetShardIterator', { StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator
  const records = []
  for (let i = 0; i < 50; i++) {
    const r = await ok(ep, 'GetRecords', { ShardIterator: iter })
    records.push(...r.Records)
    if (!r.NextShardIterator || (r.Records.length === 0 && r.MillisBehindLatest === 0)) return records
    iter = r.NextShardIterator
  }
  throw new Error('not caught up')
}

async function main () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vpcflowd-emu-'))
  let K, D, P, stats
  const setRules = async (rules) => {
    const r = await httpJson('POST', P + '/__rules', rules)
    if (r.status !== 200) throw new Error('POST /__rules: ' + JSON.stringify(r.body || r.text))
  }
  const getStats = async () => (await httpJson('GET', P + '/__stats')).body

  // ------------------------------------------------------------ startup
  let emu
  await step('emulators.js starts kinesalite and dynalite on 127.0.0.1 and prints one JSON line', async () => {
    emu = await startChild('emulators.js', ['--kinesis-port', '0', '--dynamodb-port', '0', '--max-seconds', '170'])
    K = emu.info.kinesis
    D = emu.info.dynamodb
    assert.match(K, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(D, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.strictEqual(emu.info.pid, emu.child.pid)
  })
  if (!K) return

  await step('kinesalite listens on 127.0.0.1 only (127.0.0.2 refuses)', async () => {
    const port = Number(new URL(K).port)
    const refused = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.2', port })
      s.on('connect', () => { s.destroy(); resolve(false) })
      s.on('error', (e) => resolve(e.code === 'ECONNREFUSED'))
    })
    assert.ok(refused, 'connection to 127.0.0.2 was not refused')
  })

  await step('dynalite answers ListTables', async () => {
    const u = new URL(D)
    const r = await new Promise((resolve, reject) => {
      const body = '{}'
      const req = http.request({
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/',
        agent: false,
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'DynamoDB_20120810.ListTables',
          'X-Amz-Date': '20150830T123600Z',
          Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000',
          'Content-Length': body.length
        }
      }, (res) => { let s = ''; res.on('data', (c) => { s += c }); res.on('end', () => resolve({ status: res.statusCode, s })) })
      req.on('error', reject)
      req.end(body)
    })
    assert.strictEqual(r.status, 200, r.s)
    assert.deepStrictEqual(JSON.parse(r.s), { TableNames: [] })
  })

  const rulesFile = path.join(tmp, 'rules.json')
  fs.writeFileSync(rulesFile, JSON.stringify({ seed: 7, faults: [] }))
  let prox
  await step('fault-proxy.js starts in front of kinesalite and prints its JSON line', async () => {
    prox = await startChild('fault-proxy.js', ['--target', K, '--port', '0', '--rules', rulesFile, '--max-seconds', '170'])
    P = prox.info.proxy
    assert.match(P, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.strictEqual(prox.info.target, K)
    assert.strictEqual(prox.info.stats, P + '/__stats')
    const s = await getStats()
    assert.strictEqual(s.requests.total, 0)
    assert.strictEqual(s.injected.ProvisionedThroughputExceeded, 0)
  })
  if (!P) return

  // ------------------------------------------------------------ gzip members
  const payloads = [cwlRecord(0, 3), cwlRecord(1, 1), cwlRecord(2, 7)]
  const members = payloads.map((p) => zlib.gzipSync(p))
  const corpus = path.join(tmp, 'three.gz')
  fs.writeFileSync(corpus, Buffer.concat(members))

  await step('gzip member splitter: 3 gzipSync members, all header fields, errors', async () => {
    const m = splitGzipMembers(fs.readFileSync(corpus))
    assert.strictEqual(m.length, 3)
    m.forEach((x, i) => { assert.ok(x.member.equals(members[i])); assert.strictEqual(x.size, payloads[i].length) })
    const fancy = gzipWithAllHeaderFields(payloads[1])
    assert.ok(zlib.gunzipSync(fancy).equals(payloads[1]), 'hand-made member is valid gzip')
    const mixed = Buffer.concat([fancy, members[0], zlib.gzipSync(Buffer.alloc(0)), fancy, Buffer.alloc(4)])
    const m2 = splitGzipMembers(mixed)
    assert.deepStrictEqual(m2.map((x) => x.length), [fancy.length, members[0].length, 20, fancy.length])
    assert.throws(() => splitGzipMembers(Buffer.concat([members[0], members[1].subarray(0, members[1].length - 3)])), /truncated|deflate/)
    assert.throws(() => splitGzipMembers(Buffer.concat([members[0], Buffer.from('garbage here, not gzip')])), /bad magic/)
    const badCrc = Buffer.from(members[2]); badCrc[badCrc.length - 6] ^= 0xff
    assert.throws(() => splitGzipMembers(badCrc), /CRC32/)
  })

  // ------------------------------------------------------------ stream, put, read back through the proxy
  await step('kinesis.js create-stream (2 shards) through the proxy waits until ACTIVE', async () => {
    const r = await runCli(['create-stream', '--endpoint', P, '--stream', 'fx', '--shards', '2'])
    assert.deepStrictEqual(r, { stream: 'fx', status: 'ACTIVE', openShards: 2 })
  })

  await step('kinesis.js put-file puts one record per gzip member', async () => {
    const r = await runCli(['put-file', '--endpoint', P, '--stream', 'fx', '--file', corpus, '--partition-key-mode', 'index'])
    assert.strictEqual(r.members, 3)
    assert.strictEqual(r.records, 3)
    assert.strictEqual(r.bytes, members.reduce((s, m) => s + m.length, 0))
    assert.strictEqual(r.retriedEntries, 0)
  })

  await step('records read back through the proxy equal the gzip members', async () => {
    const got = []
    for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
      for (const rec of await readShardCaughtUp(P, 'fx', shard)) got.push(Buffer.from(rec.Data, 'base64').toString('hex'))
    }
    assert.deepStrictEqual(got.sort(), members.map((m) => m.toString('hex')).sort())
    const s = await getStats()
    assert.ok(s.forwarded >= 6, 'forwarded ' + s.forwarded)
    assert.strictEqual(Object.values(s.injected).reduce((a, b) => a + b, 0), 0)
  })

  const iterFor = async (shard = 'shardId-000000000000', stream = 'fx') =>
    (await ok(P, 'GetShardIterator', { StreamName: stream, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator

  // ------------------------------------------------------------ faults
  await step('ProvisionedThroughputExceeded for the first 2 GetRecords, exact body, counted', async () => {
    await setRules({ faults: [{ type: 'ProvisionedThroughputExceeded', first: 2 }] })
    const it = await iterFor()
    const r1 = await call(P, 'GetRecords', { ShardIterator: it })
    const r2 = await call(P, 'GetRecords', { ShardIterator: it })
    const r3 = await call(P, 'GetRecords', { ShardIterator: it })
    assert.strictEqual(r1.status, 400)
    assert.strictEqual(r1.raw.toString(), '{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard"}')
    assert.strictEqual(r2.status, 400)
    assert.strictEqual(r3.status, 200)
    stats = await getStats()
    assert.strictEqual(stats.injected.ProvisionedThroughputExceeded, 2)
    assert.deepStrictEqual(stats.rules[0], { index: 0, type: 'ProvisionedThroughputExceeded', matched: 3, injected: 2 })
  })

  await step('fraction rules are deterministic for a seed and reset by POST /__reset', async () => {
    await setRules({ seed: 42, faults: [{ type: 'throughput', fraction: 0.3 }] })
    const it = await iterFor()
    const run = async () => {
      let pattern = ''
      for (let i = 0; i < 40; i++) pattern += (await call(P, 'GetRecords', { ShardIterator: it, Limit: 1 })).status === 400 ? 'x' : '.'
      return pattern
    }
    const a = await run()
    const s = await getStats()
    const n = a.split('x').length - 1
    assert.ok(n > 0 && n < 40, 'pattern ' + a)
    assert.strictEqual(s.injected.ProvisionedThroughputExceeded, n)
    await httpJson('POST', P + '/__reset')
    assert.strictEqual((await getStats()).injected.ProvisionedThroughputExceeded, 0)
    const b = await run()
    assert.strictEqual(b, a)
    await setRules({ seed: 43, faults: [{ type: 'throughput', fraction: 0.3 }] })
    const c = await run()
    assert.notStrictEqual(c, a, 'another seed gives another pattern')
  })

  await step('KMSThrottlingException injected and counted', async () => {
    await setRules({ faults: [{ type: 'KMSThrottling', first: 1 }] })
    const it = await iterFor()
    const r = await call(P, 'GetRecords', { ShardIterator: it })
    assert.strictEqual(r.status, 400)
    assert.strictEqual(r.body.__type, 'KMSThrottlingException')
    assert.strictEqual((await call(P, 'GetRecords', { ShardIterator: it })).status, 200)
    assert.strictEqual((await getStats()).injected.KMSThrottling, 1)
  })

  await step('HTTP 500 and 503 with {"__type":"InternalFailure"} injected and counted', async () => {
    await setRules({ faults: [{ type: 'http500', ops: ['ListShards'], first: 1 }, { type: 'http503', ops: ['GetShardIterator'], first: 1 }] })
    const a = await call(P, 'ListShards', { StreamName: 'fx' })
    assert.strictEqual(a.status, 500)
    assert.strictEqual(a.raw.toString(), '{"__type":"InternalFailure"}')
    const b = await call(P, 'GetShardIterator', { StreamName: 'fx', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })
    assert.strictEqual(b.status, 503)
    assert.strictEqual(b.body.__type, 'InternalFailure')
    assert.strictEqual((await call(P, 'ListShards', { StreamName: 'fx' })).status, 200)
    const s = await getStats()
    assert.strictEqual(s.injected.http500, 1)
    assert.strictEqual(s.injected.http503, 1)
  })

  await step('connection reset injected (before forwarding) and counted', async () => {
    await setRules({ faults: [{ type: 'reset', ops: ['DescribeStreamSummary'], first: 1 }] })
    await assert.rejects(call(P, 'DescribeStreamSummary', { StreamName: 'fx' }), (e) => /ECONNRESET|socket hang up/.test(e.code + ' ' + e.message))
    assert.strictEqual((await call(P, 'DescribeStreamSummary', { StreamName: 'fx' })).status, 200)
    const s = await getStats()
    assert.strictEqual(s.injected.reset, 1)
    assert.strictEqual(s.requests.byOp.DescribeStreamSummary, 2)
    assert.strictEqual(s.forwarded, 1)
  })

  await step('connection reset after forwarding: the PutRecord took effect, the client saw a reset', async () => {
    await ok(K, 'CreateStream', { StreamName: 'resets', ShardCount: 1 })
    await kinesis.waitActive(K, 'resets')
    await setRules({ faults: [{ type: 'reset', ops: ['PutRecord'], first: 1, phase: 'after' }] })
    await assert.rejects(call(P, 'PutRecord', { StreamName: 'resets', PartitionKey: 'k', Data: Buffer.from('once').toString('base64') }))
    const recs = await readShardCaughtUp(K, 'resets', 'shardId-000000000000')
    assert.strictEqual(recs.length, 1)
    assert.strictEqual((await getStats()).injected.reset, 1)
  })

  await step('ExpiredIteratorException on the 2nd GetRecords of each iterator chain; reuse stays expired', async () => {
    await setRules({ faults: [{ type: 'ExpiredIterator', nth: 2 }] })
    const it0 = await iterFor()
    const r1 = await ok(P, 'GetRecords', { ShardIterator: it0, Limit: 1 })
    const r2 = await call(P, 'GetRecords', { ShardIterator: r1.NextShardIterator, Limit: 1 })
    assert.strictEqual(r2.status, 400)
    assert.strictEqual(r2.body.__type, 'ExpiredIteratorException')
    const r3 = await call(P, 'GetRecords', { ShardIterator: r1.NextShardIterator, Limit: 1 })
    assert.strictEqual(r3.body.__type, 'ExpiredIteratorException')
    const j0 = await iterFor()
    await ok(P, 'GetRecords', { ShardIterator: j0, Limit: 1 })
    let s = await getStats()
    assert.strictEqual(s.injected.ExpiredIterator, 1)
    assert.strictEqual(s.expiredIteratorReuse, 1)
    // scope "iterator": the 2nd use of the same iterator string
    await setRules({ faults: [{ type: 'expired', nth: 2, scope: 'iterator' }] })
    const k0 = await iterFor()
    await ok(P, 'GetRecords', { ShardIterator: k0 })
    assert.strictEqual((await call(P, 'GetRecords', { ShardIterator: k0 })).body.__type, 'ExpiredIteratorException')
    s = await getStats()
    assert.strictEqual(s.injected.ExpiredIterator, 1)
  })

  await step('delay injected and counted', async () => {
    await setRules({ faults: [{ type: 'delay', ms: 300, ops: ['DescribeStreamSummary'] }] })
    const t0 = Date.now()
    await ok(P, 'DescribeStreamSummary', { StreamName: 'fx' })
    assert.ok(Date.now() - t0 >= 280, 'took ' + (Date.now() - t0) + ' ms')
    assert.strictEqual((await getStats()).injected.delay, 1)
  })

  await step('a custom error (LimitExceededException on ListShards) injected and counted', async () => {
    await setRules({ faults: [parseFaultSpec('error:errorType=LimitExceededException,ops=ListShards,first=1,message=slow down')] })
    const r = await call(P, 'ListShards', { StreamName: 'fx' })
    assert.strictEqual(r.status, 400)
    assert.deepStrictEqual(r.body, { __type: 'LimitExceededException', message: 'slow down' })
    assert.strictEqual((await getStats()).injected.LimitExceededException, 1)
  })

  await step('PutRecords partial failures: put-file retries failed entries, each record lands once', async () => {
    await ok(K, 'CreateStream', { StreamName: 'partial', ShardCount: 1 })
    await kinesis.waitActive(K, 'partial')
    await setRules({ seed: 5, faults: [{ type: 'PutRecordsPartial', first: 2, entryFraction: 0.5 }] })
    const r = await runCli(['put-file', '--endpoint', P, '--stream', 'partial', '--file', corpus])
    assert.strictEqual(r.records, 3)
    assert.ok(r.retriedEntries >= 2, 'retriedEntries ' + r.retriedEntries)
    const s = await getStats()
    assert.strictEqual(s.injected.PutRecordsPartial, 2)
    assert.ok(s.putRecordsFailedEntries >= 2)
    const got = (await readShardCaughtUp(K, 'partial', 'shardId-000000000000')).map((x) => Buffer.from(x.Data, 'base64').toString('hex'))
    assert.deepStrictEqual(got.sort(), members.map((m) => m.toString('hex')).sort())
  })

  await step('the whole rule set from --fault specs validates; bad rules are refused with 400', async () => {
    normalizeConfig({ faults: ['throughput:first=2', 'kms:fraction=0.1', 'http503:ops=GetRecords+ListShards,first=1', 'reset:first=1,phase=after', 'expired:nth=3', 'delay:ms=200', 'partial:first=1'].map(parseFaultSpec) })
    const r = await httpJson('POST', P + '/__rules', { faults: [{ type: 'nonsense' }] })
    assert.strictEqual(r.status, 400)
    const r2 = await httpJson('POST', P + '/__rules', { faults: [{ type: 'throughput', first: 1, fraction: 0.5 }] })
    assert.strictEqual(r2.status, 400)
  })

  // ------------------------------------------------------------ ListShards pagination
  await step('ListShards pagination through the proxy (page size 1), NextToken never reaches kinesalite', async () => {
    await setRules({ listShardsPageSize: 1 })
    const p1 = await ok(P, 'ListShards', { StreamName: 'fx' })
    assert.strictEqual(p1.Shards.length, 1)
    assert.strictEqual(p1.Shards[0].ShardId, 'shardId-000000000000')
    assert.ok(p1.NextToken)
    const p2 = await ok(P, 'ListShards', { NextToken: p1.NextToken })
    assert.strictEqual(p2.Shards.length, 1)
    assert.strictEqual(p2.Shards[0].ShardId, 'shardId-000000000001')
    assert.strictEqual(p2.NextToken, undefined)
    const both = await call(P, 'ListShards', { StreamName: 'fx', NextToken: p1.NextToken })
    assert.strictEqual(both.body.__type, 'InvalidArgumentException')
    const bogus = await call(P, 'ListShards', { NextToken: 'AAAAbogus' })
    assert.strictEqual(bogus.body.__type, 'InvalidArgumentException')
    const cli = await runCli(['list-shards', '--endpoint', P, '--stream', 'fx'])
    assert.deepStrictEqual(cli.Shards.map((s) => s.ShardId), ['shardId-000000000000', 'shardId-000000000001'])
    const s = await getStats()
    assert.strictEqual(s.listShards.nextTokensIssued, 2)
    assert.strictEqual(s.listShards.tokenCalls, 4)
    assert.strictEqual(s.listShards.badTokens, 1)
    // kinesalite is still alive (a forwarded NextToken-only ListShards would have killed it)
    await ok(K, 'DescribeStreamSummary', { StreamName: 'fx' })
    assert.strictEqual(emu.child.exitCode, null)
  })

  await step('ListShards MaxResults paginates without a page size; expired tokens are refused', async () => {
    await setRules({ nextTokenTtlMs: 50 })
    const p1 = await ok(P, 'ListShards', { StreamName: 'fx', MaxResults: 1 })
    assert.strictEqual(p1.Shards.length, 1)
    assert.ok(p1.NextToken)
    await sleep(120)
    const r = await call(P, 'ListShards', { NextToken: p1.NextToken })
    assert.strictEqual(r.body.__type, 'ExpiredNextTokenException')
    assert.strictEqual((await getStats()).listShards.expiredTokens, 1)
    const all = await ok(P, 'ListShards', { StreamName: 'fx' })
    assert.strictEqual(all.Shards.length, 2)
    assert.strictEqual(all.NextToken, undefined)
  })

  // ------------------------------------------------------------ resharding and ChildShards
  let afterSplit
  await step('kinesis.js split-shard splits shardId-000000000000 in the middle', async () => {
    const r = await runCli(['split-shard', '--endpoint', K, '--stream', 'fx', '--shard', 'shardId-000000000000'])
    assert.strictEqual(r.newStartingHashKey, (2n ** 126n).toString())
    afterSplit = (await runCli(['list-shards', '--endpoint', K, '--stream', 'fx'])).Shards
    assert.deepStrictEqual(afterSplit.map((s) => [s.ShardId, s.ParentShardId || null]), [
      ['shardId-000000000000', null], ['shardId-000000000001', null],
      ['shardId-000000000002', 'shardId-000000000000'], ['shardId-000000000003', 'shardId-000000000000']])
  })

  await step('ShardFilter through the proxy: AT_LATEST, AT_TRIM_HORIZON, AFTER_SHARD_ID, AT/FROM_TIMESTAMP', async () => {
    await setRules({})
    const latest = await ok(P, 'ListShards', { StreamName: 'fx', ShardFilter: { Type: 'AT_LATEST' } })
    assert.deepStrictEqual(latest.Shards.map((s) => s.ShardId), ['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'])
    const roots = await ok(P, 'ListShards', { StreamName: 'fx', ShardFilter: { Type: 'AT_TRIM_HORIZON' } })
    assert.deepStrictEqual(roots.Shards.map((s) => s.ShardId), ['shardId-000000000000', 'shardId-000000000001'])
    const after = await ok(P, 'ListShards', { StreamName: 'fx', ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000001' } })
    assert.deepStrictEqual(after.Shards.map((s) => s.ShardId), ['shardId-000000000002', 'shardId-000000000003'])
    const now = await ok(P, 'ListShards', { StreamName: 'fx', ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: Date.now() / 1000 + 5 } })
    assert.deepStrictEqual(now.Shards.map((s) => s.ShardId), ['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'])
    const from = await ok(P, 'ListShards', { StreamName: 'fx', ShardFilter: { Type: 'FROM_TIMESTAMP', Timestamp: 1 } })
    assert.strictEqual(from.Shards.length, 4)
    const bad = await call(P, 'ListShards', { StreamName: 'fx', ShardFilter: { Type: 'SIDEWAYS' } })
    assert.strictEqual(bad.body.__type, 'InvalidArgumentException')
  })

  await step('kinesalite alone ends a closed shard without NextShardIterator and without ChildShards', async () => {
    const r = await readShardToEnd(K, 'fx', 'shardId-000000000000')
    assert.strictEqual(r.last.NextShardIterator, undefined)
    assert.strictEqual(r.last.ChildShards, undefined)
  })

  await step('ChildShards appear through the proxy once the split parent is read to its end', async () => {
    await setRules({})
    const direct = await readShardCaughtUp(K, 'fx', 'shardId-000000000000')
    const r = await readShardToEnd(P, 'fx', 'shardId-000000000000')
    assert.strictEqual(r.records.length, direct.length)
    assert.strictEqual(r.last.NextShardIterator, undefined)
    const byId = Object.fromEntries(afterSplit.map((s) => [s.ShardId, s]))
    assert.deepStrictEqual(r.last.ChildShards, [
      { ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000'], HashKeyRange: byId['shardId-000000000002'].HashKeyRange },
      { ShardId: 'shardId-000000000003', ParentShards: ['shardId-000000000000'], HashKeyRange: byId['shardId-000000000003'].HashKeyRange }
    ])
    const s = await getStats()
    assert.strictEqual(s.childShards.added, 1)
    // open shards never get ChildShards
    const open = await ok(P, 'GetRecords', { ShardIterator: await iterFor('shardId-000000000001') })
    assert.ok(open.NextShardIterator && open.ChildShards === undefined)
  })

  await step('kinesis.js merge-shards; ChildShards of a merge list both parents', async () => {
    await runCli(['merge-shards', '--endpoint', K, '--stream', 'fx', '--shard', 'shardId-000000000002', '--adjacent-shard', 'shardId-000000000003'])
    const r = await readShardToEnd(P, 'fx', 'shardId-000000000003')
    assert.deepStrictEqual(r.last.ChildShards.map((c) => [c.ShardId, c.ParentShards]), [['shardId-000000000004', ['shardId-000000000002', 'shardId-000000000003']]])
  })

  await step('"childShards": false leaves GetRecords as kinesalite sends it', async () => {
    await setRules({ childShards: false })
    const r = await readShardToEnd(P, 'fx', 'shardId-000000000000')
    assert.strictEqual(r.last.ChildShards, undefined)
    assert.strictEqual((await getStats()).childShards.added, 0)
  })

  // ------------------------------------------------------------ CLI flags, lifecycle
  await step('fault-proxy.js --fault/--page-size flags; exits when its stdin closes', async () => {
    const p2 = await startChild('fault-proxy.js', ['--target', K, '--fault', 'throughput:first=1', '--page-size', '1', '--seed', '3'])
    const it = (await ok(p2.info.proxy, 'GetShardIterator', { StreamName: 'fx', ShardId: 'shardId-000000000001', ShardIteratorType: 'LATEST' })).ShardIterator
    assert.strictEqual((await call(p2.info.proxy, 'GetRecords', { ShardIterator: it })).status, 400)
    assert.strictEqual((await ok(p2.info.proxy, 'ListShards', { StreamName: 'fx' })).Shards.length, 1)
    const s = (await httpJson('GET', p2.info.stats)).body
    assert.strictEqual(s.injected.ProvisionedThroughputExceeded, 1)
    assert.strictEqual(s.listShards.nextTokensIssued, 1)
    p2.child.stdin.end()
    assert.ok(await waitExit(p2.child, 5000), 'proxy still running 5 s after stdin closed')
  })

  await step('emulators.js exits by itself after --max-seconds', async () => {
    const e2 = await startChild('emulators.js', ['--max-seconds', '1'])
    assert.ok(await waitExit(e2.child, 5000), 'still running')
  })

  await step('emulators.js rejects an unknown flag with an {"error":...} line', async () => {
    await assert.rejects(startChild('emulators.js', ['--host', '0.0.0.0']), /unknown flag --host/)
  })

  await step('kinesis.js delete-stream', async () => {
    const r = await runCli(['delete-stream', '--endpoint', P, '--stream', 'fx'])
    assert.deepStrictEqual(r, { stream: 'fx', deleted: true })
  })

  await step('emulators.js and fault-proxy.js exit when their stdin closes', async () => {
    emu.child.stdin.end()
    prox.child.stdin.end()
    assert.ok(await waitExit(emu.child, 5000), 'emulators still running')
    assert.ok(await waitExit(prox.child, 5000), 'proxy still running')
  })

  fs.rmSync(tmp, { recursive: true, force: true })
}

main().catch((e) => {
  failed++
  console.log('FAIL selftest crashed: ' + (e && e.stack))
}).finally(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  console.log(passed + ' passed, ' + failed + ' failed')
  process.exitCode = failed ? 1 : 0
  setTimeout(() => process.exit(process.exitCode), 200).unref()
})
