// vpcflowd run with output.type kafka, end to end: kinesalite in, the
// librdkafka mock cluster (test/kafka/mock_cluster.c, path in
// VF_KAFKA_MOCK) out, and kcat as an independent consumer reading the
// topic back. Every flow put must be in the topic, through produce errors
// and brokers going down. Started by meson (suite "integration").
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn, execFile } = require('node:child_process');
const h = require('./harness');

const mockBin = process.env.VF_KAFKA_MOCK ||
  path.join(h.root, 'build', 'test', 'kafka', 'kafka_mock_cluster');

let kin;
test.before(async () => { kin = await h.startKinesis(); });
test.after(() => kin && kin.stop());

// The mock cluster: its bootstrap list, and command(line) resolving to
// its answer ("ok" or "error: ...").
function startMock(topic, partitions) {
  return new Promise((resolve, reject) => {
    const child = spawn(mockBin, [topic, String(partitions)],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = [];
    let bootstrap = null;
    const timer = setTimeout(() => reject(new Error('the mock cluster did not start')), 20000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the mock cluster exited ${code}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (bootstrap === null) {
        clearTimeout(timer);
        bootstrap = JSON.parse(line).bootstrap;
        resolve({
          bootstrap,
          command: (cmd) => new Promise((res) => {
            waiting.push(res);
            child.stdin.write(`${cmd}\n`);
          }),
          stop: () => child.stdin.end(),
        });
        return;
      }
      const res = waiting.shift();
      if (res) res(line);
    });
  });
}

async function commands(mock, lines) {
  for (const line of lines) assert.strictEqual(await mock.command(line), 'ok', line);
}

// Everything in the topic, by a consumer that is not vpcflowd's.
function readTopic(bootstrap, topic) {
  return new Promise((resolve, reject) => {
    execFile('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q'],
      { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60000 }, (err, stdout) => {
        if (err) return reject(err);
        resolve(stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)));
      });
  });
}

// The harness's configuration with output: kafka in place of stdout.
function kafkaConfig(dir, stream, bootstrap, topic, properties = {}) {
  const file = h.writeConfig(dir, kin.url, stream);
  const text = fs.readFileSync(file, 'utf8');
  const props = Object.entries(properties).map(([k, v]) => `\n      ${k}: "${v}"`).join('');
  const out = `output:
  type: kafka
  kafka:
    brokers: ${bootstrap}
    topic: ${topic}${props ? `\n    properties:${props}` : ''}
`;
  assert.ok(text.includes('output:\n  type: stdout\n'));
  fs.writeFileSync(file, text.replace('output:\n  type: stdout\n', out));
  return file;
}

// vpcflowd run until every id of want is in the topic (or timeoutMs),
// then SIGTERM. want null: until timeoutMs. during(elapsedMs) runs about
// once a second meanwhile; it returns true while the topic cannot be read.
function runUntilDelivered(cfg, bootstrap, topic, want, { timeoutMs = 90000, during } = {}) {
  return new Promise((resolve) => {
    const child = spawn(h.bin, ['run', '-c', cfg], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, HOME: path.dirname(cfg), ...h.awsEnv },
    });
    const start = Date.now();
    let stderr = '';
    let exited = false;
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal, stderr });
    });
    (async () => {
      while (!exited && Date.now() - start < timeoutMs) {
        await new Promise((r) => setTimeout(r, 1000));
        if (during && await during(Date.now() - start)) continue;
        if (want === null) continue;
        let docs;
        try {
          docs = await readTopic(bootstrap, topic);
        } catch {
          continue;
        }
        const ids = new Set(docs.map((d) => d._aws_event_id));
        if ([...want].every((id) => ids.has(id))) break;
      }
      child.kill('SIGTERM');
    })();
  });
}

test('every flow arrives in the topic, one GELF document a record', async () => {
  const dir = h.tmpdir('kafka');
  const mock = await startMock('vpc-flows', 6);
  try {
    h.setupStream(kin.url, 'kafka', 3, dir, [[3000, 21, 100000]]);
    const cfg = kafkaConfig(dir, 'kafka', mock.bootstrap, 'vpc-flows',
      { 'compression.type': 'lz4' });
    const want = h.idRange(100000, 3000);
    const run = await runUntilDelivered(cfg, mock.bootstrap, 'vpc-flows', want);
    assert.strictEqual(run.code, 0, run.stderr);
    const docs = await readTopic(mock.bootstrap, 'vpc-flows');
    h.assertSameSet(docs.map((d) => d._aws_event_id), want, 'read back with kcat');
    assert.strictEqual(docs.length, 3000, 'no duplicates without faults');
    const doc = docs[0];
    assert.strictEqual(doc.version, '1.1');
    assert.strictEqual(doc.host, 'aws-flowlogs');
    assert.match(doc.short_message, /^eni-/);
    assert.strictEqual(doc._aws_kinesis_stream, 'kafka');
  } finally {
    mock.stop();
  }
});

