// Several vpcflowd processes share a stream's shards through a KCL-style
// lease table: dynalite and kinesalite on 127.0.0.1, started here. Started
// by meson (suite "integration", test integration.leases).
//
// What is checked is what a KCL worker would see: the lease table's rows
// (attribute names and types as KCL's DynamoDBLeaseSerializer writes them)
// and the flows each process prints. Log text is looked at only in failure
// messages.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { once } = require('node:events');
const { promisify } = require('node:util');
const sleep = require('node:timers/promises').setTimeout;
const h = require('./harness');
const ddb = require('./dynamodb');
const ks = require('../emulators/kinesis');

const execFileP = promisify(execFile);
const CAPTURES = path.join(__dirname, '..', 'data', 'dynalite');

// The lease timing every worker here runs with (checkpoint.failover).
const FAILOVER_MS = 2000;
const ROUND_MS = FAILOVER_MS / 2;       // how often a worker scans and takes
const POLL_MS = 250;                    // how often the tests look at the table
const WORKERS = ['w1', 'w2', 'w3'];
const SENTINELS = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END'];
// KCL's lease attributes vpcflowd writes, and their DynamoDB types.
const LEASE_TYPES = {
  leaseKey: 'S',
  leaseCounter: 'N',
  leaseOwner: 'S',
  checkpoint: 'S',
  checkpointSubSequenceNumber: 'N',
  ownerSwitchesSinceCheckpoint: 'N',
  parentShardId: 'SS',
  childShardIds: 'SS',
};
const LEASE_REQUIRED = ['leaseKey', 'leaseCounter', 'checkpoint',
  'checkpointSubSequenceNumber', 'ownerSwitchesSinceCheckpoint'];

let kin;
test.before(async () => { kin = await h.startKinesis({ dynamodb: true }); });
test.after(() => kin && kin.stop());

// ---------------------------------------------------------------- helpers

// A capture of test/data/dynalite: {status, op, request, response}.
function capture(name) {
  const text = fs.readFileSync(path.join(CAPTURES, name), 'utf8');
  const nl1 = text.indexOf('\n');
  const nl2 = text.indexOf('\n', nl1 + 1);
  const status = /^# HTTP (\d+)$/.exec(text.slice(0, nl1));
  const req = /^# request: DynamoDB_20120810\.(\w+) (.*)$/.exec(text.slice(nl1 + 1, nl2));
  assert.ok(status && req, `${name}: not a capture`);
  return {
    status: Number(status[1]), op: req[1], request: JSON.parse(req[2]),
    response: JSON.parse(text.slice(nl2 + 1)),
  };
}

// A corpus file, made without blocking this process (its event loop reads
// the workers' output and polls the table meanwhile).
async function corpusFile(dir, n, seed, first) {
  const file = path.join(dir, `corpus-${seed}-${first}.gz`);
  await execFileP(h.gen, [String(n), file, String(seed), String(first)]);
  return file;
}

// Puts n flows (ids first ...) into the stream; with `shard` (a ListShards
// entry), every record goes to that shard.
async function put(stream, dir, n, seed, first, shard) {
  const file = await corpusFile(dir, n, seed, first);
  const opts = shard ? { partitionKeyMode: 'fixed', partitionKey: keyInto(shard) } : {};
  const r = await ks.putFile(kin.url, stream, file, opts);
  if (shard) assert.deepStrictEqual(Object.keys(r.shards), [shard.ShardId], 'keyed put');
  return r;
}

// A partition key whose MD5 falls in the shard's hash key range.
function keyInto(shard) {
  const lo = BigInt(shard.HashKeyRange.StartingHashKey);
  const hi = BigInt(shard.HashKeyRange.EndingHashKey);
  for (let i = 0; ; i++) {
    const k = `key-${i}`;
    const v = BigInt(`0x${crypto.createHash('md5').update(k).digest('hex')}`);
    if (v >= lo && v <= hi) return k;
  }
}

async function shardsOf(stream) {
  return (await ks.listShards(kin.url, stream)).Shards;
}

// The last sequence number in a shard (read from TRIM_HORIZON).
async function lastSequence(stream, shardId) {
  const { records } = await ks.readShard(kin.url, stream, shardId);
  assert.ok(records.length > 0, `${shardId} has records`);
  return records[records.length - 1].SequenceNumber;
}

