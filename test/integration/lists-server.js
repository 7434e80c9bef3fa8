// A threat list server for the tests, on 127.0.0.1: serves each path from
// a script of answers, with ETag / If-None-Match as a real server does.
//
//   const s = await startListServer({ '/drop.txt': [
//     { body: '1.2.3.0/24 ; SBL1\n', etag: '"v1"' },   // 200 with an ETag
//     { notModifiedIf: '"v1"', times: 2 },             // 304 when it matches
//     { status: 500, times: 2 },
//     { body: '...', etag: '"v2"' },                   // the last one repeats
//   ]});
//   s.url('/drop.txt'); s.requests: [{ path, headers, status }]; s.close()
'use strict';
const http = require('node:http');

function startListServer(routes) {
  const state = {};
  for (const p of Object.keys(routes)) state[p] = { step: 0, used: 0 };
  const requests = [];
  const server = http.createServer((req, res) => {
    const script = routes[req.url];
    if (!script) {
      res.writeHead(404).end('not found\n');
      requests.push({ path: req.url, headers: req.headers, status: 404 });
      return;
    }
    const st = state[req.url];
    const step = script[Math.min(st.step, script.length - 1)];
    st.used++;
    if (st.step < script.length - 1 && st.used >= (step.times || 1)) {
      st.step++;
      st.used = 0;
    }
    let status = step.status || 200;
    if (step.notModifiedIf) {
      status = req.headers['if-none-match'] === step.notModifiedIf ? 304 : 412;
    }
    requests.push({ path: req.url, headers: req.headers, status });
    const headers = {};
    if (step.etag) headers.ETag = step.etag;
    if (status === 200) {
      res.writeHead(200, { 'Content-Type': 'text/plain', ...headers });
      res.end(step.body);
    } else {
      res.writeHead(status, headers).end(status === 304 ? undefined : 'no\n');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        port,
        requests,
        url: (p) => `http://127.0.0.1:${port}${p}`,
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

module.exports = { startListServer };
