// A tiny DynamoDB (JSON 1.0) client for the tests, without any AWS SDK.
// It talks to dynalite on 127.0.0.0/8 only: any other endpoint is refused.
// dynalite checks that the Authorization header is there and well formed,
// not the signature, so the one sent here is syntactically complete but
// not computed.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

const TARGET = 'DynamoDB_20120810';

class DynamoError extends Error {
  constructor(op, status, body) {
    const type = body && body.__type ? String(body.__type).replace(/^.*#/, '') : `HTTP${status}`;
    super(`${op}: HTTP ${status} ${type}${body && body.message ? `: ${body.message}` : ''}`);
    this.status = status;
    this.type = type;
    this.body = body;
  }
}

function loopback(endpoint) {
  const url = new URL(endpoint);
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(url.hostname);
  if (url.protocol !== 'http:' || !m || m.slice(1).some((o) => Number(o) > 255)) {
    throw new Error(`refusing endpoint ${endpoint}: the tests talk to http://127.0.0.0/8 only`);
  }
  return url;
}

function amzDate(d = new Date()) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

// One request: resolves {status, body (parsed JSON or null)}; rejects on
// transport errors only.
function raw(endpoint, op, payload, timeoutMs = 15000) {
  const url = loopback(endpoint);
  const body = Buffer.from(JSON.stringify(payload || {}));
  const signature = crypto.createHash('sha256').update(body).digest('hex');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port || 80,
      path: '/',
      method: 'POST',
      agent,
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': `${TARGET}.${op}`,
        'X-Amz-Date': amzDate(),
        Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/'
          + 'aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, '
          + `Signature=${signature}`,
        'Content-Length': body.length,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body: parsed, text });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${op}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls one operation; retries transport errors, 5xx and throttling a few
// times; any other error is thrown as a DynamoError (.type without the
// "com.amazonaws...#" prefix).
async function call(endpoint, op, body, { retries = 4 } = {}) {
  for (let attempt = 0; ; attempt++) {
    let err;
    let r;
    try {
      r = await raw(endpoint, op, body);
    } catch (e) {
      err = e;
    }
    if (r) {
      if (r.status === 200) return r.body || {};
      err = new DynamoError(op, r.status, r.body);
      if (r.status < 500 && !/Throttl|LimitExceeded/.test(err.type)) throw err;
    }
    if (attempt >= retries) throw err;
    await sleep(50 * 2 ** attempt);
  }
}

// Every item of a table: a consistent Scan, page after page.
async function scanAll(endpoint, table) {
  const items = [];
  let start;
  for (let pages = 0; pages < 10000; pages++) {
    const req = { TableName: table, ConsistentRead: true };
    if (start) req.ExclusiveStartKey = start;
    const r = await call(endpoint, 'Scan', req);
    items.push(...(r.Items || []));
    if (!r.LastEvaluatedKey) return items;
    start = r.LastEvaluatedKey;
  }
  throw new Error(`Scan ${table}: too many pages`);
}

// The Table of DescribeTable; null when there is no such table.
async function describeTable(endpoint, table) {
  try {
    return (await call(endpoint, 'DescribeTable', { TableName: table })).Table;
  } catch (e) {
    if (e instanceof DynamoError && e.type === 'ResourceNotFoundException') return null;
    throw e;
  }
}

// KCL's lease table: leaseKey (S) HASH, on demand.
function leaseTableRequest(table) {
  return {
    TableName: table,
    AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

// Creates a table (a name: KCL's lease-table schema; else a whole
// CreateTable request) and, unless wait is false, waits until it is ACTIVE.
// Returns the TableDescription of the CreateTable answer.
async function createTable(endpoint, request, { wait = true, timeoutMs = 20000 } = {}) {
  const req = typeof request === 'string' ? leaseTableRequest(request) : request;
  const r = await call(endpoint, 'CreateTable', req);
  if (wait) await waitActive(endpoint, req.TableName, timeoutMs);
  return r.TableDescription;
}

async function waitActive(endpoint, table, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await describeTable(endpoint, table);
    if (t && t.TableStatus === 'ACTIVE') return t;
    if (Date.now() > deadline) {
      throw new Error(`table ${table} is ${t ? t.TableStatus : 'missing'} after ${timeoutMs} ms`);
    }
    await sleep(25);
  }
}

// PutItem; extra: more request fields (ConditionExpression, ...).
function putItem(endpoint, table, item, extra = {}) {
  return call(endpoint, 'PutItem', { TableName: table, Item: item, ...extra });
}

function getItem(endpoint, table, key) {
  return call(endpoint, 'GetItem', { TableName: table, Key: key, ConsistentRead: true })
    .then((r) => r.Item || null);
}

// An item's attributes as plain values: S as is, N as the numeric string,
// SS as a sorted array; anything else as its {type: value}.
function plain(item) {
  const out = {};
  for (const [k, v] of Object.entries(item)) {
    if ('S' in v) out[k] = v.S;
    else if ('N' in v) out[k] = v.N;
    else if ('SS' in v) out[k] = [...v.SS].sort();
    else out[k] = v;
  }
  return out;
}

module.exports = {
  call, scanAll, describeTable, createTable, waitActive, putItem, getItem, plain,
  leaseTableRequest, DynamoError, loopback,
};
