#!/usr/bin/env node
'use strict'
// Drive kinesalite (or the fault proxy in front of it) over the Kinesis JSON
// 1.1 API, without any AWS SDK. Used by the integration tests and the demo.
// See README.md in this folder.

const fs = require('fs')
const crypto = require('crypto')
const { parseFlags, kinesisCall, KinesisError, sleep, splitGzipMembers } = require('./common')

const USAGE = `usage: node kinesis.js COMMAND --endpoint URL [flags]
commands:
  create-stream  --stream NAME --shards N [--exists-ok]        waits until ACTIVE
  put-file       --stream NAME --file F|- [--partition-key-mode random|fixed|index]
                 [--partition-key K] [--max-retries N]          one gzip member = one record
  split-shard    --stream NAME --shard ID [--hash-key K]       default: middle of the shard's range
  merge-shards   --stream NAME --shard ID --adjacent-shard ID
  list-shards    --stream NAME [--max-results N]               prints {"Shards":[...]} (all pages)
  describe-stream --stream NAME                                prints StreamDescriptionSummary
  read-all       --stream NAME [--out F] [--limit N]           reads every shard from TRIM_HORIZON
  delete-stream  --stream NAME [--no-wait]
common flags: --endpoint URL (loopback http only), --timeout-ms N (waits; default 30000)
Each command prints one JSON line on success and exits 0; on failure it prints
the error to stderr and exits 1.`

const MAX_BATCH_RECORDS = 500
const MAX_BATCH_BYTES = 5 * 1024 * 1024 // data + partition keys, as Kinesis counts it
const MAX_REQUEST_BYTES = 7000000 // kinesalite refuses bodies over 7 MiB; base64 grows data by 4/3

function need (opts, ...names) {
  for (const n of names) {
    if (opts[n] === undefined) throw new Error('missing --' + n.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()))
  }
}

async function describe (endpoint, stream) {
  const r = await kinesisCall(endpoint, 'DescribeStreamSummary', { StreamName: stream })
  return r.StreamDescriptionSummary
}

async function waitActive (endpoint, stream, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const d = await describe(endpoint, stream)
    if (d.StreamStatus === 'ACTIVE') return d
    if (Date.now() > deadline) throw new Error('stream ' + stream + ' still ' + d.StreamStatus + ' after ' + timeoutMs + ' ms')
    await sleep(25)
  }
}

async function createStream (endpoint, stream, shards, { existsOk = false, timeoutMs } = {}) {
  try {
    await kinesisCall(endpoint, 'CreateStream', { StreamName: stream, ShardCount: shards })
  } catch (e) {
    if (!(existsOk && e instanceof KinesisError && e.type === 'ResourceInUseException')) throw e
  }
  const d = await waitActive(endpoint, stream, timeoutMs)
  return { stream, status: d.StreamStatus, openShards: d.OpenShardCount }
}

async function listShards (endpoint, stream, { maxResults } = {}) {
  const shards = []
  let req = { StreamName: stream }
  if (maxResults) req.MaxResults = maxResults
  let pages = 0
  for (;;) {
    const r = await kinesisCall(endpoint, 'ListShards', req)
    pages++
    shards.push(...(r.Shards || []))
    if (!r.NextToken) break
    req = { NextToken: r.NextToken }
    if (maxResults) req.MaxResults = maxResults
    if (pages > 100000) throw new Error('ListShards: too many pages')
  }
  return { Shards: shards, pages }
}

function partitionKeyFor (mode, i, fixed) {
  if (mode === 'fixed') return fixed
  if (mode === 'index') return 'pk-' + i
  return crypto.randomBytes(16).toString('hex')
}

