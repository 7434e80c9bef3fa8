// vpcflowd run against kinesalite: every record, at least once, across
// restarts and resharding. Started by meson (suite "integration").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

let kin;
test.before(async () => { kin = await h.startKinesis(); });
test.after(() => kin && kin.stop());

test('reads every flow of a 3-shard stream, then resumes from the checkpoint', async () => {
  const dir = h.tmpdir('resume');
  h.setupStream(kin.url, 'resume', 3, dir, [[3000, 1, 0]]);
  const cfg = h.writeConfig(dir, kin.url, 'resume');

  const first = await h.runVpcflowd(cfg, { until: (s) => new Set(s.ids).size >= 3000 });
  assert.strictEqual(first.code, 0, first.stderr);
  h.assertSameSet(first.ids, h.idRange(0, 3000), 'first run');
  assert.strictEqual(first.ids.length, 3000, 'no duplicates within one run');
  assert.strictEqual(first.last._aws_kinesis_stream, 'resume');
  assert.match(first.last._aws_kinesis_shard, /^shardId-/);
  // a checkpoint for every shard that had records (a shard may get none)
  const ckpts = fs.readdirSync(path.join(dir, 'checkpoints', 'resume')).sort();
  const shards = [...new Set(first.shards)].sort().map((s) => `${s}.checkpoint`);
  assert.deepStrictEqual(ckpts, shards);

  // more records while it is down: the restart reads only those
  h.putCorpus(kin.url, 'resume', dir, 1000, 2, 3000);
  const second = await h.runVpcflowd(cfg, { until: (s) => new Set(s.ids).size >= 1000 });
  assert.strictEqual(second.code, 0, second.stderr);
  h.assertSameSet(second.ids, h.idRange(3000, 1000), 'after restart');
  assert.match(second.stderr, /reading after the checkpoint/);
});

test('a split shard: the parent is read to its end before its children', async () => {
  const dir = h.tmpdir('split');
  h.setupStream(kin.url, 'split', 1, dir, [[1500, 3, 10000]]);
  h.kinesis('split-shard', '--endpoint', kin.url, '--stream', 'split',
    '--shard', 'shardId-000000000000');
  h.putCorpus(kin.url, 'split', dir, 1500, 4, 20000);
  const cfg = h.writeConfig(dir, kin.url, 'split');

  const run = await h.runVpcflowd(cfg, { until: (s) => new Set(s.ids).size >= 3000 });
  assert.strictEqual(run.code, 0, run.stderr);
  const want = h.idRange(10000, 1500);
  for (const id of h.idRange(20000, 1500)) want.add(id);
  h.assertSameSet(run.ids, want, 'split stream');
  // every pre-split flow comes before any post-split one
  const lastParent = Math.max(...run.ids.map((id, i) => (Number(id.slice(-6)) < 20000 ? i : -1)));
  const firstChild = run.ids.findIndex((id) => Number(id.slice(-6)) >= 20000);
  assert.ok(lastParent < firstChild, `parent flow at ${lastParent} after child flow at ${firstChild}`);
  const end = run.stderr.indexOf('shardId-000000000000: read to its end');
  const child = run.stderr.indexOf('(a child)');
  assert.ok(end >= 0 && child > end, 'children start after the parent ends');
  const parentCkpt = fs.readFileSync(path.join(dir, 'checkpoints', 'split',
    'shardId-000000000000.checkpoint'), 'utf8');
  assert.match(parentCkpt, /sequence SHARD_END/);
});

test('at_timestamp starts at the first record at or after the time', async () => {
  const dir = h.tmpdir('ts');
  h.setupStream(kin.url, 'ts', 1, dir, [[500, 5, 30000]]);
  await new Promise((r) => setTimeout(r, 2500));
  const t = new Date(Date.now() - 500).toISOString().replace(/\.\d+Z$/, 'Z');
  await new Promise((r) => setTimeout(r, 1500));
  h.putCorpus(kin.url, 'ts', dir, 500, 6, 40000);
  const cfg = h.writeConfig(dir, kin.url, 'ts',
    { kinesis: ['start_position: at_timestamp', `start_timestamp: ${t}`] });
  const run = await h.runVpcflowd(cfg, { until: (s) => new Set(s.ids).size >= 500, timeoutMs: 30000 });
  assert.strictEqual(run.code, 0, run.stderr);
  h.assertSameSet(run.ids, h.idRange(40000, 500), 'at_timestamp');
});