test('produce errors and a broker down lose nothing', async () => {
  const dir = h.tmpdir('kafka-faults');
  const mock = await startMock('vpc-flows', 6);
  try {
    h.setupStream(kin.url, 'kafka-faults', 2, dir, [[2000, 22, 200000]]);
    // A short message.timeout.ms: the outage below outlasts it, so
    // vpcflowd itself must produce the timed-out messages again.
    // One request in flight: librdkafka's mock broker checks idempotent
    // sequence numbers only for transactional producers, so it takes a
    // pipelined request after refusing the one before (a real broker
    // answers OUT_OF_ORDER_SEQUENCE_NUMBER), and librdkafka then counts
    // the refused messages as persisted ("implicitly acked by subsequent
    // batch success"). With one request in flight there is no later
    // request to take the place of a refused one.
    const cfg = kafkaConfig(dir, 'kafka-faults', mock.bootstrap, 'vpc-flows',
      { 'message.timeout.ms': '2000', 'linger.ms': '1',
        'max.in.flight.requests.per.connection': '1' });
    await commands(mock, [
      'errors 0 20 NOT_LEADER_FOR_PARTITION',
      'errors 0 10 REQUEST_TIMED_OUT',
      'errors 0 5 _TRANSPORT',
      'errors 0 10 NOT_ENOUGH_REPLICAS',
    ]);
    let phase = 0;
    const want = h.idRange(200000, 2000);
    const run = await runUntilDelivered(cfg, mock.bootstrap, 'vpc-flows', want, {
      timeoutMs: 120000,
      during: async (ms) => {
        if (phase === 0) {
          phase = 1;
          await commands(mock, ['broker_down -1']);
          h.putCorpus(kin.url, 'kafka-faults', dir, 1000, 23, 210000);
          for (const id of h.idRange(210000, 1000)) want.add(id);
        } else if (phase === 1 && ms > 7000) {
          phase = 2;
          await commands(mock, ['broker_up -1', 'errors 0 10 REQUEST_TIMED_OUT']);
        }
        return phase === 1;
      },
    });
    assert.strictEqual(run.code, 0, run.stderr);
    assert.strictEqual(phase, 2, 'the brokers went down and came back');
    const docs = await readTopic(mock.bootstrap, 'vpc-flows');
    h.assertSameSet(docs.map((d) => d._aws_event_id), want, 'through the faults');
    assert.match(run.stderr, /producing it again/);
  } finally {
    mock.stop();
  }
});

test('nothing is checkpointed that Kafka did not take', async () => {
  const dir = h.tmpdir('kafka-down');
  const mock = await startMock('vpc-flows', 3);
  try {
    h.setupStream(kin.url, 'kafka-down', 1, dir, [[500, 24, 300000]]);
    const cfg = kafkaConfig(dir, 'kafka-down', mock.bootstrap, 'vpc-flows');
    await commands(mock, ['broker_down -1']);
    // every broker down for the whole run: nothing may be acknowledged
    const first = await runUntilDelivered(cfg, mock.bootstrap, 'vpc-flows',
      null, { timeoutMs: 4000 });
    assert.strictEqual(first.code, 0, first.stderr);
    assert.match(first.stderr, /not acknowledged at shutdown/);
    await commands(mock, ['broker_up -1']);
    assert.strictEqual((await readTopic(mock.bootstrap, 'vpc-flows')).length, 0);
    // the restart reads the same records again and delivers them
    const want = h.idRange(300000, 500);
    const second = await runUntilDelivered(cfg, mock.bootstrap, 'vpc-flows', want);
    assert.strictEqual(second.code, 0, second.stderr);
    const docs = await readTopic(mock.bootstrap, 'vpc-flows');
    h.assertSameSet(docs.map((d) => d._aws_event_id), want, 'after the restart');
  } finally {
    mock.stop();
  }
});
