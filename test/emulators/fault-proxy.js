#!/usr/bin/env node
'use strict'
// An HTTP proxy in front of kinesalite that makes it look more like the real
// Kinesis service: it injects the faults kinesalite never produces
// (throttling, KMS throttling, 5xx, connection resets, expired iterators,
// partial PutRecords failures, delays), paginates ListShards (and applies
// ShardFilter), and adds ChildShards to GetRecords at the end of a closed
// shard. Counts of everything it did are served at GET /__stats.
// See README.md in this folder for the rule format.

const http = require('http')
const fs = require('fs')
const crypto = require('crypto')
const { parseFlags, installSelfExit, assertLoopbackUrl, makeRng, printJsonLine, sleep } = require('./common')

// ------------------------------------------------------------------ fault types

const ALL = null // "every operation"

// canonical name -> {aliases, default ops, what it does}
const TYPES = {
  ProvisionedThroughputExceeded: {
    aliases: ['throughput', 'pte', 'ProvisionedThroughputExceededException'],
    ops: ['GetRecords'],
    error: { status: 400, type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard' }
  },
  KMSThrottling: {
    aliases: ['kms', 'KMSThrottlingException'],
    ops: ['GetRecords'],
    error: { status: 400, type: 'KMSThrottlingException', message: 'The request was denied due to request throttling by KMS (injected).' }
  },
  http500: {
    aliases: ['500', 'InternalFailure'],
    ops: ALL,
    error: { status: 500, type: 'InternalFailure' }
  },
  http503: {
    aliases: ['503', 'ServiceUnavailable'],
    ops: ALL,
    error: { status: 503, type: 'InternalFailure' }
  },
  reset: {
    aliases: ['connection-reset', 'ECONNRESET'],
    ops: ALL
  },
  ExpiredIterator: {
    aliases: ['expired', 'ExpiredIteratorException'],
    ops: ['GetRecords'],
    error: { status: 400, type: 'ExpiredIteratorException', message: 'Iterator expired (injected by fault-proxy).' }
  },
  delay: {
    aliases: ['latency'],
    ops: ALL
  },
  PutRecordsPartial: {
    aliases: ['partial', 'put-partial'],
    ops: ['PutRecords']
  },
  error: {
    aliases: ['custom'],
    ops: ALL
  }
}

const ALIAS = {}
for (const [name, t] of Object.entries(TYPES)) {
  ALIAS[name.toLowerCase()] = name
  for (const a of t.aliases) ALIAS[a.toLowerCase()] = name
}

const RULE_KEYS = new Set(['type', 'ops', 'shards', 'streams', 'first', 'every', 'after', 'fraction', 'nth',
  'scope', 'max', 'ms', 'phase', 'status', 'errorType', 'message', 'entryFraction', 'errorCode', 'seed', 'comment'])

function normalizeRule (raw, index, seed) {
  if (!raw || typeof raw !== 'object') throw new Error('fault rule #' + index + ' is not an object')
  for (const k of Object.keys(raw)) if (!RULE_KEYS.has(k)) throw new Error('fault rule #' + index + ': unknown key "' + k + '"')
  const type = ALIAS[String(raw.type || '').toLowerCase()]
  if (!type) throw new Error('fault rule #' + index + ': unknown type "' + raw.type + '"')
  const def = TYPES[type]
  const r = { index, type, raw }
  const ops = raw.ops === undefined ? def.ops : raw.ops
  r.ops = ops == null || ops === '*' || (Array.isArray(ops) && ops.includes('*')) ? null : new Set([].concat(ops))
  r.shards = raw.shards ? new Set([].concat(raw.shards)) : null
  r.streams = raw.streams ? new Set([].concat(raw.streams)) : null
  const triggers = ['first', 'every', 'fraction', 'nth'].filter((k) => raw[k] !== undefined)
  if (triggers.length > 1) throw new Error('fault rule #' + index + ': use only one of first/every/fraction/nth')
  for (const k of ['first', 'every', 'after', 'max', 'nth', 'ms', 'status']) {
    if (raw[k] !== undefined && !(Number.isInteger(raw[k]) && raw[k] >= 0)) {
      throw new Error('fault rule #' + index + ': ' + k + ' must be a non-negative integer')
    }
  }
  for (const k of ['fraction', 'entryFraction']) {
    if (raw[k] !== undefined && !(typeof raw[k] === 'number' && raw[k] >= 0 && raw[k] <= 1)) {
      throw new Error('fault rule #' + index + ': ' + k + ' must be a number in [0, 1]')
    }
  }
  if (raw.every === 0 || raw.nth === 0) throw new Error('fault rule #' + index + ': every/nth must be >= 1')
  r.first = raw.first
  r.every = raw.every
  r.after = raw.after || 0
  r.fraction = raw.fraction
  r.nth = raw.nth
  r.scope = raw.scope || 'chain'
  if (r.scope !== 'chain' && r.scope !== 'iterator') throw new Error('fault rule #' + index + ': scope must be "chain" or "iterator"')
  if (r.nth !== undefined && !(r.ops && r.ops.size === 1 && r.ops.has('GetRecords'))) {
    throw new Error('fault rule #' + index + ': nth is counted per iterator and needs ops ["GetRecords"]')
  }
  r.max = raw.max
  r.phase = raw.phase || 'before'
  if (r.phase !== 'before' && r.phase !== 'after') throw new Error('fault rule #' + index + ': phase must be "before" or "after"')
  if (type === 'delay') {
    if (raw.ms === undefined) throw new Error('fault rule #' + index + ': delay needs ms')
    r.ms = raw.ms
  }
  if (type === 'error') {
    if (!raw.errorType) throw new Error('fault rule #' + index + ': error needs errorType')
    r.error = { status: raw.status || 400, type: raw.errorType, message: raw.message }
    r.counterName = raw.errorType
  } else if (def.error) {
    r.error = Object.assign({}, def.error)
    if (raw.message !== undefined) r.error.message = raw.message
    if (raw.status !== undefined) r.error.status = raw.status
  }
  if (type === 'PutRecordsPartial') {
    r.entryFraction = raw.entryFraction === undefined ? 0.5 : raw.entryFraction
    r.errorCode = raw.errorCode || 'ProvisionedThroughputExceededException'
  }
  r.counterName = r.counterName || type
  r.rng = makeRng(((raw.seed !== undefined ? raw.seed : seed) + Math.imul(index + 1, 0x9e3779b1)) >>> 0)
  r.matched = 0
  r.injected = 0
  r.perKey = new Map() // nth counting: chain id or iterator -> calls seen
  return r
}

function normalizeConfig (cfg) {
  if (Array.isArray(cfg)) cfg = { faults: cfg }
  cfg = cfg || {}
  const known = new Set(['seed', 'faults', 'listShardsPageSize', 'nextTokenTtlMs', 'childShards', 'comment'])
  for (const k of Object.keys(cfg)) if (!known.has(k)) throw new Error('rules: unknown top-level key "' + k + '"')
  const seed = cfg.seed === undefined ? 1 : Number(cfg.seed)
  if (!Number.isFinite(seed)) throw new Error('rules: seed must be a number')
  const pageSize = cfg.listShardsPageSize === undefined ? 0 : cfg.listShardsPageSize
  if (!(Number.isInteger(pageSize) && pageSize >= 0)) throw new Error('rules: listShardsPageSize must be an integer >= 0')
  const ttl = cfg.nextTokenTtlMs === undefined ? 300000 : cfg.nextTokenTtlMs
  if (!(Number.isInteger(ttl) && ttl > 0)) throw new Error('rules: nextTokenTtlMs must be a positive integer')
  return {
    seed,
    faults: (cfg.faults || []).map((f, i) => normalizeRule(f, i, seed)),
    listShardsPageSize: pageSize,
    nextTokenTtlMs: ttl,
    childShards: cfg.childShards === undefined ? true : !!cfg.childShards
  }
}

function loadRulesFile (file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

// "--fault TYPE[:key=value,key=value]" -> rule object. ops/shards take '+'-separated lists.
function parseFaultSpec (spec) {
  const colon = spec.indexOf(':')
  const rule = { type: colon < 0 ? spec : spec.slice(0, colon) }
  if (colon >= 0) {
    for (const kv of spec.slice(colon + 1).split(',').filter(Boolean)) {
      const eq = kv.indexOf('=')
      if (eq < 0) throw new Error('--fault ' + spec + ': expected key=value, got ' + kv)
      const k = kv.slice(0, eq)
      const v = kv.slice(eq + 1)
      if (k === 'ops' || k === 'shards' || k === 'streams') rule[k] = v.split('+')
      else if (/^-?\d+(\.\d+)?$/.test(v)) rule[k] = Number(v)
      else rule[k] = v
    }
  }
  return rule
}

// ------------------------------------------------------------------ helpers

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade',
  'content-length', 'host', 'te', 'trailer', 'expect'])