// Put entries [{data: Buffer, key}] with PutRecords, retrying failed entries.
async function putRecords (endpoint, stream, entries, { maxRetries = 20 } = {}) {
  const summary = { records: 0, bytes: 0, batches: 0, retriedEntries: 0, shards: {} }
  const batches = []
  let cur = []
  let curBytes = 0
  let curReq = 0
  for (const e of entries) {
    const size = e.data.length + Buffer.byteLength(e.key)
    const reqSize = Math.ceil(e.data.length / 3) * 4 + Buffer.byteLength(e.key) + 40
    if (cur.length && (cur.length >= MAX_BATCH_RECORDS || curBytes + size > MAX_BATCH_BYTES || curReq + reqSize > MAX_REQUEST_BYTES)) {
      batches.push(cur)
      cur = []; curBytes = 0; curReq = 0
    }
    cur.push(e); curBytes += size; curReq += reqSize
  }
  if (cur.length) batches.push(cur)

  for (const batch of batches) {
    let pending = batch
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt > maxRetries) throw new Error('PutRecords: ' + pending.length + ' entries still failing after ' + maxRetries + ' retries')
      if (attempt > 0) {
        summary.retriedEntries += pending.length
        await sleep(Math.min(2000, 25 * 2 ** attempt))
      }
      const r = await kinesisCall(endpoint, 'PutRecords', {
        StreamName: stream,
        Records: pending.map((e) => ({ Data: e.data.toString('base64'), PartitionKey: e.key }))
      })
      summary.batches++
      const failed = []
      ;(r.Records || []).forEach((res, i) => {
        if (res.ErrorCode || !res.SequenceNumber) {
          failed.push(pending[i])
        } else {
          summary.records++
          summary.bytes += pending[i].data.length
          summary.shards[res.ShardId] = (summary.shards[res.ShardId] || 0) + 1
        }
      })
      if ((r.Records || []).length !== pending.length) throw new Error('PutRecords: response has ' + (r.Records || []).length + ' results for ' + pending.length + ' entries')
      pending = failed
    }
  }
  return summary
}

async function putFile (endpoint, stream, file, { partitionKeyMode = 'random', partitionKey = 'vpcflowd', maxRetries, maxRecordBytes = 1048576 } = {}) {
  if (!['random', 'fixed', 'index'].includes(partitionKeyMode)) throw new Error('--partition-key-mode must be random, fixed or index')
  const buf = file === '-' ? fs.readFileSync(0) : fs.readFileSync(file)
  const members = splitGzipMembers(buf)
  members.forEach((m, i) => {
    if (m.length > maxRecordBytes) throw new Error('gzip member #' + i + ' is ' + m.length + ' bytes, over the ' + maxRecordBytes + '-byte record limit')
  })
  const entries = members.map((m, i) => ({ data: m.member, key: partitionKeyFor(partitionKeyMode, i, partitionKey) }))
  const s = await putRecords(endpoint, stream, entries, { maxRetries })
  return Object.assign({ stream, file, members: members.length }, s)
}

async function splitShard (endpoint, stream, shardId, { hashKey, timeoutMs } = {}) {
  let key = hashKey
  if (key === undefined) {
    const { Shards } = await listShards(endpoint, stream)
    const s = Shards.find((x) => x.ShardId === shardId)
    if (!s) throw new Error('no shard ' + shardId + ' in stream ' + stream)
    const lo = BigInt(s.HashKeyRange.StartingHashKey)
    const hi = BigInt(s.HashKeyRange.EndingHashKey)
    key = ((lo + hi + 1n) / 2n).toString()
  }
  await kinesisCall(endpoint, 'SplitShard', { StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: String(key) })
  await waitActive(endpoint, stream, timeoutMs)
  return { stream, split: shardId, newStartingHashKey: String(key) }
}

async function mergeShards (endpoint, stream, shardId, adjacent, { timeoutMs } = {}) {
  await kinesisCall(endpoint, 'MergeShards', { StreamName: stream, ShardToMerge: shardId, AdjacentShardToMerge: adjacent })
  await waitActive(endpoint, stream, timeoutMs)
  return { stream, merged: [shardId, adjacent] }
}

async function deleteStream (endpoint, stream, { wait = true, timeoutMs = 30000 } = {}) {
  await kinesisCall(endpoint, 'DeleteStream', { StreamName: stream })
  if (wait) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await describe(endpoint, stream)
      } catch (e) {
        if (e instanceof KinesisError && e.type === 'ResourceNotFoundException') break
        throw e
      }
      if (Date.now() > deadline) throw new Error('stream ' + stream + ' not gone after ' + timeoutMs + ' ms')
      await sleep(25)
    }
  }
  return { stream, deleted: true }
}