function union(...sets) {
  const s = new Set();
  for (const x of sets) for (const y of x) s.add(y);
  return s;
}

// The lease rows of a table as plain objects; none while it is missing.
async function leases(table) {
  let items;
  try {
    items = await ddb.scanAll(kin.ddb, table);
  } catch (e) {
    if (e instanceof ddb.DynamoError && e.type === 'ResourceNotFoundException') return [];
    throw e;
  }
  return items.filter((it) => !it.entityType || it.entityType.S === 'LEASE').map(ddb.plain)
    .sort((a, b) => (a.leaseKey < b.leaseKey ? -1 : 1));
}

function owners(ls) {
  const m = {};
  for (const l of ls) if (l.leaseOwner) (m[l.leaseOwner] = m[l.leaseOwner] || []).push(l.leaseKey);
  return m;
}

function showLeases(ls) {
  return ls.map((l) => `${l.leaseKey} owner=${l.leaseOwner || '-'} counter=${l.leaseCounter} `
    + `checkpoint=${l.checkpoint}${l.parentShardId ? ` parents=${l.parentShardId}` : ''}`)
    .join('\n  ');
}

// The checkpoint section of a worker: the lease store on dynalite.
function leaseConfig(dir, stream, table, worker, kinesisLines = []) {
  const wdir = path.join(dir, worker);
  fs.mkdirSync(wdir, { recursive: true });
  return h.writeConfig(wdir, kin.url, stream, {
    kinesis: kinesisLines,
    checkpoint: [
      'store: dynamodb',
      `table: ${table}`,
      `endpoint: ${kin.ddb}`,
      `worker_id: ${worker}`,
      `failover: ${FAILOVER_MS / 1000}s`,
      'interval: 500ms',
    ],
  });
}

// vpcflowd processes run side by side; each can be stopped or killed on
// its own. cleanup() kills whatever still runs (a failed test).
class Fleet {
  constructor() { this.workers = []; }

  start(name, config) {
    const w = { name };
    w.done = h.runVpcflowd(config, {
      timeoutMs: 300000, lenient: true, onStart: (s) => { w.state = s; },
    }).then(async (r) => {
      // every line read, not only those before the exit
      const out = w.state.child.stdout;
      if (!out.closed) await once(out, 'close');
      w.result = r;
      return r;
    });
    this.workers.push(w);
    return w;
  }

  // Throws if a worker exited without being told to.
  assertRunning() {
    for (const w of this.workers) {
      const s = w.state;
      if (s.exited && !s.stopped && !s.killed) {
        assert.fail(`${w.name} exited by itself\n${this.report()}`);
      }
    }
  }

  // SIGTERM; SIGKILL if it has not exited after graceMs.
  async stop(w, graceMs = 30000) {
    if (w.state.exited) return w.done;
    w.state.stop();
    const timer = setTimeout(() => { if (!w.state.exited) w.state.kill('SIGKILL'); }, graceMs);
    await w.done;
    clearTimeout(timer);
    return w.result;
  }

  stopAll() {
    return Promise.all(this.workers.map((w) => this.stop(w)));
  }

  async cleanup() {
    for (const w of this.workers) if (!w.state.exited) w.state.kill('SIGKILL');
    await Promise.all(this.workers.map((w) => w.done));
  }

  ids() { return this.workers.flatMap((w) => w.state.ids); }

  unique() { return new Set(this.ids()); }

  // Arrival order (h.runVpcflowd's seqs) of every document, by shard.
  arrivalsByShard() {
    const m = {};
    for (const w of this.workers) {
      const s = w.state;
      s.shards.forEach((shard, i) => {
        (m[shard] = m[shard] || []).push({ seq: s.seqs[i], time: s.times[i], worker: w.name });
      });
    }
    return m;
  }

  report(chars = 2500) {
    return this.workers.map((w) => {
      const s = w.state;
      const how = s.exited ? `exited (code ${w.result ? w.result.code : '?'}, signal `
        + `${w.result ? w.result.signal : '?'})` : 'running';
      return `--- ${w.name}: ${how}, ${s.ids.length} documents, stderr tail:\n`
        + s.stderr.slice(-chars);
    }).join('\n');
  }
}