function emptyInjected () {
  const o = {}
  for (const name of Object.keys(TYPES)) if (name !== 'error') o[name] = 0
  return o
}

function newStats () {
  return {
    requests: { total: 0, byOp: {} },
    forwarded: 0,
    upstreamErrors: 0,
    injected: emptyInjected(),
    expiredIteratorReuse: 0,
    putRecordsFailedEntries: 0,
    listShards: { calls: 0, pages: 0, nextTokensIssued: 0, tokenCalls: 0, badTokens: 0, expiredTokens: 0, shardFilterCalls: 0 },
    childShards: { added: 0, noChildren: 0, unknownIterator: 0 }
  }
}

let kinesaliteDb = null
function kdb () {
  if (kinesaliteDb === null) {
    try { kinesaliteDb = require('kinesalite/db') } catch (_) { kinesaliteDb = false }
  }
  return kinesaliteDb
}

// Recover stream and shard from a kinesalite iterator (fallback when the
// iterator did not come through this proxy). Returns null if it cannot.
function decodeKinesaliteIterator (iter) {
  const db = kdb()
  if (!db || typeof iter !== 'string') return null
  try {
    const buf = Buffer.from(iter, 'base64')
    const d = crypto.createDecipheriv('aes-256-cbc', db.ITERATOR_PWD_KEY, db.ITERATOR_PWD_IV)
    const pieces = Buffer.concat([d.update(buf.subarray(8)), d.final()]).toString('utf8').split('/')
    if (pieces.length !== 5) return null
    return { stream: pieces[1], shardId: pieces[2] }
  } catch (_) {
    return null
  }
}

