// Shared by the integration tests: emulators, the stream CLI, the corpus
// generator and vpcflowd itself, all on this machine (127.0.0.1 only).
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const assert = require('node:assert');

const root = path.resolve(__dirname, '..', '..');
const emulators = path.join(root, 'test', 'emulators');
const bin = process.env.VF_BIN || path.join(root, 'build', 'vpcflowd');
const gen = process.env.VF_GEN || path.join(root, 'build', 'bench', 'gen_corpus');

function tmpdir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vf-${name}-`));
}

// Starts a script that prints one JSON line once it listens.
function startJsonLine(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(emulators, script), ...args],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 20000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

// opts.dynamodb: also start dynalite; its URL is then .ddb.
async function startKinesis(opts = {}) {
  const { child, info } = await startJsonLine('emulators.js',
    ['--kinesis-port', '0', '--shard-limit', '100',
      ...(opts.dynamodb ? ['--dynamodb-port', '0'] : [])]);
  return { child, url: info.kinesis, ddb: info.dynamodb, stop: () => child.kill('SIGTERM') };
}

function kinesis(...args) {
  return execFileSync(process.execPath, [path.join(emulators, 'kinesis.js'), ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60000 });
}

// A corpus of n flows whose event ids run from first to first + n - 1.
function corpus(dir, n, seed, first) {
  const file = path.join(dir, `corpus-${seed}-${first}.gz`);
  execFileSync(gen, [String(n), file, String(seed), String(first)]);
  return file;
}

function eventId(i) {
  return '3' + String(i).padStart(55, '0');
}

function idRange(first, n) {
  const s = new Set();
  for (let i = first; i < first + n; i++) s.add(eventId(i));
  return s;
}

// A stream with n shards, filled with the corpus batches [[n, seed, first]].
function setupStream(endpoint, stream, shards, dir, batches) {
  kinesis('create-stream', '--endpoint', endpoint, '--stream', stream, '--shards', String(shards));
  for (const [n, seed, first] of batches) putCorpus(endpoint, stream, dir, n, seed, first);
}

function putCorpus(endpoint, stream, dir, n, seed, first, ...extra) {
  kinesis('put-file', '--endpoint', endpoint, '--stream', stream,
    '--file', corpus(dir, n, seed, first), ...extra);
}

// opts.kinesis: more lines for the kinesis section ("max_records: 1");
// opts.interval: checkpoint.interval (default 500ms);
// opts.output: the lines of the output section (default: type stdout);
// opts.sections: more YAML sections as text ("enrich:\n  ...\n");
// opts.logLevel: log.level (default info);
// opts.metricsListen: metrics.listen (default "": off, so processes can run
// side by side);
// opts.checkpoint: lines of the checkpoint section instead of the file
// store's ("store: dynamodb", "table: t", ...); interval is added
// unless one of them sets it.
function writeConfig(dir, endpoint, stream, opts = {}) {
  const file = path.join(dir, 'vpcflowd.yml');
  const more = (opts.kinesis || []).map((l) => `\n  ${l}`).join('');
  const store = opts.checkpoint || ['store: file', `path: ${path.join(dir, 'checkpoints')}`];
  const ckpt = [...store];
  if (!store.some((l) => /^interval:/.test(l))) ckpt.push(`interval: ${opts.interval || '500ms'}`);
  fs.writeFileSync(file, `aws:
  region: us-east-1
kinesis:
  stream: ${stream}
  endpoint: ${endpoint}
  poll_interval: 100ms${more}
checkpoint:
${ckpt.map((l) => `  ${l}`).join('\n')}
flow_logs:
  log_groups:
    - name: /vpc/custom
      format: "\${version} \${srcaddr} \${dstaddr} \${srcport} \${dstport} \${protocol} \${start} \${end} \${type} \${packets} \${bytes} \${account-id} \${vpc-id} \${subnet-id} \${instance-id} \${interface-id} \${region} \${az-id} \${sublocation-type} \${sublocation-id} \${action} \${tcp-flags} \${pkt-srcaddr} \${pkt-dstaddr} \${pkt-src-aws-service} \${pkt-dst-aws-service} \${traffic-path} \${flow-direction} \${log-status}"
${opts.sections || ''}output:
${(opts.output || ['type: stdout']).map((l) => `  ${l}`).join('\n')}
metrics:
  listen: "${opts.metricsListen || ''}"
log:
  level: ${opts.logLevel || 'info'}
`);
  return file;
}

const awsEnv = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_EC2_METADATA_DISABLED: 'true',
};

// Every document read from any vpcflowd, in the order this process read them.
let arrivals = 0;

// Runs vpcflowd until `until(state)` holds (or timeoutMs), then SIGTERM.
// For outputs other than stdout, `done()` is asked every 100 ms instead.
// keepDocs: every document is kept in state.all.
// onStart(state): called once it is spawned; state.stop() sends SIGTERM,
// state.kill(signal) sends another signal, state.exited tells whether it
// has exited. Per document, state.times has Date.now() and state.seqs a
// number counting up across all runs of this process, when it was read.
// lenient: a line that is not JSON (cut short by a kill) is kept in
// state.bad instead of failing.
function runVpcflowd(config, {
  until, done, timeoutMs = 60000, env = {}, keepDocs = false, onStart, lenient = false,
} = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin, ['run', '-c', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: path.dirname(config), ...awsEnv, ...env },
    });
    const state = {
      ids: [], shards: [], times: [], seqs: [], bad: [], docs: 0, stderr: '',
      stopped: false, exited: false, all: [], child,
    };
    const stop = () => {
      if (!state.stopped) {
        state.stopped = true;
        child.kill('SIGTERM');
      }
    };
    state.stop = stop;
    state.kill = (signal) => {
      state.killed = signal;
      child.kill(signal);
    };
    const timer = setTimeout(stop, timeoutMs);
    const poll = done ? setInterval(() => { if (done()) stop(); }, 100) : null;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let doc;
      try {
        doc = JSON.parse(line);
      } catch (e) {
        if (!lenient) throw e;
        state.bad.push(line);
        return;
      }
      state.docs++;
      state.ids.push(doc._aws_event_id);
      state.shards.push(doc._aws_kinesis_shard);
      state.times.push(Date.now());
      state.seqs.push(arrivals++);
      state.last = doc;
      if (keepDocs) state.all.push(doc);
      if (until && until(state)) stop();
    });
    child.stderr.on('data', (d) => { state.stderr += d; });
    child.on('exit', (code, signal) => {
      state.exited = true;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ ...state, code, signal });
    });
    if (onStart) onStart(state);
  });
}

// The set of got equals want (a Set): counts of missing and unexpected.
function assertSameSet(got, want, what) {
  const g = new Set(got);
  const missing = [...want].filter((x) => !g.has(x));
  const extra = [...g].filter((x) => !want.has(x));
  assert.deepStrictEqual({ missing: missing.length, extra: extra.length },
    { missing: 0, extra: 0 }, `${what}: ${missing.length} missing, ${extra.length} unexpected`);
}

module.exports = {
  root, bin, gen, tmpdir, startKinesis, startJsonLine, kinesis, corpus, eventId,
  idRange, setupStream, putCorpus, writeConfig, runVpcflowd, awsEnv, assertSameSet,
};