// Polls probe() every POLL_MS until it answers {ok: true, ...} or timeoutMs
// passes; returns its last answer and ms, the time it took. Fails at once
// when a worker of the fleet exits by itself.
async function waitFor(fleet, timeoutMs, probe) {
  const t0 = Date.now();
  for (;;) {
    if (fleet) fleet.assertRunning();
    const r = await probe();
    const ms = Date.now() - t0;
    if (r.ok || ms >= timeoutMs) return { ...r, ms };
    await sleep(POLL_MS);
  }
}

// Each worker owns exactly `each` leases of `total`.
function balanced(ls, total, each, workers = WORKERS) {
  const own = owners(ls);
  const counts = workers.map((w) => (own[w] || []).length);
  return {
    ok: ls.length === total && counts.every((c) => c === each),
    counts: workers.map((w, i) => `${w}=${counts[i]}`).join(' '),
    ls,
  };
}

// Every lease row: KCL's attribute names, types and value forms only.
// Waits until every id of want has reached some worker's output.
async function expectAllRead(fleet, want, ms = 60000) {
  const all = await waitFor(fleet, ms, () => {
    const got = fleet.unique();
    const have = [...want].filter((id) => got.has(id)).length;
    return { ok: have === want.size, have };
  });
  assert.ok(all.ok, `${all.have} of ${want.size} flows read\n${fleet.report()}`);
}

// SIGTERM to every worker; each (but `killed`) exits 0 and printed only whole JSON lines.
async function stopCleanly(fleet, killed) {
  await fleet.stopAll();
  for (const w of fleet.workers.filter((x) => x !== killed)) {
    assert.strictEqual(w.result.code, 0, `${w.name} exits 0\n${fleet.report()}`);
    assert.strictEqual(w.state.bad.length, 0, `${w.name}: every line is JSON`);
  }
}

function assertLeaseShape(items) {
  for (const item of items) {
    const key = item.leaseKey && item.leaseKey.S;
    for (const [name, value] of Object.entries(item)) {
      assert.ok(name in LEASE_TYPES, `${key}: attribute ${name} is not one of KCL's lease attributes`);
      assert.deepStrictEqual(Object.keys(value), [LEASE_TYPES[name]], `${key}: ${name}'s type`);
    }
    for (const name of LEASE_REQUIRED) assert.ok(name in item, `${key}: has ${name}`);
    const l = ddb.plain(item);
    assert.match(l.leaseKey, /^shardId-\d{12}$/);
    assert.match(l.leaseCounter, /^\d+$/, `${key}: leaseCounter`);
    assert.match(l.ownerSwitchesSinceCheckpoint, /^\d+$/, `${key}: ownerSwitchesSinceCheckpoint`);
    assert.strictEqual(l.checkpointSubSequenceNumber, '0', `${key}: checkpointSubSequenceNumber`);
    assert.ok(/^\d+$/.test(l.checkpoint) || SENTINELS.includes(l.checkpoint),
      `${key}: checkpoint ${l.checkpoint} is a sequence number or a sentinel`);
    if ('leaseOwner' in l) assert.ok(l.leaseOwner.length > 0, `${key}: leaseOwner not empty`);
    for (const ss of ['parentShardId', 'childShardIds']) {
      if (ss in l) for (const s of l[ss]) assert.match(s, /^shardId-\d{12}$/, `${key}: ${ss}`);
    }
  }
}

// ---------------------------------------------------------------- tests

test('the test client and dynalite answer as the captures say', async () => {
  // the captures replayed in order, on their own table "app"
  const strip = (t) => {
    const c = structuredClone(t);
    delete c.TableId;
    delete c.CreationDateTime;
    return c;
  };
  const replay = async (name) => {
    const c = capture(name);
    try {
      const body = await ddb.call(kin.ddb, c.op, c.request);
      assert.strictEqual(c.status, 200, `${name}: answered 200`);
      return { c, body };
    } catch (e) {
      if (!(e instanceof ddb.DynamoError)) throw e;
      assert.strictEqual(e.status, c.status, `${name}: ${e.message}`);
      assert.deepStrictEqual(e.body, c.response, name);
      return { c, body: null };
    }
  };
  await replay('err-ResourceNotFound-table.json');
  const created = await replay('CreateTable-lease.json');
  assert.deepStrictEqual(strip(created.body.TableDescription),
    strip(created.c.response.TableDescription));
  await ddb.waitActive(kin.ddb, 'app');
  for (const name of ['PutItem-create-lease.json', 'err-ConditionalCheckFailed.json',
    'UpdateItem-take-lease.json', 'GetItem-lease.json', 'Scan-leases.json']) {
    const r = await replay(name);
    if (r.body) assert.deepStrictEqual(r.body, r.c.response, name);
  }
  assert.throws(() => ddb.loopback('http://10.0.0.1:8000'), /refusing/);
  assert.throws(() => ddb.loopback('https://127.0.0.1:8000'), /refusing/);
  await assert.rejects(ddb.call('http://169.254.169.254', 'ListTables', {}), /refusing/);
});