function seqTimeMs (seq) {
  const db = kdb()
  if (!db || !seq) return null
  try {
    const p = db.parseSequence(seq)
    return p.seqTime != null ? p.seqTime : p.shardCreateTime
  } catch (_) {
    return null
  }
}

function toMs (ts) {
  if (ts == null) return NaN
  if (typeof ts === 'number') return ts * 1000 // JSON 1.1: epoch seconds
  const n = Number(ts)
  return Number.isFinite(n) ? n * 1000 : Date.parse(ts)
}

// Apply a ListShards ShardFilter to kinesalite's full shard list.
function applyShardFilter (shards, filter) {
  const t = filter.Type
  const start = (s) => seqTimeMs(s.SequenceNumberRange && s.SequenceNumberRange.StartingSequenceNumber)
  const end = (s) => s.SequenceNumberRange && s.SequenceNumberRange.EndingSequenceNumber
    ? seqTimeMs(s.SequenceNumberRange.EndingSequenceNumber) : null
  switch (t) {
    case 'AFTER_SHARD_ID':
      if (!filter.ShardId) return { error: 'ShardFilter AFTER_SHARD_ID needs ShardId' }
      return { shards: shards.filter((s) => s.ShardId > filter.ShardId) }
    case 'AT_TRIM_HORIZON': // no data has expired here: the shards open at the oldest point are the roots
      return { shards: shards.filter((s) => !s.ParentShardId && !s.AdjacentParentShardId) }
    case 'FROM_TRIM_HORIZON':
      return { shards }
    case 'AT_LATEST':
      return { shards: shards.filter((s) => !(s.SequenceNumberRange && s.SequenceNumberRange.EndingSequenceNumber)) }
    case 'AT_TIMESTAMP':
    case 'FROM_TIMESTAMP': {
      const ts = toMs(filter.Timestamp)
      if (!Number.isFinite(ts)) return { error: 'ShardFilter ' + t + ' needs Timestamp' }
      return {
        shards: shards.filter((s) => {
          const e = end(s)
          const st = start(s)
          const closedBefore = e != null && e < ts
          if (t === 'FROM_TIMESTAMP') return !closedBefore
          return !closedBefore && (st == null || st <= ts)
        })
      }
    }
    default:
      return { error: 'Invalid ShardFilter Type ' + t }
  }
}