test('a missing stream is a clear error, exit 1', async () => {
  const dir = h.tmpdir('missing');
  const cfg = h.writeConfig(dir, kin.url, 'no-such-stream');
  const run = await h.runVpcflowd(cfg, { timeoutMs: 20000 });
  assert.strictEqual(run.code, 1);
  assert.match(run.stderr, /no-such-stream.*ResourceNotFoundException/);
});

test('a corrupt checkpoint stops the start with the file named', async () => {
  const dir = h.tmpdir('corrupt');
  h.kinesis('create-stream', '--endpoint', kin.url, '--stream', 'corrupt', '--shards', '1');
  fs.mkdirSync(path.join(dir, 'checkpoints', 'corrupt'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'checkpoints', 'corrupt',
    'shardId-000000000000.checkpoint'), 'vpcflowd-checkpoint 1\nstream corr');
  const cfg = h.writeConfig(dir, kin.url, 'corrupt');
  const run = await h.runVpcflowd(cfg, { timeoutMs: 20000 });
  assert.strictEqual(run.code, 1);
  assert.match(run.stderr, /shardId-000000000000\.checkpoint is corrupt/);
});

test('throttling, 5xx, resets, expired iterators and paged ListShards lose nothing', async () => {
  const dir = h.tmpdir('faults');
  const rules = path.join(dir, 'rules.json');
  // About half of all calls fail one way or another.
  fs.writeFileSync(rules, JSON.stringify({
    seed: 7,
    listShardsPageSize: 1,
    faults: [
      { type: 'ProvisionedThroughputExceeded', fraction: 0.25 },
      { type: 'KMSThrottling', ops: ['GetRecords'], every: 6 },
      { type: 'http503', ops: ['GetRecords', 'GetShardIterator', 'ListShards'], every: 5 },
      { type: 'http500', ops: ['GetRecords'], every: 7 },
      { type: 'reset', ops: ['GetRecords'], every: 9, phase: 'after' },
      { type: 'ExpiredIterator', nth: 4, max: 6 },
    ],
  }));
  const { child, info } = await h.startJsonLine('emulators.js',
    ['--kinesis-port', '0', '--proxy-port', '0', '--proxy-rules', rules]);
  try {
    h.setupStream(info.kinesis, 'faults', 3, dir, [[2000, 8, 50000]]);
    // one Kinesis record a call: many calls, so every fault happens
    const cfg = h.writeConfig(dir, info.proxy, 'faults', { kinesis: ['max_records: 1'] });
    const run = await h.runVpcflowd(cfg, {
      until: (s) => new Set(s.ids).size >= 2000, timeoutMs: 120000,
    });
    assert.strictEqual(run.code, 0, run.stderr);
    h.assertSameSet(run.ids, h.idRange(50000, 2000), 'through the fault proxy');
    const stats = await (await fetch(`${info.proxy}/__stats`)).json();
    for (const t of ['ProvisionedThroughputExceeded', 'KMSThrottling', 'http503',
      'http500', 'reset', 'ExpiredIterator']) {
      assert.ok(stats.injected[t] > 0, `${t} was injected: ${JSON.stringify(stats.injected)}`);
    }
    assert.ok(stats.listShards.nextTokensIssued >= 2, 'ListShards was paged');
    assert.match(run.stderr, /iterator expired; starting again/);
  } finally {
    child.kill('SIGTERM');
  }
});