test('three workers on a 6-shard stream: two leases each, every flow read',
  { timeout: 240000 }, async (t) => {
    const stream = 'lease-balance';
    const table = 'lease-balance-app';
    const dir = h.tmpdir(stream);
    await ks.createStream(kin.url, stream, 6);
    await put(stream, dir, 3000, 101, 100000);
    const want = h.idRange(100000, 3000);
    const fleet = new Fleet();
    try {
      for (const w of WORKERS) fleet.start(w, leaseConfig(dir, stream, table, w));
      const b = await waitFor(fleet, 60000, async () => balanced(await leases(table), 6, 2));
      assert.ok(b.ok, `not two leases each after ${b.ms} ms: ${b.counts}\n  `
        + `${showLeases(b.ls)}\n${fleet.report()}`);
      t.diagnostic(`two leases each after ${b.ms} ms`);
      await expectAllRead(fleet, want);
      await stopCleanly(fleet);
      h.assertSameSet(fleet.ids(), want, 'three workers together');
      t.diagnostic(`documents per worker: ${fleet.workers.map((w) => `${w.name}=${w.state.ids.length}`)
        .join(' ')}; duplicates ${fleet.ids().length - fleet.unique().size}`);
    } finally {
      await fleet.cleanup();
    }
  });

test('kill -9 of one of three workers: the survivors take its leases in time, no flow lost',
  { timeout: 240000 }, async (t) => {
    const stream = 'lease-kill';
    const table = 'lease-kill-app';
    const dir = h.tmpdir(stream);
    await ks.createStream(kin.url, stream, 6);
    await put(stream, dir, 3000, 201, 200000);
    const before = union(h.idRange(200000, 3000), h.idRange(203000, 6000));
    const after = h.idRange(210000, 2000);
    const fleet = new Fleet();
    try {
      // one record a call (at most five a second): the victim is still
      // reading when it is killed
      const [, , victim] = WORKERS.map((w) => fleet.start(w,
        leaseConfig(dir, stream, table, w, ['max_records: 1'])));
      const b = await waitFor(fleet, 60000, async () => balanced(await leases(table), 6, 2));
      assert.ok(b.ok, `not two leases each after ${b.ms} ms: ${b.counts}\n  `
        + `${showLeases(b.ls)}\n${fleet.report()}`);
      const victimLeases = owners(b.ls)[victim.name];
      // 3000 more flows in each of the victim's shards; it is killed once
      // it has printed some of them
      const p1 = h.idRange(203000, 6000);
      const victimShards = (await shardsOf(stream)).filter((s) => victimLeases.includes(s.ShardId));
      for (const [i, s] of victimShards.entries()) {
        await put(stream, dir, 3000, 203 + i, 203000 + i * 3000, s);
      }
      const midway = await waitFor(fleet, 20000, () => {
        const n = victim.state.ids.filter((id) => p1.has(id)).length;
        return { ok: n > 0, n };
      });
      t.diagnostic(`${victim.name} (${victimLeases}) killed after printing ${midway.n} of the `
        + `${p1.size} flows put into its shards`);

      const killedAt = Date.now();
      victim.state.kill('SIGKILL');
      // more flows while the victim's shards have no reader
      const putting = put(stream, dir, 2000, 202, 210000);
      const survivors = WORKERS.slice(0, 2);
      const taken = await waitFor(fleet, 30000, async () => {
        const ls = await leases(table);
        return { ok: ls.length === 6 && ls.every((l) => survivors.includes(l.leaseOwner)), ls };
      });
      const tookMs = Date.now() - killedAt;
      // failover, then the round that sees it, plus 1 s for scheduling and
      // one poll of ours
      const bound = FAILOVER_MS + ROUND_MS + 1000 + POLL_MS;
      assert.ok(taken.ok, `the survivors do not own every lease ${tookMs} ms after the kill `
        + `(the victim had ${victimLeases}):\n  ${showLeases(taken.ls)}\n${fleet.report()}`);
      assert.ok(tookMs <= bound, `the survivors took every lease ${tookMs} ms after the kill; `
        + `at most ${bound} ms expected`);
      t.diagnostic(`the survivors owned all 6 leases ${tookMs} ms after the kill (bound ${bound} ms)`);
      await putting;

      const want = union(before, after);
      await expectAllRead(fleet, want);
      await stopCleanly(fleet, victim);
      assert.strictEqual(victim.result.signal, 'SIGKILL');
      // what the victim printed whole before it died counts as delivered
      h.assertSameSet(fleet.ids(), want, 'before and after the kill');
      const total = fleet.ids().length;
      const dups = total - fleet.unique().size;
      t.diagnostic(`${total} documents for ${want.size} flows: ${dups} duplicates `
        + `(the victim printed ${victim.state.ids.length}, and ${victim.state.bad.length} `
        + 'line cut short)');
      assert.ok(dups < want.size, `${dups} duplicates for ${want.size} flows`);
    } finally {
      await fleet.cleanup();
    }
  });