// ------------------------------------------------------------------ the proxy

function createProxy ({ target, config = {}, verbose = false }) {
  const targetUrl = assertLoopbackUrl(target)
  let cfg = normalizeConfig(config)
  let stats = newStats()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  const startedAt = Date.now()
  const tokenKey = crypto.randomBytes(16)

  // iterator -> {id, stream, shardId}; bounded so a long run cannot grow it forever
  const chains = new Map()
  let chainSeq = 0
  const expired = new Set()
  const remember = (map, k, v) => {
    if (map instanceof Set) map.add(k)
    else map.set(k, v)
    if (map.size > 200000) map.delete(map.keys().next().value)
  }

  const log = (msg) => { if (verbose) process.stderr.write('fault-proxy: ' + msg + '\n') }

  function upstream (method, path, headers, body) {
    return new Promise((resolve, reject) => {
      const h = {}
      for (const [k, v] of Object.entries(headers)) if (!HOP_HEADERS.has(k)) h[k] = v
      h.host = targetUrl.host
      h['content-length'] = body.length
      const req = http.request({ host: targetUrl.hostname, port: targetUrl.port, method, path, headers: h, agent }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      req.setTimeout(60000, () => req.destroy(new Error('upstream timeout')))
      req.on('error', reject)
      req.end(body)
    })
  }

  // Kinesis call to kinesalite made by the proxy itself.
  async function kinesisUpstream (op, payload) {
    const body = Buffer.from(JSON.stringify(payload))
    const r = await upstream('POST', '/', {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.' + op,
      'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''),
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=0000'
    }, body)
    let json = null
    try { json = JSON.parse(r.body.toString('utf8')) } catch (_) {}
    return { status: r.status, json, raw: r }
  }

  function send (res, status, obj, headers = {}) {
    const body = Buffer.isBuffer(obj) ? obj : Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj))
    const h = Object.assign({}, headers)
    for (const k of Object.keys(h)) if (HOP_HEADERS.has(k.toLowerCase())) delete h[k]
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/x-amz-json-1.1'
    h['Content-Length'] = body.length
    res.writeHead(status, h)
    res.end(body)
  }

  function sendKinesisError (res, status, type, message) {
    const body = { __type: type }
    if (message !== undefined) body.message = message
    send(res, status, body, { 'x-amzn-RequestId': crypto.randomUUID(), 'x-amzn-ErrorType': type })
  }

  function resetSocket (req, res) {
    const s = req.socket
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy()
    else s.destroy()
  }

  // Does this rule fire for this request? Updates the rule's counters.
  function fires (rule, ctx) {
    if (rule.ops && !rule.ops.has(ctx.op)) return false
    if (rule.shards && !(ctx.shardId && rule.shards.has(ctx.shardId))) return false
    if (rule.streams && !(ctx.stream && rule.streams.has(ctx.stream))) return false
    if (rule.max !== undefined && rule.injected >= rule.max) return false
    rule.matched++
    if (rule.matched <= rule.after) return false
    const k = rule.matched - rule.after
    let fire
    if (rule.nth !== undefined) {
      const key = rule.scope === 'iterator' ? 'i:' + ctx.iterator : 'c:' + (ctx.chain ? ctx.chain.id : 'i:' + ctx.iterator)
      const n = (rule.perKey.get(key) || 0) + 1
      remember(rule.perKey, key, n)
      fire = n === rule.nth
    } else if (rule.first !== undefined) fire = k <= rule.first
    else if (rule.every !== undefined) fire = k % rule.every === 0
    else if (rule.fraction !== undefined) fire = rule.rng() < rule.fraction
    else fire = true
    return fire
  }

  function count (rule) {
    rule.injected++
    stats.injected[rule.counterName] = (stats.injected[rule.counterName] || 0) + 1
  }

  // -------------------------------------------------------------- token codec (ListShards)

  function encodeToken (t) {
    const plain = Buffer.from(JSON.stringify(t))
    const mac = crypto.createHmac('sha256', tokenKey).update(plain).digest().subarray(0, 16)
    return Buffer.concat([mac, plain]).toString('base64')
  }

  function decodeToken (s) {
    try {
      const buf = Buffer.from(s, 'base64')
      if (buf.length < 17 || buf.toString('base64') !== s) return null
      const mac = buf.subarray(0, 16)
      const plain = buf.subarray(16)
      const want = crypto.createHmac('sha256', tokenKey).update(plain).digest().subarray(0, 16)
      if (!crypto.timingSafeEqual(mac, want)) return null
      return JSON.parse(plain.toString('utf8'))
    } catch (_) {
      return null
    }
  }

  async function handleListShards (req, res, body, headers) {
    stats.listShards.calls++
    let stream, after, filter, maxResults
    if (body.NextToken !== undefined) {
      // Never forwarded: kinesalite crashes on a NextToken-only ListShards.
      stats.listShards.tokenCalls++
      if (body.StreamName !== undefined || body.StreamCreationTimestamp !== undefined) {
        return sendKinesisError(res, 400, 'InvalidArgumentException',
          'NextToken cannot be combined with StreamName or StreamCreationTimestamp.')
      }
      const t = decodeToken(String(body.NextToken))
      if (!t) {
        stats.listShards.badTokens++
        return sendKinesisError(res, 400, 'InvalidArgumentException', 'Invalid NextToken.')
      }
      if (Date.now() - t.t > cfg.nextTokenTtlMs) {
        stats.listShards.expiredTokens++
        return sendKinesisError(res, 400, 'ExpiredNextTokenException', 'The NextToken has expired.')
      }
      stream = t.s; after = t.a; filter = t.f; maxResults = body.MaxResults !== undefined ? body.MaxResults : t.m
    } else {
      stream = body.StreamName; after = body.ExclusiveStartShardId; filter = body.ShardFilter; maxResults = body.MaxResults
    }
    if (maxResults !== undefined && !(Number.isInteger(maxResults) && maxResults >= 1 && maxResults <= 10000)) {
      return sendKinesisError(res, 400, 'ValidationException',
        "1 validation error detected: Value '" + maxResults + "' at 'maxResults' failed to satisfy constraint: " +
        'Member must have value between 1 and 10000')
    }
    // First page: forward the caller's request (kinesalite validates it); later pages: ask by StreamName.
    const fwd = body.NextToken !== undefined ? { StreamName: stream } : Object.assign({}, body)
    delete fwd.ShardFilter; delete fwd.MaxResults; delete fwd.ExclusiveStartShardId
    let r
    try {
      r = await kinesisUpstream('ListShards', fwd)
    } catch (e) {
      stats.upstreamErrors++
      return sendKinesisError(res, 502, 'InternalFailure', 'fault-proxy: upstream error: ' + e.message)
    }
    stats.forwarded++
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.Shards)) {
      return send(res, r.status, r.raw.body, r.raw.headers)
    }
    let shards = r.json.Shards.slice().sort((a, b) => (a.ShardId < b.ShardId ? -1 : a.ShardId > b.ShardId ? 1 : 0))
    if (filter) {
      stats.listShards.shardFilterCalls++
      const f = applyShardFilter(shards, filter)
      if (f.error) return sendKinesisError(res, 400, 'InvalidArgumentException', f.error)
      shards = f.shards
    }
    if (after) shards = shards.filter((s) => s.ShardId > after)
    let limit = maxResults !== undefined ? maxResults : 1000
    if (cfg.listShardsPageSize > 0) limit = Math.min(limit, cfg.listShardsPageSize)
    const page = shards.slice(0, limit)
    const out = { Shards: page }
    if (shards.length > page.length) {
      out.NextToken = encodeToken({ s: stream, a: page[page.length - 1].ShardId, f: filter, m: maxResults, t: Date.now(), n: crypto.randomBytes(4).toString('hex') })
      stats.listShards.nextTokensIssued++
    }
    stats.listShards.pages++
    send(res, 200, out, { 'x-amzn-RequestId': crypto.randomUUID() })
  }

  // -------------------------------------------------------------- request handler

  async function handle (req, res, rawBody) {
    const url = req.url || '/'
    // control endpoints
    if (url === '/__stats' && req.method === 'GET') {
      return send(res, 200, snapshot(), { 'Content-Type': 'application/json' })
    }
    if (url === '/__health' && req.method === 'GET') return send(res, 200, { ok: true }, { 'Content-Type': 'application/json' })
    if (url === '/__reset' && req.method === 'POST') {
      reset()
      return send(res, 200, { ok: true }, { 'Content-Type': 'application/json' })
    }
    if (url === '/__rules') {
      if (req.method === 'GET') return send(res, 200, describeConfig(), { 'Content-Type': 'application/json' })
      if (req.method === 'POST' || req.method === 'PUT') {
        try {
          setConfig(JSON.parse(rawBody.toString('utf8') || '{}'))
        } catch (e) {
          return send(res, 400, { error: e.message }, { 'Content-Type': 'application/json' })
        }
        return send(res, 200, { ok: true, rules: describeConfig() }, { 'Content-Type': 'application/json' })
      }
    }

    const targetHeader = String(req.headers['x-amz-target'] || '')
    const dot = targetHeader.lastIndexOf('.')
    const op = dot >= 0 ? targetHeader.slice(dot + 1) : ''
    const isKinesis = targetHeader.startsWith('Kinesis_20131202.')
    const isJson = /json/.test(String(req.headers['content-type'] || ''))
    let body = null
    if (isKinesis && isJson) {
      try { body = JSON.parse(rawBody.toString('utf8')) } catch (_) { body = null }
    }
    stats.requests.total++
    if (op) stats.requests.byOp[op] = (stats.requests.byOp[op] || 0) + 1

    // what we know about the shard this request is about
    const ctx = { op, iterator: null, chain: null, shardId: null, stream: null }
    if (body && typeof body === 'object') {
      ctx.stream = body.StreamName || null
      ctx.shardId = body.ShardId || null
      if (op === 'GetRecords' && typeof body.ShardIterator === 'string') {
        ctx.iterator = body.ShardIterator
        ctx.chain = chains.get(ctx.iterator) || null
        if (!ctx.chain) {
          const d = decodeKinesaliteIterator(ctx.iterator)
          if (d) ctx.chain = { id: 'x' + (++chainSeq), stream: d.stream, shardId: d.shardId }
        }
        if (ctx.chain) { ctx.shardId = ctx.chain.shardId; ctx.stream = ctx.chain.stream }
        if (expired.has(ctx.iterator)) {
          stats.expiredIteratorReuse++
          return sendKinesisError(res, 400, 'ExpiredIteratorException', TYPES.ExpiredIterator.error.message)
        }
      }
    }

    // evaluate the rules in order; delays accumulate, the first other fault wins
    let delayMs = 0
    let fault = null
    for (const rule of cfg.faults) {
      if (!fires(rule, ctx)) continue
      count(rule)
      if (rule.type === 'delay') { delayMs += rule.ms; continue }
      fault = rule
      break
    }
    if (delayMs) await sleep(delayMs)
    if (fault) log('inject ' + fault.counterName + ' on ' + op + (ctx.shardId ? ' ' + ctx.shardId : ''))

    if (fault && fault.error) {
      if (fault.type === 'ExpiredIterator' && ctx.iterator) remember(expired, ctx.iterator)
      return sendKinesisError(res, fault.error.status, fault.error.type, fault.error.message)
    }
    if (fault && fault.type === 'reset' && fault.phase === 'before') return resetSocket(req, res)

    if (isKinesis && body && op === 'ListShards') return handleListShards(req, res, body, req.headers)

    // PutRecords partial failure: drop chosen entries before forwarding, then merge
    let failedIdx = null
    let fwdBody = rawBody
    if (fault && fault.type === 'PutRecordsPartial' && body && Array.isArray(body.Records) && body.Records.length) {
      failedIdx = new Set()
      body.Records.forEach((_, i) => { if (fault.rng() < fault.entryFraction) failedIdx.add(i) })
      if (failedIdx.size === 0) failedIdx.add(Math.floor(fault.rng() * body.Records.length))
      stats.putRecordsFailedEntries += failedIdx.size
      const keep = body.Records.filter((_, i) => !failedIdx.has(i))
      if (keep.length === 0) {
        return send(res, 200, {
          FailedRecordCount: body.Records.length,
          Records: body.Records.map(() => ({ ErrorCode: fault.errorCode, ErrorMessage: 'Rate exceeded for shard' }))
        }, { 'x-amzn-RequestId': crypto.randomUUID() })
      }
      fwdBody = Buffer.from(JSON.stringify(Object.assign({}, body, { Records: keep })))
    }

    let up
    try {
      up = await upstream(req.method, url, req.headers, fwdBody)
    } catch (e) {
      stats.upstreamErrors++
      return sendKinesisError(res, 502, 'InternalFailure', 'fault-proxy: upstream error: ' + e.message)
    }
    stats.forwarded++
    if (fault && fault.type === 'reset') return resetSocket(req, res) // phase "after": the call took effect

    let outBody = up.body
    if (up.status === 200 && isKinesis && body) {
      let json = null
      try { json = JSON.parse(up.body.toString('utf8')) } catch (_) {}
      if (json && op === 'GetShardIterator' && json.ShardIterator) {
        remember(chains, json.ShardIterator, { id: 'c' + (++chainSeq), stream: body.StreamName, shardId: body.ShardId })
      } else if (json && op === 'GetRecords') {
        if (json.NextShardIterator) {
          if (ctx.chain) remember(chains, json.NextShardIterator, ctx.chain)
        } else if (cfg.childShards && !json.ChildShards) {
          if (!ctx.chain) {
            stats.childShards.unknownIterator++
          } else {
            const children = await childShardsOf(ctx.chain.stream, ctx.chain.shardId)
            if (children && children.length) {
              json.ChildShards = children
              stats.childShards.added++
              outBody = Buffer.from(JSON.stringify(json))
            } else {
              stats.childShards.noChildren++
            }
          }
        }
      } else if (json && op === 'PutRecords' && failedIdx) {
        const merged = []
        let j = 0
        for (let i = 0; i < body.Records.length; i++) {
          if (failedIdx.has(i)) merged.push({ ErrorCode: fault.errorCode, ErrorMessage: 'Rate exceeded for shard' })
          else merged.push(json.Records[j++])
        }
        json.Records = merged
        json.FailedRecordCount = (json.FailedRecordCount || 0) + failedIdx.size
        outBody = Buffer.from(JSON.stringify(json))
      }
    }
    send(res, up.status, outBody, up.headers)
  }

  async function childShardsOf (stream, shardId) {
    let r
    try {
      r = await kinesisUpstream('ListShards', { StreamName: stream })
    } catch (_) {
      stats.upstreamErrors++
      return null
    }
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.Shards)) return null
    return r.json.Shards
      .filter((s) => s.ParentShardId === shardId || s.AdjacentParentShardId === shardId)
      .sort((a, b) => (a.ShardId < b.ShardId ? -1 : 1))
      .map((s) => ({
        ShardId: s.ShardId,
        ParentShards: [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean),
        HashKeyRange: s.HashKeyRange
      }))
  }

  function snapshot () {
    return Object.assign({}, stats, {
      uptimeMs: Date.now() - startedAt,
      target: targetUrl.origin,
      rules: cfg.faults.map((r) => ({ index: r.index, type: r.counterName, matched: r.matched, injected: r.injected })),
      listShardsPageSize: cfg.listShardsPageSize,
      childShardsEnabled: cfg.childShards
    })
  }

  function describeConfig () {
    return {
      seed: cfg.seed,
      faults: cfg.faults.map((r) => r.raw),
      listShardsPageSize: cfg.listShardsPageSize,
      nextTokenTtlMs: cfg.nextTokenTtlMs,
      childShards: cfg.childShards
    }
  }

  // Counters to zero, rules back to their initial state (same PRNG sequence).
  function reset () {
    stats = newStats()
    cfg = normalizeConfig(describeConfig())
    expired.clear()
  }

  function setConfig (c) {
    const next = normalizeConfig(c)
    cfg = next
    stats = newStats()
    expired.clear()
  }

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('error', () => {})
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        process.stderr.write('fault-proxy: internal error: ' + e.stack + '\n')
        if (!res.headersSent) sendKinesisError(res, 500, 'InternalFailure', 'fault-proxy internal error')
        else res.destroy()
      })
    })
  })
  server.keepAliveTimeout = 30000

  function listen (port = 0, host = '127.0.0.1') {
    assertLoopbackUrl('http://' + (host.includes(':') ? '[' + host + ']' : host) + '/')
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.removeListener('error', reject)
        resolve('http://' + host + ':' + server.address().port)
      })
    })
  }

  return { server, listen, stats: snapshot, reset, setConfig, describeConfig }
}

