// Backpressure measured: vpcflowd run with a 200k-flow backlog in a
// 2-shard kinesalite stream and its gelf_tcp destination down for 20 s,
// then up for 15 s. Prints the peak RSS while down and overall, and what
// the sink received. Needs the test emulators (npm ci in test/emulators),
// build/vpcflowd, build/bench/gen_corpus and build-bench/bench/gelf_sink.
//
//   node bench/output_down.js
'use strict';
const path = require('node:path');
const h = require('../test/integration/harness.js');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
(async () => {
  const kin = await h.startKinesis();
  const dir = h.tmpdir('down');
  h.setupStream(kin.url, 'down', 2, dir, [[200000, 7, 0]]);
  const port = 19611;
  const cfg = h.writeConfig(dir, kin.url, 'down', { output: ['type: gelf_tcp', 'host: 127.0.0.1', `port: ${port}`] });
  const child = spawn(h.bin, ['run', '-c', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...h.awsEnv } });
  let hwm = 0;
  const sample = () => { try { const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')); hwm = Math.max(hwm, +m[1]); } catch (_) {} };
  const iv = setInterval(sample, 200);
  await new Promise((r) => setTimeout(r, 20000));
  const hwmDown = hwm;
  const sink = spawn(path.join(h.root, 'build-bench', 'bench', 'gelf_sink'), ['tcp', String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  sink.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => setTimeout(r, 15000));
  sample();
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  sink.stdin.end();
  await new Promise((r) => sink.on('exit', r));
  clearInterval(iv);
  console.log(`peak RSS while down: ${hwmDown} KiB; overall: ${hwm} KiB; sink: ${out.trim().split('\n').pop()}`);
  kin.stop();
})();