test('kill -9 mid-stream, restarted: every flow arrives, duplicates bounded', async () => {
  const dir = h.tmpdir('kill');
  h.setupStream(kin.url, 'kill', 2, dir, [[6000, 9, 60000]]);
  // slow it down so the kill lands mid-stream (one record a call), and
  // checkpoint after every batch: what a kill can repeat is then only
  // the batch in flight on each shard
  const cfg = h.writeConfig(dir, kin.url, 'kill',
    { kinesis: ['max_records: 1'], interval: '1ms' });
  const seen = [];
  for (let round = 0; round < 3; round++) {
    const run = await new Promise((resolve) => {
      const { spawn } = require('node:child_process');
      const readline = require('node:readline');
      const child = spawn(h.bin, ['run', '-c', cfg], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, HOME: dir, ...h.awsEnv },
      });
      const ids = [];
      let killed = false;
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        // the kill may cut the last line short: that flow was not taken
        let doc;
        try { doc = JSON.parse(line); } catch { return; }
        ids.push(doc._aws_event_id);
        if (!killed && ids.length >= 1200) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      child.on('exit', (code, signal) => resolve({ ids, signal }));
    });
    assert.strictEqual(run.signal, 'SIGKILL', `round ${round} was killed`);
    seen.push(...run.ids);
  }
  const last = await h.runVpcflowd(cfg, {
    until: (s) => new Set([...seen, ...s.ids]).size >= 6000, timeoutMs: 60000,
  });
  assert.strictEqual(last.code, 0, last.stderr);
  seen.push(...last.ids);
  h.assertSameSet(seen, h.idRange(60000, 6000), 'across three kills');
  // duplicates come only from batches in flight at each kill: one
  // record (at most 400 flows) on each of two shards
  const dups = seen.length - new Set(seen).size;
  assert.ok(dups <= 3 * 2 * 400, `${dups} duplicates`);
});

test('kinesis.shards pins the process to the shards named', async () => {
  const dir = h.tmpdir('pin');
  h.kinesis('create-stream', '--endpoint', kin.url, '--stream', 'pin', '--shards', '3');
  // 'index' keys (pk-0, pk-1, ...) spread 12 records deterministically;
  // then more records with a key that hashes into the middle shard
  h.putCorpus(kin.url, 'pin', dir, 3000, 10, 70000, '--partition-key-mode', 'index');
  const crypto = require('node:crypto');
  let key = 0;
  for (;; key++) {
    const top = crypto.createHash('md5').update(`k${key}`).digest()[0];
    if (top > 0x60 && top < 0x9f) break;     /* well inside the middle third */
  }
  h.putCorpus(kin.url, 'pin', dir, 500, 13, 75000, '--partition-key-mode', 'fixed',
    '--partition-key', `k${key}`);
  const cfg = h.writeConfig(dir, kin.url, 'pin',
    { kinesis: ['shards: [shardId-000000000001]'] });
  const run = await h.runVpcflowd(cfg, { timeoutMs: 4000 });
  assert.strictEqual(run.code, 0, run.stderr);
  const got = new Set(run.ids);
  for (const id of h.idRange(75000, 500)) assert.ok(got.has(id), 'the pinned shard was read');
  assert.ok(run.ids.length < 3500, 'but not every shard');
  assert.deepStrictEqual([...new Set(run.shards)], ['shardId-000000000001']);
  assert.ok(!/shardId-000000000000: reading/.test(run.stderr));
  assert.ok(!/shardId-000000000002: reading/.test(run.stderr));
  assert.match(run.stderr, /shardId-000000000001: reading/);
});

test('a split while running: the new shards are found and read', async () => {
  const dir = h.tmpdir('live');
  h.setupStream(kin.url, 'live', 1, dir, [[1000, 11, 80000]]);
  const cfg = h.writeConfig(dir, kin.url, 'live');
  let split = false;
  const run = await h.runVpcflowd(cfg, {
    timeoutMs: 60000,
    until: (s) => {
      const n = new Set(s.ids).size;
      if (!split && n >= 1000) {
        split = true;
        // while it runs: split the only shard, then write to the children
        h.kinesis('split-shard', '--endpoint', kin.url, '--stream', 'live',
          '--shard', 'shardId-000000000000');
        h.putCorpus(kin.url, 'live', dir, 1000, 12, 90000);
      }
      return n >= 2000;
    },
  });
  assert.strictEqual(run.code, 0, run.stderr);
  const want = h.idRange(80000, 1000);
  for (const id of h.idRange(90000, 1000)) want.add(id);
  h.assertSameSet(run.ids, want, 'before and after a live split');
  assert.match(run.stderr, /shardId-000000000001: found \(child of shardId-000000000000\)/);
});