// ------------------------------------------------------------------ CLI

const USAGE = `usage: node fault-proxy.js --target URL [flags]
  --target URL          kinesalite URL (loopback only), e.g. http://127.0.0.1:41234
  --port N              listen on 127.0.0.1:N (0 = a free port; default 0)
  --rules FILE          JSON rule file (see README.md)
  --fault SPEC          add a fault rule, repeatable: TYPE[:key=value,...]
                        e.g. throughput:first=2  kms:fraction=0.1  http503:ops=GetRecords+ListShards,first=1
                             reset:first=1,phase=after  expired:nth=3  delay:ms=200  partial:first=1
                             error:errorType=LimitExceededException,ops=ListShards,first=1
  --seed N              PRNG seed for fraction rules (default 1, or the rule file's)
  --page-size K         ListShards returns at most K shards per page plus a NextToken
  --no-child-shards     do not add ChildShards at the end of a closed shard
  --max-seconds N       exit after N seconds (default 600; 0 = never)
  --ignore-stdin        do not exit when stdin (a pipe) closes
  --watch-parent        also exit when the parent process goes away
  --verbose             log each injected fault to stderr
Prints one line: {"proxy":"http://127.0.0.1:P","target":"...","stats":"http://127.0.0.1:P/__stats","pid":N}`

