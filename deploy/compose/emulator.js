#!/usr/bin/env node
'use strict'
// The Compose demo's emulated AWS account, in one container:
//   - kinesalite (Kinesis) on 0.0.0.0:KINESIS_PORT (4567), with the stream
//     STREAM (vpc-flow-logs, SHARDS shards) created before anything else;
//   - dynalite (DynamoDB) on 0.0.0.0:DYNAMODB_PORT (4568; "off" to leave it
//     out), for trying checkpoint.store: dynamodb;
//   - the demo's EC2 endpoint (deploy/demo-ec2.js: the corpus's 300 hosts as
//     network interfaces), reachable on 0.0.0.0:EC2_PORT (9010).
//
// test/emulators/emulators.js and test/integration/ec2-server.js listen on
// 127.0.0.1 only, by design (the tests must never be reachable from
// elsewhere). Inside the Compose network vpcflowd runs in another
// container, so this wrapper starts kinesalite and dynalite itself on every
// address, and forwards EC2_PORT to demo-ec2.js on the loopback. It is for
// that private network only: never publish these ports.
//
// Prints one JSON line once everything listens; stops on SIGTERM/SIGINT.

const fs = require('fs')
const net = require('net')
const path = require('path')
const { spawn } = require('child_process')
const { createRequire } = require('module')

const root = path.resolve(__dirname, '..', '..')
const emulators = path.join(root, 'test', 'emulators')
const requireEmu = createRequire(path.join(emulators, 'package.json'))
const { createStream } = require(path.join(emulators, 'kinesis'))

const env = process.env
const HOST = env.LISTEN_HOST || '0.0.0.0'
const KINESIS_PORT = Number(env.KINESIS_PORT || 4567)
const DYNAMODB_PORT = env.DYNAMODB_PORT === 'off' ? null : Number(env.DYNAMODB_PORT || 4568)
const EC2_PORT = env.EC2_PORT === 'off' ? null : Number(env.EC2_PORT || 9010)
const STREAM = env.STREAM || 'vpc-flow-logs'
const SHARDS = Number(env.SHARDS || 2)
const DELAY_MS = Number(env.DELAY_MS || 50)

const servers = []
let ec2Child = null

function log (msg) { process.stderr.write('emulator: ' + msg + '\n') }

function listen (server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      servers.push(server)
      resolve(server.address().port)
    })
  })
}

// demo-ec2.js on 127.0.0.1 (it prints {"url": ...} once it listens)
function startEc2 () {
  return new Promise((resolve, reject) => {
    // its --max-seconds timer must stay below 2^31 ms (about 24.8 days)
    ec2Child = spawn(process.execPath, [path.join(root, 'deploy', 'demo-ec2.js'), '--max-seconds', '2000000'],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    ec2Child.stdout.setEncoding('utf8')
    ec2Child.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        try { resolve(new URL(JSON.parse(out.slice(0, nl)).url)) } catch (e) { reject(e) }
      }
    })
    ec2Child.on('exit', (code, sig) => {
      reject(new Error('demo-ec2.js exited (' + (sig || code) + ')'))
      if (!stopping) { log('demo-ec2.js exited (' + (sig || code) + '); stopping'); stop(1) }
    })
  })
}

// A plain TCP forwarder: HOST:port -> 127.0.0.1:target
function forward (port, target) {
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1')
    const done = () => { client.destroy(); upstream.destroy() }
    client.on('error', done)
    upstream.on('error', done)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  return listen(server, port, HOST)
}

let stopping = false
function stop (code) {
  if (stopping) return
  stopping = true
  if (ec2Child && ec2Child.exitCode === null) ec2Child.kill('SIGTERM')
  for (const s of servers) s.close()
  setTimeout(() => process.exit(code), 200).unref()
}

async function main () {
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => stop(0))
  const out = {}

  const kinesalite = requireEmu('kinesalite')({
    createStreamMs: DELAY_MS, deleteStreamMs: DELAY_MS, updateStreamMs: DELAY_MS, shardLimit: 50
  })
  await listen(kinesalite, KINESIS_PORT, HOST)
  out.kinesis = 'http://' + HOST + ':' + KINESIS_PORT
  // kinesis.js only talks to loopback endpoints: 0.0.0.0 covers 127.0.0.1
  const created = await createStream('http://127.0.0.1:' + KINESIS_PORT, STREAM, SHARDS, { existsOk: true })
  out.stream = created

  if (DYNAMODB_PORT !== null) {
    const dynalite = requireEmu('dynalite')({ createTableMs: DELAY_MS, deleteTableMs: DELAY_MS, updateTableMs: DELAY_MS })
    await listen(dynalite, DYNAMODB_PORT, HOST)
    out.dynamodb = 'http://' + HOST + ':' + DYNAMODB_PORT
  }

  if (EC2_PORT !== null) {
    const url = await startEc2()
    await forward(EC2_PORT, Number(url.port))
    out.ec2 = 'http://' + HOST + ':' + EC2_PORT
  }

  out.pid = process.pid
  process.stdout.write(JSON.stringify(out) + '\n')
}

// `node emulator.js --check`: the container's health check. Healthy once
// the stream exists (main() creates it before anything else).
async function check () {
  const { describe } = require(path.join(emulators, 'kinesis'))
  const d = await describe('http://127.0.0.1:' + KINESIS_PORT, STREAM)
  if (d.StreamStatus !== 'ACTIVE') throw new Error('stream ' + STREAM + ' is ' + d.StreamStatus)
  if (EC2_PORT !== null) {
    await new Promise((resolve, reject) => {
      const s = net.connect(EC2_PORT, '127.0.0.1', () => { s.destroy(); resolve() })
      s.on('error', reject)
    })
  }
}

if (require.main === module) {
  if (process.argv.includes('--check')) {
    check().then(() => process.exit(0), (e) => { process.stderr.write(e.message + '\n'); process.exit(1) })
  } else {
    if (!fs.existsSync(path.join(emulators, 'node_modules', 'kinesalite'))) {
      log('test/emulators/node_modules is missing: run npm ci there (the demo image does)')
      process.exit(1)
    }
    main().catch((e) => { log(e.stack || e.message); stop(1) })
  }
}
