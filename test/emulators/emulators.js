#!/usr/bin/env node
'use strict'
// Start kinesalite (and optionally dynalite, and optionally the fault proxy in
// front of kinesalite) on 127.0.0.1, print one JSON line with their URLs, and
// exit by itself. See README.md in this folder.

const path = require('path')
const { parseFlags, installSelfExit, printJsonLine } = require('./common')

const USAGE = `usage: node emulators.js [flags]
  --kinesis-port N      kinesalite port on 127.0.0.1 (0 = a free port; default 0)
  --no-kinesis          do not start kinesalite
  --dynamodb-port N     also start dynalite on this port (0 = a free port)
  --dynamodb            also start dynalite, on a free port
  --delay-ms N          create/delete/update stream and table delays (default 50)
  --shard-limit N       kinesalite open-shard limit (default 10)
  --proxy-port N        also start the fault proxy in front of kinesalite (0 = a free port)
  --proxy-rules FILE    fault rules for that proxy (JSON, see README.md)
  --max-seconds N       exit after N seconds (default 600; 0 = never)
  --ignore-stdin        do not exit when stdin (a pipe) closes
  --watch-parent        also exit when the parent process goes away
Prints one line: {"kinesis":"http://127.0.0.1:P","dynamodb":"http://127.0.0.1:Q","proxy":"...","pid":N}
(keys only for what was started); on failure {"error":"..."} and exit 1.`

function listen (server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject)
      resolve('http://127.0.0.1:' + server.address().port)
    })
  })
}

async function start (opts) {
  const out = {}
  const servers = []
  const delay = opts.delayMs == null ? 50 : opts.delayMs
  if (opts.kinesis !== false) {
    const kinesalite = require('kinesalite')
    const k = kinesalite({
      createStreamMs: delay,
      deleteStreamMs: delay,
      updateStreamMs: delay,
      shardLimit: opts.shardLimit == null ? 10 : opts.shardLimit
    })
    servers.push(k)
    out.kinesis = await listen(k, opts.kinesisPort || 0)
  }
  if (opts.dynamodb || opts.dynamodbPort != null) {
    const dynalite = require('dynalite')
    const d = dynalite({ createTableMs: delay, deleteTableMs: delay, updateTableMs: delay })
    servers.push(d)
    out.dynamodb = await listen(d, opts.dynamodbPort || 0)
  }
  if (opts.proxyPort != null) {
    if (!out.kinesis) throw new Error('--proxy-port needs kinesalite')
    const { createProxy, loadRulesFile } = require('./fault-proxy')
    const config = opts.proxyRules ? loadRulesFile(path.resolve(opts.proxyRules)) : {}
    const p = createProxy({ target: out.kinesis, config })
    servers.push(p.server)
    out.proxy = await p.listen(opts.proxyPort)
  }
  return { urls: out, servers }
}

async function main () {
  let opts
  try {
    opts = parseFlags(process.argv.slice(2), {
      'kinesis-port': 'int',
      kinesis: 'bool',
      'dynamodb-port': 'int',
      dynamodb: 'bool',
      'delay-ms': 'int',
      'shard-limit': 'int',
      'proxy-port': 'int',
      'proxy-rules': 'string',
      'max-seconds': 'float',
      'ignore-stdin': 'bool',
      'watch-parent': 'bool',
      help: 'bool'
    })
    if (opts._.length) throw new Error('unexpected argument ' + opts._[0])
  } catch (e) {
    process.stderr.write(e.message + '\n' + USAGE + '\n')
    await printJsonLine({ error: e.message })
    process.exit(2)
  }
  if (opts.help) { process.stdout.write(USAGE + '\n'); return }
  installSelfExit({
    maxSeconds: opts.maxSeconds == null ? 600 : opts.maxSeconds,
    ignoreStdin: !!opts.ignoreStdin,
    watchParent: !!opts.watchParent,
    name: 'emulators'
  })
  try {
    const { urls } = await start(opts)
    await printJsonLine(Object.assign(urls, { pid: process.pid }))
  } catch (e) {
    process.stderr.write('emulators: ' + e.stack + '\n')
    await printJsonLine({ error: e.message })
    process.exit(1)
  }
}

module.exports = { start }

if (require.main === module) main()