async function main () {
  let opts, config
  try {
    opts = parseFlags(process.argv.slice(2), {
      target: 'string',
      port: 'int',
      rules: 'string',
      fault: 'list',
      seed: 'int',
      'page-size': 'int',
      'child-shards': 'bool',
      'next-token-ttl-ms': 'int',
      'max-seconds': 'float',
      'ignore-stdin': 'bool',
      'watch-parent': 'bool',
      verbose: 'bool',
      help: 'bool'
    })
    if (opts.help) { process.stdout.write(USAGE + '\n'); return }
    if (opts._.length) throw new Error('unexpected argument ' + opts._[0])
    if (!opts.target) throw new Error('--target is required')
    const fileCfg = opts.rules ? loadRulesFile(opts.rules) : {}
    config = Array.isArray(fileCfg) ? { faults: fileCfg } : Object.assign({}, fileCfg)
    config.faults = (config.faults || []).concat((opts.fault || []).map(parseFaultSpec))
    if (opts.seed !== undefined) config.seed = opts.seed
    if (opts.pageSize !== undefined) config.listShardsPageSize = opts.pageSize
    if (opts.childShards !== undefined) config.childShards = opts.childShards
    if (opts.nextTokenTtlMs !== undefined) config.nextTokenTtlMs = opts.nextTokenTtlMs
    normalizeConfig(config) // validate before listening
  } catch (e) {
    process.stderr.write('fault-proxy: ' + e.message + '\n' + USAGE + '\n')
    await printJsonLine({ error: e.message })
    process.exit(2)
  }
  installSelfExit({
    maxSeconds: opts.maxSeconds == null ? 600 : opts.maxSeconds,
    ignoreStdin: !!opts.ignoreStdin,
    watchParent: !!opts.watchParent,
    name: 'fault-proxy'
  })
  try {
    const p = createProxy({ target: opts.target, config, verbose: !!opts.verbose })
    const url = await p.listen(opts.port || 0)
    await printJsonLine({ proxy: url, target: new URL(opts.target).origin, stats: url + '/__stats', pid: process.pid })
  } catch (e) {
    process.stderr.write('fault-proxy: ' + e.stack + '\n')
    await printJsonLine({ error: e.message })
    process.exit(1)
  }
}

module.exports = { createProxy, normalizeConfig, parseFaultSpec, loadRulesFile, TYPES }

if (require.main === module) main()