// Read one shard from TRIM_HORIZON until its end (closed shard) or until caught
// up (MillisBehindLatest 0 and no records). Returns {records, ended, childShards}.
async function readShard (endpoint, stream, shardId, { limit, maxCalls = 10000 } = {}) {
  const it = await kinesisCall(endpoint, 'GetShardIterator', { StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })
  let iter = it.ShardIterator
  const records = []
  for (let calls = 0; calls < maxCalls; calls++) {
    const req = { ShardIterator: iter }
    if (limit) req.Limit = limit
    const r = await kinesisCall(endpoint, 'GetRecords', req)
    records.push(...r.Records)
    if (!r.NextShardIterator) return { records, ended: true, childShards: r.ChildShards || null }
    if (r.Records.length === 0 && r.MillisBehindLatest === 0) return { records, ended: false, childShards: null }
    iter = r.NextShardIterator
  }
  throw new Error('readShard ' + shardId + ': still reading after ' + maxCalls + ' calls')
}

async function readAll (endpoint, stream, { out, limit } = {}) {
  const { Shards } = await listShards(endpoint, stream)
  const result = { stream, records: 0, bytes: 0, shards: {} }
  const datas = []
  for (const s of Shards) {
    const r = await readShard(endpoint, stream, s.ShardId, { limit })
    result.shards[s.ShardId] = r.records.length
    for (const rec of r.records) {
      const d = Buffer.from(rec.Data, 'base64')
      result.records++
      result.bytes += d.length
      if (out) datas.push(d)
    }
  }
  if (out) fs.writeFileSync(out, Buffer.concat(datas))
  return result
}

async function main () {
  const argv = process.argv.slice(2)
  const cmd = argv[0]
  if (!cmd || cmd === '--help' || cmd === 'help') { process.stdout.write(USAGE + '\n'); process.exit(cmd ? 0 : 2) }
  const opts = parseFlags(argv.slice(1), {
    endpoint: 'string',
    stream: 'string',
    shards: 'int',
    'exists-ok': 'bool',
    file: 'string',
    'partition-key-mode': 'string',
    'partition-key': 'string',
    'max-retries': 'int',
    shard: 'string',
    'adjacent-shard': 'string',
    'hash-key': 'string',
    'max-results': 'int',
    out: 'string',
    limit: 'int',
    wait: 'bool',
    'timeout-ms': 'int'
  })
  if (opts._.length) throw new Error('unexpected argument ' + opts._[0])
  need(opts, 'endpoint', 'stream')
  const ep = opts.endpoint
  const t = opts.timeoutMs
  let result
  switch (cmd) {
    case 'create-stream':
      need(opts, 'shards')
      result = await createStream(ep, opts.stream, opts.shards, { existsOk: !!opts.existsOk, timeoutMs: t })
      break
    case 'put-file':
      need(opts, 'file')
      result = await putFile(ep, opts.stream, opts.file, {
        partitionKeyMode: opts.partitionKeyMode || 'random',
        partitionKey: opts.partitionKey || 'vpcflowd',
        maxRetries: opts.maxRetries
      })
      break
    case 'split-shard':
      need(opts, 'shard')
      result = await splitShard(ep, opts.stream, opts.shard, { hashKey: opts.hashKey, timeoutMs: t })
      break
    case 'merge-shards':
      need(opts, 'shard', 'adjacentShard')
      result = await mergeShards(ep, opts.stream, opts.shard, opts.adjacentShard, { timeoutMs: t })
      break
    case 'list-shards': {
      const r = await listShards(ep, opts.stream, { maxResults: opts.maxResults })
      result = { Shards: r.Shards }
      break
    }
    case 'describe-stream':
      result = await describe(ep, opts.stream)
      break
    case 'read-all':
      result = await readAll(ep, opts.stream, { out: opts.out, limit: opts.limit })
      break
    case 'delete-stream':
      result = await deleteStream(ep, opts.stream, { wait: opts.wait !== false, timeoutMs: t })
      break
    default:
      throw new Error('unknown command ' + cmd + '\n' + USAGE)
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

module.exports = {
  createStream, waitActive, describe, listShards, putRecords, putFile, splitShard, mergeShards,
  deleteStream, readShard, readAll
}

if (require.main === module) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write('kinesis.js: ' + (e && e.message ? e.message : String(e)) + '\n')
    process.exit(1)
  })
}