test('the lease table has KCL\'s shape', { timeout: 120000 }, async (t) => {
  const stream = 'lease-shape';
  const table = 'lease-shape-app';
  const dir = h.tmpdir(stream);
  await ks.createStream(kin.url, stream, 2);
  const shards = await shardsOf(stream);
  for (const [i, s] of shards.entries()) await put(stream, dir, 500, 301 + i, 300000 + i * 500, s);
  const want = h.idRange(300000, 1000);
  const last = {};
  for (const s of shards) last[s.ShardId] = await lastSequence(stream, s.ShardId);
  assert.strictEqual(await ddb.describeTable(kin.ddb, table), null, 'no table before the run');

  const fleet = new Fleet();
  try {
    fleet.start('w1', leaseConfig(dir, stream, table, 'w1'));
    const r = await waitFor(fleet, 60000, async () => {
      const ls = await leases(table);
      const got = fleet.unique();
      const have = [...want].filter((id) => got.has(id)).length;
      return { ok: have === want.size && balanced(ls, 2, 2, ['w1']).ok, have, ls };
    });
    assert.ok(r.ok, `${r.have} of ${want.size} flows read; leases:\n  ${showLeases(r.ls)}\n`
      + fleet.report());
    const running = await ddb.scanAll(kin.ddb, table);
    assertLeaseShape(running);
    await fleet.stopAll();
    assert.strictEqual(fleet.workers[0].result.code, 0, fleet.report());
  } finally {
    await fleet.cleanup();
  }
  h.assertSameSet(fleet.ids(), want, 'one worker');

  const desc = await ddb.describeTable(kin.ddb, table);
  assert.deepStrictEqual(desc.KeySchema, [{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
  assert.deepStrictEqual(desc.AttributeDefinitions,
    [{ AttributeName: 'leaseKey', AttributeType: 'S' }]);
  assert.strictEqual(desc.BillingModeSummary && desc.BillingModeSummary.BillingMode,
    'PAY_PER_REQUEST');
  assert.strictEqual(desc.GlobalSecondaryIndexes, undefined, 'no index');

  const items = await ddb.scanAll(kin.ddb, table);
  assertLeaseShape(items);
  const ls = items.map(ddb.plain);
  assert.deepStrictEqual(ls.map((l) => l.leaseKey).sort(), shards.map((s) => s.ShardId).sort(),
    'one lease per shard');
  for (const l of ls) {
    assert.strictEqual(l.leaseOwner, undefined, `${l.leaseKey}: released at SIGTERM`);
    assert.strictEqual(l.parentShardId, undefined, `${l.leaseKey}: no parents`);
    // drained and checkpointed at SIGTERM: the checkpoint is the last record
    assert.strictEqual(l.checkpoint, last[l.leaseKey], `${l.leaseKey}: checkpoint`);
  }
  t.diagnostic(`leases after the run:\n  ${showLeases(ls)}`);
});

test('a lease table left by KCL is taken over and resumed where KCL stopped',
  { timeout: 120000 }, async (t) => {
    const stream = 'lease-kcl';
    const table = 'lease-kcl-app';
    const dir = h.tmpdir(stream);
    await ks.createStream(kin.url, stream, 2);
    const shards = await shardsOf(stream);

    // the table as KCL creates it
    const create = capture('CreateTable-lease.json').request;
    create.TableName = table;
    await ddb.createTable(kin.ddb, create);

    // corpus A, all read and checkpointed by a KCL worker w1 that then died
    for (const [i, s] of shards.entries()) await put(stream, dir, 500, 401 + i, 400000 + i * 500, s);
    const template = capture('Scan-leases.json').response.Items[0];
    assert.deepStrictEqual(Object.keys(template).sort(), ['checkpoint',
      'checkpointSubSequenceNumber', 'leaseCounter', 'leaseKey', 'leaseOwner',
      'ownerSwitchesSinceCheckpoint']);
    const seeded = {};
    for (const s of shards) {
      seeded[s.ShardId] = await lastSequence(stream, s.ShardId);
      const item = structuredClone(template);
      item.leaseKey = { S: s.ShardId };
      item.leaseOwner = { S: 'w1' };
      item.leaseCounter = { N: '7' };
      item.checkpoint = { S: seeded[s.ShardId] };
      item.checkpointSubSequenceNumber = { N: '0' };
      item.ownerSwitchesSinceCheckpoint = { N: '1' };
      await ddb.putItem(kin.ddb, table, item,
        { ConditionExpression: 'attribute_not_exists(leaseKey)' });
    }
    // a KCL 3.5 row of another kind in the same table, with lease-like
    // attributes on purpose: it is no lease and must stay as it is
    const other = {
      leaseKey: { S: 'worker-metrics-x' },
      entityType: { S: 'WORKER_METRIC_STATS' },
      wid: { S: 'kcl-worker-x' },
      lut: { N: '1767225600' },
      leaseOwner: { S: 'kcl-worker-x' },
      leaseCounter: { N: '3' },
    };
    await ddb.putItem(kin.ddb, table, other);

    // corpus B, written after KCL stopped
    for (const [i, s] of shards.entries()) await put(stream, dir, 500, 411 + i, 410000 + i * 500, s);
    const want = h.idRange(410000, 1000);

    const fleet = new Fleet();
    let running;
    try {
      fleet.start('w2', leaseConfig(dir, stream, table, 'w2'));
      const r = await waitFor(fleet, 60000, async () => {
        const ls = await leases(table);
        const got = fleet.unique();
        const have = [...want].filter((id) => got.has(id)).length;
        const resumed = ls.length === 2 && ls.every((l) => l.leaseOwner === 'w2'
          && /^\d+$/.test(l.checkpoint) && BigInt(l.checkpoint) >= BigInt(seeded[l.leaseKey]));
        return { ok: have === want.size && resumed, have, ls };
      });
      assert.ok(r.ok, `${r.have} of ${want.size} flows of B read; leases (seeded at `
        + `${JSON.stringify(seeded)}):\n  ${showLeases(r.ls)}\n${fleet.report()}`);
      t.diagnostic(`w2 owned both leases and had read B after ${r.ms} ms`);
      running = await ddb.getItem(kin.ddb, table, { leaseKey: other.leaseKey });
      await fleet.stopAll();
      assert.strictEqual(fleet.workers[0].result.code, 0, fleet.report());
    } finally {
      await fleet.cleanup();
    }
    // exactly B: nothing KCL had checkpointed is read again
    h.assertSameSet(fleet.ids(), want, 'after the KCL checkpoints');
    assert.deepStrictEqual(running, other, 'the other row while w2 ran');
    assert.deepStrictEqual(await ddb.getItem(kin.ddb, table, { leaseKey: other.leaseKey }), other,
      'the other row after the run');
    const items = await ddb.scanAll(kin.ddb, table);
    assert.strictEqual(items.length, 3, 'two leases and the other row');
    const ls = items.filter((it) => !it.entityType);
    assertLeaseShape(ls);
    for (const l of ls.map(ddb.plain)) {
      assert.match(l.checkpoint, /^\d+$/);
      assert.ok(BigInt(l.checkpoint) > BigInt(seeded[l.leaseKey]),
        `${l.leaseKey}: checkpoint ${l.checkpoint} is past the seeded ${seeded[l.leaseKey]}`);
    }
  });

test('resharding under three workers: parents read to SHARD_END before their children',
  { timeout: 240000 }, async (t) => {
    const stream = 'lease-reshard';
    const table = 'lease-reshard-app';
    const dir = h.tmpdir(stream);
    await ks.createStream(kin.url, stream, 4);
    const before = await shardsOf(stream);
    // corpus A: 2000 flows (some 8 records) in each shard
    for (const [i, s] of before.entries()) await put(stream, dir, 2000, 501 + i, 500000 + i * 2000, s);
    const wantA = h.idRange(500000, 8000);

    const fleet = new Fleet();
    let children;
    let parentsOf;
    let atEnd;
    try {
      // one record a call (at most five calls a second): the parents are
      // still being read when the stream is resharded
      for (const w of WORKERS) {
        fleet.start(w, leaseConfig(dir, stream, table, w, ['max_records: 1']));
      }
      const owned = await waitFor(fleet, 60000, async () => {
        const ls = await leases(table);
        return { ok: ls.length === 4 && ls.every((l) => l.leaseOwner), ls };
      });
      assert.ok(owned.ok, `the 4 leases are not all owned:\n  ${showLeases(owned.ls)}\n`
        + fleet.report());

      const [s0, s1, s2] = before.map((s) => s.ShardId);
      const readA = [...fleet.unique()].filter((id) => wantA.has(id)).length;
      t.diagnostic(`${readA} of ${wantA.size} flows of A read when the stream is resharded`);
      await ks.splitShard(kin.url, stream, s0);
      await ks.mergeShards(kin.url, stream, s1, s2);
      const after = await shardsOf(stream);
      children = after.filter((s) => !before.some((b) => b.ShardId === s.ShardId));
      parentsOf = Object.fromEntries(children.map((c) => [c.ShardId,
        [c.ParentShardId, c.AdjacentParentShardId].filter(Boolean).sort()]));
      assert.strictEqual(children.length, 3, 'two children of the split, one of the merge');
      const parents = [s0, s1, s2];
      // corpus B: 1000 flows in each open shard (the children and the 4th)
      const open = after.filter((s) => !s.SequenceNumberRange.EndingSequenceNumber);
      assert.strictEqual(open.length, 4);
      for (const [i, s] of open.entries()) await put(stream, dir, 1000, 511 + i, 600000 + i * 1000, s);
      const want = union(wantA, h.idRange(600000, 4000));

      // well under the 30 s shard listing interval: a worker learns of
      // the children from leases others created, not only by listing
      const done = await waitFor(fleet, 20000, async () => {
        const ls = await leases(table);
        const got = fleet.unique();
        const have = [...want].filter((id) => got.has(id)).length;
        const ended = parents.every((p) => ls.some((l) => l.leaseKey === p
          && l.checkpoint === 'SHARD_END' && !l.leaseOwner));
        return { ok: have === want.size && ended, have, ls };
      });
      assert.ok(done.ok, `${done.have} of ${want.size} flows read; leases (parents ${parents}):\n  `
        + `${showLeases(done.ls)}\n${fleet.report()}`);
      t.diagnostic(`every flow read and the parents at SHARD_END ${done.ms} ms after the reshard`);
      atEnd = done.ls;
      await stopCleanly(fleet);
      h.assertSameSet(fleet.ids(), want, 'across the split and the merge');
    } finally {
      await fleet.cleanup();
    }

    const items = await ddb.scanAll(kin.ddb, table);
    assertLeaseShape(items);
    const ls = items.map(ddb.plain);
    t.diagnostic(`leases after the run:\n  ${showLeases(ls)}`);
    for (const p of new Set(Object.values(parentsOf).flat())) {
      const l = ls.find((x) => x.leaseKey === p);
      assert.ok(l, `a lease for ${p}`);
      assert.strictEqual(l.checkpoint, 'SHARD_END', `${p} ended`);
      assert.ok(atEnd.some((x) => x.leaseKey === p && !x.leaseOwner), `${p}: no owner once ended`);
    }
    const arrivals = fleet.arrivalsByShard();
    for (const c of children) {
      const l = ls.find((x) => x.leaseKey === c.ShardId);
      assert.ok(l, `a lease for ${c.ShardId}`);
      assert.deepStrictEqual(l.parentShardId, parentsOf[c.ShardId], `${c.ShardId}: parentShardId`);
      // the parent, read to its end, names its children (childShardIds)
      for (const p of parentsOf[c.ShardId]) {
        const pl = ls.find((x) => x.leaseKey === p);
        assert.ok((pl.childShardIds || []).includes(c.ShardId), `${p}: childShardIds has ${c.ShardId}`);
      }
      const mine = arrivals[c.ShardId] || [];
      assert.ok(mine.length > 0, `${c.ShardId} had flows`);
      const first = mine.reduce((a, b) => (b.seq < a.seq ? b : a));
      for (const p of parentsOf[c.ShardId]) {
        const theirs = arrivals[p] || [];
        if (!theirs.length) continue;
        const lastP = theirs.reduce((a, b) => (b.seq > a.seq ? b : a));
        t.diagnostic(`${c.ShardId}: first flow (${first.worker}) ${first.time - lastP.time} ms `
          + `after the last flow of ${p} (${lastP.worker})`);
        assert.ok(first.seq > lastP.seq, `${c.ShardId}'s first flow (read from ${first.worker}) `
          + `came before the last flow of its parent ${p} (read from ${lastP.worker})`);
      }
    }
  });

test('a KCL table whose finished parent lease was cleaned up: the parent is not read again',
  { timeout: 120000 }, async (t) => {
    const stream = 'lease-kclclean';
    const table = 'lease-kclclean-app';
    const dir = h.tmpdir(stream);
    await ks.createStream(kin.url, stream, 1);
    const [p] = await shardsOf(stream);
    await put(stream, dir, 500, 701, 700000, p);        // A: in the parent
    const wantA = h.idRange(700000, 500);
    await ks.splitShard(kin.url, stream, p.ShardId);
    const kids = (await shardsOf(stream)).filter((s) => s.ShardId !== p.ShardId);
    for (const [i, s] of kids.entries()) await put(stream, dir, 200, 711 + i, 710000 + i * 200, s);
    await ddb.createTable(kin.ddb, table);
    // the KCL read the parent to SHARD_END, and its cleanup deleted that
    // lease once the children were under way
    for (const s of kids) {
      await ddb.putItem(kin.ddb, table, {
        leaseKey: { S: s.ShardId }, leaseOwner: { S: 'kcl-dead' }, leaseCounter: { N: '9' },
        checkpoint: { S: await lastSequence(stream, s.ShardId) },
        checkpointSubSequenceNumber: { N: '0' }, ownerSwitchesSinceCheckpoint: { N: '0' },
        parentShardId: { SS: [p.ShardId] },
      });
    }
    for (const [i, s] of kids.entries()) await put(stream, dir, 200, 721 + i, 720000 + i * 200, s);
    const want = h.idRange(720000, 400);
    const fleet = new Fleet();
    try {
      fleet.start('w2', leaseConfig(dir, stream, table, 'w2'));
      await expectAllRead(fleet, want, 30000);
      await stopCleanly(fleet);
    } finally {
      await fleet.cleanup();
    }
    const got = new Set(fleet.ids());
    assert.strictEqual([...wantA].filter((x) => got.has(x)).length, 0, 'no flow of the parent read again');
    h.assertSameSet(fleet.ids(), want, 'only what came after the KCL checkpoints');
    const ls = await leases(table);
    assert.ok(!ls.some((l) => l.leaseKey === p.ShardId), 'no lease made for the cleaned-up parent');
  });

test('kinesis.shards with leases: a pinned child whose parent is not pinned is read',
  { timeout: 120000 }, async () => {
    const stream = 'lease-pin';
    const table = 'lease-pin-app';
    const dir = h.tmpdir(stream);
    await ks.createStream(kin.url, stream, 1);
    const [p] = await shardsOf(stream);
    await ks.splitShard(kin.url, stream, p.ShardId);
    const kids = (await shardsOf(stream)).filter((s) => s.ShardId !== p.ShardId);
    await put(stream, dir, 200, 731, 730000, kids[0]);
    const fleet = new Fleet();
    try {
      fleet.start('w1', leaseConfig(dir, stream, table, 'w1', ['shards:', `    - ${kids[0].ShardId}`]));
      await expectAllRead(fleet, h.idRange(730000, 200), 30000);
      await stopCleanly(fleet);
    } finally {
      await fleet.cleanup();
    }
    const ls = await leases(table);
    assert.deepStrictEqual(ls.map((l) => l.leaseKey), [kids[0].ShardId], 'only the pinned shard is leased');
  });
