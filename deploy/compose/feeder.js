#!/usr/bin/env node
'use strict'
// The Compose demo's flow log source: puts a batch of CloudWatch Logs
// subscription records (made by bench/gen_corpus) into the emulated Kinesis
// stream every FEED_INTERVAL seconds, as a CloudWatch Logs subscription
// filter would.
//
// It runs in the emulator container's network namespace (Compose
// network_mode: "service:emulator"), because test/emulators/kinesis.js only
// talks to loopback endpoints.
//
// gen_corpus writes the same fixed timestamps every time (November 2025);
// with FEED_SHIFT_TO_NOW (the default) each batch is moved in time so that
// its newest flow ends now, so Graylog's default "last 5 minutes" search
// shows it. Each batch has its own seed and event ids, so aws_event_id
// never repeats.
//
// Environment (defaults in brackets):
//   KINESIS_ENDPOINT [http://127.0.0.1:4567]  STREAM [vpc-flow-logs]
//   SHARDS [2]            used only if the stream does not exist yet
//   FEED_FLOWS [1000]     flows per batch
//   FEED_INTERVAL [30]    seconds between batches
//   FEED_BATCHES [240]    batches before stopping (0: never stop)
//   FEED_SHIFT_TO_NOW [true]
//   GEN_CORPUS [/usr/lib/vpcflowd/gen_corpus]
// Writes one temporary file a batch under $TMPDIR (/tmp), removed at once.

const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const zlib = require('zlib')
const { execFileSync } = require('child_process')

const emulators = path.resolve(__dirname, '..', '..', 'test', 'emulators')
const { createStream, putRecords } = require(path.join(emulators, 'kinesis'))
const { splitGzipMembers, sleep } = require(path.join(emulators, 'common'))

const env = process.env
const ENDPOINT = env.KINESIS_ENDPOINT || 'http://127.0.0.1:4567'
const STREAM = env.STREAM || 'vpc-flow-logs'
const SHARDS = Number(env.SHARDS || 2)
const FLOWS = Number(env.FEED_FLOWS || 1000)
const INTERVAL_S = Number(env.FEED_INTERVAL || 30)
const BATCHES = Number(env.FEED_BATCHES || 240)
const SHIFT = !/^(0|false|no|off)$/i.test(env.FEED_SHIFT_TO_NOW || 'true')
const GEN_CORPUS = env.GEN_CORPUS || '/usr/lib/vpcflowd/gen_corpus'

let stopping = false
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { stopping = true; process.exit(0) })

function log (obj) { process.stdout.write(JSON.stringify(obj) + '\n') }

// Moves every timestamp of one subscription document by deltaS seconds:
// the log event's timestamp (ms) and the flow line's start and end (the
// 10-digit numbers within the document's time span; no other field of the
// corpus has 10 digits).
function shift (doc, deltaS, lo, hi) {
  for (const ev of doc.logEvents || []) {
    ev.timestamp += deltaS * 1000
    ev.message = ev.message.split(' ').map((tok) => {
      if (!/^\d{10}$/.test(tok)) return tok
      const v = Number(tok)
      return v >= lo && v <= hi ? String(v + deltaS) : tok
    }).join(' ')
  }
  return doc
}

// gen_corpus FLOWS OUT.gz SEED FIRST_EVENT_ID, into a temporary file (Node
// gives a child a socket, not a pipe, so /dev/stdout cannot be opened)
function generate (i) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feeder-'))
  const file = path.join(dir, 'batch.gz')
  try {
    execFileSync(GEN_CORPUS, [String(FLOWS), file, String(1000 + i), String(i * FLOWS)], { stdio: 'inherit' })
    return fs.readFileSync(file)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function makeBatch (i) {
  const corpus = generate(i)
  const members = splitGzipMembers(corpus)
  if (!SHIFT) return members.map((m) => Buffer.from(m.member))
  const docs = members.map((m) => JSON.parse(zlib.gunzipSync(m.member).toString('utf8')))
  let lo = Infinity
  let hi = -Infinity
  for (const d of docs) {
    for (const ev of d.logEvents || []) {
      lo = Math.min(lo, Math.floor(ev.timestamp / 1000))
      hi = Math.max(hi, Math.floor(ev.timestamp / 1000))
    }
  }
  // a flow ends 60 s after its start; make the newest end now
  const deltaS = Math.floor(Date.now() / 1000) - 60 - hi
  return docs.map((d) => zlib.gzipSync(JSON.stringify(shift(d, deltaS, lo, hi + 60))))
}

async function main () {
  const s = await createStream(ENDPOINT, STREAM, SHARDS, { existsOk: true })
  log({ stream: s.stream, status: s.status, openShards: s.openShards })
  for (let i = 0; !stopping && (BATCHES === 0 || i < BATCHES); i++) {
    const started = Date.now()
    const records = makeBatch(i)
    const r = await putRecords(ENDPOINT, STREAM,
      records.map((data) => ({ data, key: crypto.randomBytes(16).toString('hex') })))
    log({ batch: i, flows: FLOWS, records: r.records, bytes: r.bytes, shards: r.shards })
    await sleep(Math.max(0, INTERVAL_S * 1000 - (Date.now() - started)))
  }
  log({ done: true, batches: BATCHES })
}

main().catch((e) => {
  process.stderr.write('feeder: ' + (e.stack || e.message) + '\n')
  process.exit(1)
})
