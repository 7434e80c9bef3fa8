// Structure of the Graylog content pack (deploy/graylog/vpcflowd-content-pack.json),
// checked without a Graylog server: the content pack v1 envelope, the
// entities and their cross-references, the inputs, stream, searches, dashboard
// widgets and event definitions the pack promises, and every field name the
// pack uses against the tables in docs/fields.md. Renaming a field in
// docs/fields.md without updating the pack fails here, naming the field and
// where the pack uses it.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const PACK_PATH = path.join(ROOT, 'deploy', 'graylog', 'vpcflowd-content-pack.json');
const FIELDS_PATH = path.join(ROOT, 'docs', 'fields.md');
const DOC_PATH = path.join(ROOT, 'docs', 'graylog.md');

// Fields every Graylog message has, or that Graylog derives itself (GELF
// host -> source, short_message -> message).
const GRAYLOG_BUILTIN = new Set([
  'timestamp', 'source', 'message', 'full_message', 'streams', '_id',
  'gl2_source_input', 'gl2_source_node', 'gl2_message_id', 'gl2_receive_timestamp',
]);
// Graylog's fixed id of the "All events" stream (event storage).
const ALL_EVENTS_STREAM = '000000000000000000000002';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// What the pack must contain. Queries given here are checked verbatim.
const REQUIRED_SEARCHES = [
  ['VPC: direct external access to EC2 (bypassing load balancers)',
    'dst_addr_entity_aws_type:EC2 AND src_addr_internal:false AND (dst_port:80 OR dst_port:443)'],
  ['VPC: RDS sending to external addresses', 'src_addr_entity_aws_type:RDS AND dst_addr_internal:false'],
  ['VPC: threat list hits', 'src_addr_threat_indicated:true OR dst_addr_threat_indicated:true'],
  ['VPC: traffic to or from a known-bad IP', null],
  ['VPC: traffic to port 80', 'dst_port:80'],
  ['VPC: Telnet (port 23)', 'dst_port:23'],
  ['VPC: rejected traffic by interface', 'action:REJECT'],
];
const REQUIRED_WIDGETS = [
  'Accepted vs rejected flows over time',
  'Top rejected sources',
  'Top rejected destinations',
  'Protocol distribution',
  'Port scanners (distinct destination ports per source)',
  'External sources by location',
  'Packets and bytes over time',
  'Flows by entity type',
];
const REQUIRED_EVENTS = [
  'VPC: accepted traffic from outside the allowed networks',
  'VPC: more rejections than usual per interface',
  'VPC: surge of short connections',
  'VPC: egress to a destination outside the approved list',
  'VPC: accepted traffic to destination port 23',
  'VPC: flow log records with NODATA or SKIPDATA',
  'VPC: threat list hit',
  'VPC: source contacting many distinct ports',
  'VPC: no flow received for 15 minutes',
];
const STREAM_TITLE = 'VPC flow logs';
const DASHBOARD_TITLE = 'VPC flow logs';

// ------------------------------------------------------------------ fields.md

// The Graylog field names docs/fields.md defines: the "field" / "Graylog
// field" column of every table (and "also `x`" in a row's notes), with
// `<f>` expanded to the address fields the page names, and `<list>` kept as
// a pattern. The "Standard fields" table lists GELF envelope keys, which
// Graylog stores under its own names (GRAYLOG_BUILTIN).
function parseFieldsMd(text) {
  const names = new Set();
  const patterns = [];
  const lines = text.split('\n');

  const marker = text.indexOf('(written `<f>`');
  assert.ok(marker > 0, 'docs/fields.md: the sentence naming the address fields (written `<f>`) is missing');
  const paraStart = text.lastIndexOf('\n\n', marker);
  const addressFields = [...text.slice(paraStart, marker).matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]);
  assert.ok(addressFields.length > 0, 'docs/fields.md: no address fields before "(written `<f>`"');

  const add = (raw) => {
    const expanded = raw.includes('<f>') ? addressFields.map((f) => raw.replaceAll('<f>', f)) : [raw];
    for (const name of expanded) {
      if (name.includes('<')) {
        const re = name.replace(/<[a-z]+>/g, '[A-Za-z0-9_]+');
        patterns.push(new RegExp(`^${re}$`));
      } else if (/^[a-z][a-z0-9_]*$/.test(name)) {
        names.add(name);
      }
    }
  };

  let section = '';
  let column = -1;
  let tables = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#')) {
      section = line.replace(/^#+\s*/, '');
      column = -1;
      continue;
    }
    if (!line.startsWith('|')) {
      column = -1;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (column === -1) {
      // header row, followed by the |---| separator
      if (!(lines[i + 1] || '').startsWith('|-')) continue;
      column = cells.findIndex((c) => c === 'field' || c === 'Graylog field');
      if (column === -1) column = -2; // a table without field names
      else tables++;
      i++;
      continue;
    }
    if (column < 0 || section === 'Standard fields') continue;
    for (const m of cells[column].matchAll(/`([^`]+)`/g)) add(m[1]);
    for (const m of line.matchAll(/\balso `([^`]+)`/g)) add(m[1]);
  }
  assert.ok(tables >= 4, `docs/fields.md: expected at least 4 field tables, found ${tables}`);
  return { names, patterns, addressFields };
}

function loadFields() {
  return parseFieldsMd(fs.readFileSync(FIELDS_PATH, 'utf8'));
}

function knownField(fields, name) {
  return GRAYLOG_BUILTIN.has(name) || fields.names.has(name) || fields.patterns.some((re) => re.test(name));
}

// ------------------------------------------------------------------ queries

const FIELD_CHAR = /[A-Za-z0-9_.@-]/;
const BINARY_OPS = new Set(['AND', 'OR', '&&', '||']);
const ALL_OPS = new Set([...BINARY_OPS, 'NOT', '!']);

// A check of Graylog's (Lucene) query syntax as far as this pack needs it:
// balanced quotes, parentheses and range brackets, no dangling operators,
// no "field:" without a name or a value. Returns the field names used
// (`field:value` and `_exists_:field`) and the problems found.
function analyzeQuery(query) {
  const fields = [];
  const errors = [];
  let depth = 0;
  let range = null;
  let inQuote = false;
  const words = [];
  let word = '';
  const flush = () => {
    if (word) words.push(word);
    word = '';
  };
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === '\\') {
      if (i + 1 >= query.length) errors.push('trailing backslash');
      word += c + (query[i + 1] || '');
      i++;
      continue;
    }
    if (c === '"') {
      inQuote = !inQuote;
      word += c;
      continue;
    }
    if (inQuote) {
      word += c;
      continue;
    }
    if (range) {
      if (c === ']' || c === '}') range = null;
      word += c;
      continue;
    }
    if (c === '[' || c === '{') {
      range = c;
      word += c;
      continue;
    }
    if (c === ']' || c === '}') {
      errors.push(`unopened '${c}' at ${i}`);
      continue;
    }
    if (c === '(') {
      flush();
      words.push('(');
      depth++;
      continue;
    }
    if (c === ')') {
      flush();
      words.push(')');
      depth--;
      if (depth < 0) {
        errors.push(`unbalanced ')' at ${i}`);
        depth = 0;
      }
      continue;
    }
    if (/\s/.test(c)) {
      flush();
      continue;
    }
    if (c === ':') {
      let j = i - 1;
      while (j >= 0 && FIELD_CHAR.test(query[j])) j--;
      const name = query.slice(j + 1, i).replace(/^[-+!]+/, '');
      const next = query[i + 1];
      if (!name) errors.push(`':' without a field name at ${i}`);
      if (next === undefined || /[\s)]/.test(next)) errors.push(`field '${name}' has no value`);
      if (name === '_exists_') {
        let k = i + 1;
        while (k < query.length && FIELD_CHAR.test(query[k])) k++;
        const target = query.slice(i + 1, k);
        if (!target) errors.push('_exists_ without a field name');
        else fields.push(target);
      } else if (name) {
        fields.push(name);
      }
    }
    word += c;
  }
  flush();
  if (inQuote) errors.push('unbalanced double quote');
  if (depth !== 0) errors.push(`${depth} unclosed '('`);
  if (range) errors.push(`unclosed range '${range}'`);

  // operators: none at the ends, no two binary operators in a row,
  // no lower-case and/or (Lucene would search for the words)
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const prev = words[i - 1];
    const next = words[i + 1];
    if (w === 'and' || w === 'or') errors.push(`lower-case operator '${w}' (searched as a word)`);
    if (BINARY_OPS.has(w)) {
      if (prev === undefined || prev === '(' || ALL_OPS.has(prev)) errors.push(`'${w}' has no left operand`);
      if (next === undefined || next === ')' || BINARY_OPS.has(next)) errors.push(`'${w}' has no right operand`);
    }
    if ((w === 'NOT' || w === '!') && (next === undefined || next === ')' || BINARY_OPS.has(next))) {
      errors.push(`'${w}' has no operand`);
    }
  }
  return { fields, errors };
}

// The field a series function uses: "card(dst_port)" -> "dst_port", "count()" -> null.
function seriesField(fn) {
  const m = /^([a-z_]+)\(([^)]*)\)$/.exec(fn);
  assert.ok(m, `series function '${fn}' is not of the form name(field)`);
  return m[2] || null;
}

// ------------------------------------------------------------------ the pack

function loadPack() {
  return JSON.parse(fs.readFileSync(PACK_PATH, 'utf8'));
}

// A ValueReference: {"@type": ..., "@value": ...}.
function ref(v, where) {
  assert.ok(v && typeof v === 'object' && '@type' in v && '@value' in v, `${where}: not a value reference`);
  return v['@value'];
}

function title(e) {
  if (e.data && e.data.title && typeof e.data.title === 'object') return ref(e.data.title, e.id);
  return e.data && e.data.title;
}

function byType(pack, name) {
  return pack.entities.filter((e) => e.type.name === name);
}

function views(pack) {
  return pack.entities.filter((e) => e.type.name === 'search' || e.type.name === 'dashboard');
}

// "search type of widget 'Title'" for a search type of a view query.
function searchTypeLabel(v, q, st) {
  const state = v.data.state[q.id];
  const wid = Object.keys(state.widget_mapping).find((w) => state.widget_mapping[w].includes(st.id));
  return wid ? `search type of widget '${state.titles.widget[wid]}'` : `search type ${st.id}`;
}

// Every query string in the pack, with where it is.
function queries(pack) {
  const out = [];
  for (const v of views(pack)) {
    const vt = title(v);
    for (const q of v.data.search.queries) {
      out.push({ where: `${v.type.name} '${vt}' query`, query: q.query.query_string });
      for (const st of q.search_types) {
        if (st.query) out.push({ where: `${v.type.name} '${vt}' ${searchTypeLabel(v, q, st)}`, query: st.query.query_string });
      }
      for (const w of v.data.state[q.id].widgets) {
        const wt = v.data.state[q.id].titles.widget[w.id];
        if (w.query) out.push({ where: `${v.type.name} '${vt}' widget '${wt}'`, query: w.query.query_string });
      }
    }
  }
  for (const e of byType(pack, 'event_definition')) {
    out.push({ where: `event definition '${title(e)}' query`, query: ref(e.data.config.query, e.id) });
  }
  return out;
}

// Every field name the pack uses outside query strings, with where.
function structuralFields(pack) {
  const out = [];
  const use = (name, where) => out.push({ name, where });
  for (const s of byType(pack, 'stream')) {
    for (const r of s.data.stream_rules) use(ref(r.field, s.id), `stream '${title(s)}' rule`);
  }
  for (const v of views(pack)) {
    const vt = title(v);
    for (const q of v.data.search.queries) {
      const state = v.data.state[q.id];
      for (const w of state.widgets) {
        const at = `${v.type.name} '${vt}' widget '${state.titles.widget[w.id]}'`;
        const c = w.config;
        if (w.type === 'messages') {
          for (const f of c.fields) use(f, `${at} column`);
        } else {
          for (const p of [...c.row_pivots, ...c.column_pivots]) {
            for (const f of p.fields || [p.field]) use(f, `${at} group-by`);
          }
          for (const s of c.series) {
            const f = seriesField(s.function);
            if (f) use(f, `${at} series ${s.function}`);
          }
        }
        for (const s of c.sort || []) {
          if (s.type === 'pivot') use(s.field, `${at} sort`);
          else if (seriesField(s.field)) use(seriesField(s.field), `${at} sort`);
        }
      }
      for (const st of q.search_types) {
        const at = `${v.type.name} '${vt}' ${searchTypeLabel(v, q, st)}`;
        for (const g of [...(st.row_groups || []), ...(st.column_groups || [])]) {
          for (const f of g.fields || [g.field]) use(f, `${at} group`);
        }
        for (const s of st.series || []) if (s.field) use(s.field, `${at} series ${s.id}`);
        for (const s of st.sort || []) {
          if (s.type === 'series') {
            if (seriesField(s.field)) use(seriesField(s.field), `${at} sort`);
          } else {
            use(s.field, `${at} sort`);
          }
        }
      }
    }
  }
  for (const e of byType(pack, 'event_definition')) {
    const at = `event definition '${title(e)}'`;
    for (const f of e.data.config.group_by) use(f, `${at} group-by`);
    for (const s of e.data.config.series) if (s.field) use(s.field, `${at} series ${s.id}`);
    for (const [name, spec] of Object.entries(e.data.field_spec)) {
      for (const p of spec.providers) {
        for (const m of (p.template || '').matchAll(/\$\{source\.([^}]+)\}/g)) use(m[1], `${at} event field ${name}`);
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ tests

test('docs/fields.md tables parse into field names', () => {
  const fields = loadFields();
  assert.ok(fields.names.size >= 50, `only ${fields.names.size} field names parsed from docs/fields.md`);
  for (const name of fields.names) assert.match(name, /^[a-z][a-z0-9_]*$/);
  // the enrichment table is expanded over the address fields
  for (const f of fields.addressFields) {
    assert.ok([...fields.names].some((n) => n.startsWith(`${f}_`)),
      `no enrichment field derived for ${f} from the \`<f>_...\` table`);
  }
});

test('the pack is a content pack v1 document', () => {
  const pack = loadPack();
  for (const key of ['v', 'id', 'rev', 'name', 'summary', 'description', 'vendor', 'url', 'parameters', 'entities']) {
    assert.ok(key in pack, `top-level key '${key}' is missing`);
  }
  assert.strictEqual(pack.v, '1');
  assert.match(pack.id, UUID_RE);
  assert.ok(Number.isInteger(pack.rev) && pack.rev >= 1, 'rev must be a positive integer');
  for (const key of ['name', 'summary', 'description', 'vendor', 'url']) {
    assert.strictEqual(typeof pack[key], 'string', `${key} must be a string`);
  }
  assert.ok(pack.name && pack.summary && pack.vendor, 'name, summary and vendor must not be empty');
  assert.ok(Array.isArray(pack.parameters), 'parameters must be an array');
  assert.ok(Array.isArray(pack.entities) && pack.entities.length > 0, 'entities must be a non-empty array');
});

test('every entity has v, type {name, version}, id, data and constraints; ids are unique', () => {
  const pack = loadPack();
  const known = { input: ['1'], stream: ['1'], search: ['1'], dashboard: ['2'], event_definition: ['1'] };
  const ids = new Set();
  for (const e of pack.entities) {
    const at = `entity ${e.id}`;
    assert.deepStrictEqual(Object.keys(e).sort(), ['constraints', 'data', 'id', 'type', 'v'], `${at}: keys`);
    assert.strictEqual(e.v, '1', `${at}: v`);
    assert.deepStrictEqual(Object.keys(e.type).sort(), ['name', 'version'], `${at}: type`);
    assert.ok(known[e.type.name], `${at}: unexpected entity type ${e.type.name}`);
    assert.ok(known[e.type.name].includes(e.type.version), `${at}: ${e.type.name} version ${e.type.version}`);
    assert.match(e.id, UUID_RE, `${at}: id is not a UUID`);
    assert.ok(!ids.has(e.id), `duplicate entity id ${e.id}`);
    ids.add(e.id);
    assert.ok(e.data && typeof e.data === 'object', `${at}: data`);
    assert.ok(Array.isArray(e.constraints) && e.constraints.length > 0, `${at}: constraints`);
    for (const c of e.constraints) {
      assert.strictEqual(c.type, 'server-version', `${at}: constraint type`);
      assert.match(c.version, /^>=\d+\.\d+\.\d+$/, `${at}: constraint version`);
    }
  }
  // ids inside views (queries, search types, widgets) are unique too
  const inner = new Set();
  for (const v of views(pack)) {
    for (const q of v.data.search.queries) {
      for (const id of [q.id, ...q.search_types.map((s) => s.id), ...v.data.state[q.id].widgets.map((w) => w.id)]) {
        assert.match(id, UUID_RE, `${title(v)}: id ${id}`);
        assert.ok(!inner.has(id) && !ids.has(id), `${title(v)}: duplicate id ${id}`);
        inner.add(id);
      }
    }
  }
});

test('value references are well formed', () => {
  const pack = loadPack();
  const types = { string: 'string', integer: 'number', boolean: 'boolean' };
  const walk = (node, where) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
    if (!node || typeof node !== 'object') return;
    if ('@type' in node || '@value' in node) {
      assert.deepStrictEqual(Object.keys(node).sort(), ['@type', '@value'], `${where}: value reference keys`);
      assert.ok(node['@type'] in types, `${where}: @type ${node['@type']}`);
      assert.strictEqual(typeof node['@value'], types[node['@type']], `${where}: @value type`);
      if (node['@type'] === 'integer') assert.ok(Number.isInteger(node['@value']), `${where}: not an integer`);
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`);
  };
  for (const e of pack.entities) walk(e.data, `${e.type.name} ${e.id}`);
});

test('references between entities resolve', () => {
  const pack = loadPack();
  const streams = new Set(byType(pack, 'stream').map((s) => s.id));
  const notifications = new Set(byType(pack, 'notification').map((n) => n.id));
  const streamRef = (id, where) => assert.ok(streams.has(id), `${where}: stream ${id} is not an entity of the pack`);

  for (const v of views(pack)) {
    const vt = `${v.type.name} '${title(v)}'`;
    assert.strictEqual(v.data.type, v.type.name === 'dashboard' ? 'DASHBOARD' : 'SEARCH', `${vt}: view type`);
    const qids = v.data.search.queries.map((q) => q.id);
    assert.deepStrictEqual(Object.keys(v.data.state).sort(), [...qids].sort(), `${vt}: state keys are the query ids`);
    for (const q of v.data.search.queries) {
      const filterStreams = [];
      const walk = (f) => {
        if (!f) return;
        if (f.type === 'stream') filterStreams.push(f.id);
        (f.filters || []).forEach(walk);
      };
      walk(q.filter);
      assert.ok(filterStreams.length > 0, `${vt}: the query is not limited to a stream`);
      filterStreams.forEach((id) => streamRef(id, `${vt} query filter`));
      const stIds = new Set(q.search_types.map((s) => s.id));
      for (const st of q.search_types) (st.streams || []).forEach((id) => streamRef(id, `${vt} search type`));

      const state = v.data.state[q.id];
      const wids = state.widgets.map((w) => w.id);
      assert.ok(wids.length > 0, `${vt}: no widgets`);
      assert.deepStrictEqual(Object.keys(state.widget_mapping).sort(), [...wids].sort(), `${vt}: widget_mapping keys`);
      assert.deepStrictEqual(Object.keys(state.positions).sort(), [...wids].sort(), `${vt}: positions keys`);
      assert.deepStrictEqual(Object.keys(state.titles.widget).sort(), [...wids].sort(), `${vt}: widget titles`);
      const mapped = new Set();
      for (const w of state.widgets) {
        (w.streams || []).forEach((id) => streamRef(id, `${vt} widget`));
        for (const sid of state.widget_mapping[w.id]) {
          assert.ok(stIds.has(sid), `${vt}: widget ${w.id} maps to missing search type ${sid}`);
          mapped.add(sid);
        }
        const pos = state.positions[w.id];
        for (const k of ['col', 'row', 'height', 'width']) {
          assert.ok(Number.isInteger(pos[k]) && pos[k] >= 1, `${vt}: position ${k} of ${w.id}`);
        }
        assert.ok(pos.col + pos.width - 1 <= 12, `${vt}: widget ${w.id} is wider than the 12-column grid`);
        assert.ok(['aggregation', 'messages'].includes(w.type), `${vt}: widget type ${w.type}`);
        const stTypes = state.widget_mapping[w.id].map((sid) => q.search_types.find((s) => s.id === sid).type);
        assert.deepStrictEqual(stTypes, [w.type === 'messages' ? 'messages' : 'pivot'], `${vt}: search type of ${w.id}`);
      }
      assert.strictEqual(mapped.size, stIds.size, `${vt}: search types no widget uses`);
    }
  }

  for (const e of byType(pack, 'event_definition')) {
    const at = `event definition '${title(e)}'`;
    const c = e.data.config;
    assert.strictEqual(c.type, 'aggregation-v1', `${at}: config type`);
    assert.ok(c.streams.length > 0, `${at}: no stream`);
    c.streams.forEach((id) => streamRef(id, at));
    for (const n of e.data.notifications) {
      assert.ok(notifications.has(ref(n.notification_id, at)), `${at}: notification ${n.notification_id} missing`);
    }
    for (const s of e.data.storage) {
      for (const id of s.streams) {
        assert.ok(id === ALL_EVENTS_STREAM || streams.has(id), `${at}: storage stream ${id}`);
      }
    }
    // conditions refer to the series by id; a filter has neither
    const seriesIds = new Set(c.series.map((s) => s.id));
    const refs = [];
    const walk = (x) => {
      if (!x || typeof x !== 'object') return;
      if (x.expr === 'number-ref') refs.push(x.ref);
      Object.values(x).forEach(walk);
    };
    walk(c.conditions && c.conditions.expression);
    if (c.series.length === 0) {
      assert.strictEqual(c.conditions.expression, null, `${at}: a filter has no condition`);
      assert.deepStrictEqual(c.group_by, [], `${at}: a filter has no group-by`);
    } else {
      assert.ok(refs.length > 0, `${at}: series without a condition`);
    }
    for (const r of refs) assert.ok(seriesIds.has(r), `${at}: condition refers to missing series ${r}`);
    for (const s of c.series) {
      assert.ok(['count', 'card', 'sum', 'avg', 'min', 'max'].includes(s.function), `${at}: series function ${s.function}`);
      assert.strictEqual(s.id, `${s.function}(${s.field || ''})`, `${at}: series id`);
    }
    assert.ok(c.search_within_ms > 0 && c.execute_every_ms > 0, `${at}: timing`);
    assert.ok([1, 2, 3].includes(ref(e.data.priority, at)), `${at}: priority`);
  }
});

test('GELF UDP and TCP inputs on port 12201, global', () => {
  const pack = loadPack();
  const inputs = byType(pack, 'input');
  const find = (klass) => inputs.find((i) => ref(i.data.type, i.id) === klass);
  for (const klass of ['org.graylog2.inputs.gelf.udp.GELFUDPInput', 'org.graylog2.inputs.gelf.tcp.GELFTCPInput']) {
    const i = find(klass);
    assert.ok(i, `no ${klass} input`);
    assert.strictEqual(ref(i.data.global, i.id), true, `${klass} is not global`);
    assert.strictEqual(ref(i.data.configuration.port, i.id), 12201, `${klass} port`);
    assert.ok(ref(i.data.title, i.id), `${klass} title`);
  }
  const tcp = find('org.graylog2.inputs.gelf.tcp.GELFTCPInput');
  assert.strictEqual(ref(tcp.data.configuration.use_null_delimiter, tcp.id), true, 'GELF TCP frames end with a NUL byte');
});

test('the stream routes vpcflowd messages and removes them from the default stream', () => {
  const pack = loadPack();
  const fields = loadFields();
  const streams = byType(pack, 'stream');
  const s = streams.find((x) => title(x) === STREAM_TITLE);
  assert.ok(s, `no stream '${STREAM_TITLE}'`);
  assert.strictEqual(ref(s.data.remove_matches, s.id), true, 'remove_matches');
  assert.strictEqual(ref(s.data.disabled, s.id), false, 'disabled');
  assert.strictEqual(ref(s.data.default_stream, s.id), false, 'default_stream');
  assert.ok(['AND', 'OR'].includes(ref(s.data.matching_type, s.id)), 'matching_type');
  assert.ok(s.data.stream_rules.length > 0, 'no stream rules');
  for (const r of s.data.stream_rules) {
    const field = ref(r.field, s.id);
    assert.ok(['PRESENCE', 'EXACT', 'REGEX', 'CONTAINS'].includes(ref(r.type, s.id)), `rule type on ${field}`);
    assert.ok(fields.names.has(field), `stream rule field '${field}' is not defined in docs/fields.md`);
  }
});

test('the required saved searches, dashboard widgets and event definitions are present', () => {
  const pack = loadPack();
  const searches = new Map(byType(pack, 'search').map((s) => [title(s), s]));
  for (const [t, query] of REQUIRED_SEARCHES) {
    const s = searches.get(t);
    assert.ok(s, `saved search '${t}' is missing`);
    const q = s.data.search.queries[0].query.query_string;
    assert.ok(q.trim(), `saved search '${t}' has an empty query`);
    if (query !== null) assert.strictEqual(q, query, `saved search '${t}' query`);
  }
  // the known-bad IP search names one address, a placeholder from a documentation range
  const bad = searches.get('VPC: traffic to or from a known-bad IP').data.search.queries[0].query.query_string;
  assert.match(bad, /src_addr:"?(203\.0\.113|198\.51\.100|192\.0\.2)\.\d+"?/, 'known-bad IP placeholder');
  // rejected traffic by interface: an aggregation grouped by interface_id
  const rej = searches.get('VPC: rejected traffic by interface');
  const rq = rej.data.search.queries[0];
  assert.ok(rej.data.state[rq.id].widgets.some((w) => w.type === 'aggregation'
    && w.config.row_pivots.some((p) => (p.fields || [p.field]).includes('interface_id'))),
  'no aggregation grouped by interface_id');

  const dash = byType(pack, 'dashboard').find((d) => title(d) === DASHBOARD_TITLE);
  assert.ok(dash, `dashboard '${DASHBOARD_TITLE}' is missing`);
  const dq = dash.data.search.queries[0];
  const state = dash.data.state[dq.id];
  const widgets = new Map(state.widgets.map((w) => [state.titles.widget[w.id], w]));
  for (const t of REQUIRED_WIDGETS) assert.ok(widgets.has(t), `dashboard widget '${t}' is missing`);
  const scanners = widgets.get('Port scanners (distinct destination ports per source)').config;
  assert.ok(scanners.series.some((s) => s.function === 'card(dst_port)'), 'port scanners: card(dst_port)');
  assert.ok(scanners.row_pivots.some((p) => (p.fields || [p.field]).includes('src_addr')), 'port scanners: by src_addr');
  const geo = widgets.get('External sources by location').config;
  assert.strictEqual(geo.visualization, 'map');
  assert.ok(geo.row_pivots.some((p) => (p.fields || [p.field]).includes('src_addr_geolocation')), 'geo map field');

  const events = new Map(byType(pack, 'event_definition').map((e) => [title(e), e]));
  for (const t of REQUIRED_EVENTS) assert.ok(events.has(t), `event definition '${t}' is missing`);
  const cfg = (t) => events.get(t).data.config;
  const noFlows = cfg('VPC: no flow received for 15 minutes');
  assert.strictEqual(noFlows.search_within_ms, 15 * 60 * 1000, 'no-flow window');
  assert.deepStrictEqual(noFlows.conditions.expression.expr, '<');
  assert.strictEqual(noFlows.conditions.expression.right.value, 1);
  assert.strictEqual(noFlows.series[0].function, 'count');
  const scan = cfg('VPC: source contacting many distinct ports');
  assert.deepStrictEqual([scan.series[0].function, scan.series[0].field, scan.group_by], ['card', 'dst_port', ['src_addr']]);
  assert.deepStrictEqual(cfg('VPC: more rejections than usual per interface').group_by, ['interface_id']);
  assert.match(ref(cfg('VPC: surge of short connections').query, 'short'), /\btcp_flags:3\b/);
  assert.match(ref(cfg('VPC: egress to a destination outside the approved list').query, 'egress'), /\bpkt_dst_addr:/);
  assert.match(ref(cfg('VPC: accepted traffic to destination port 23').query, 'telnet'), /\bdst_port:23\b/);
});

test('every query string parses', () => {
  const pack = loadPack();
  const problems = [];
  for (const { where, query } of queries(pack)) {
    assert.strictEqual(typeof query, 'string', `${where}: query is not a string`);
    for (const err of analyzeQuery(query).errors) problems.push(`${where}: ${err} in ${JSON.stringify(query)}`);
  }
  assert.deepStrictEqual(problems, []);
});

test('the query checker rejects broken queries', () => {
  const bad = ['(a:1', 'a:1)', 'a:"x', 'a: 1', ':1', 'a:1 AND', 'OR a:1', 'a:1 AND OR b:2', 'a:[1 TO 2',
    'NOT', 'a:1 and b:2'];
  for (const q of bad) assert.ok(analyzeQuery(q).errors.length > 0, `accepted ${JSON.stringify(q)}`);
  const good = analyzeQuery('x:1 AND NOT y:(a OR "b c") AND _exists_:z AND w:[1 TO 5] AND v:"p:q"');
  assert.deepStrictEqual(good.errors, []);
  assert.deepStrictEqual(good.fields, ['x', 'y', 'z', 'w', 'v']);
});

test('every field the pack uses is defined in docs/fields.md or built into Graylog', () => {
  const pack = loadPack();
  const fields = loadFields();
  const uses = structuralFields(pack);
  for (const { where, query } of queries(pack)) {
    for (const name of analyzeQuery(query).fields) uses.push({ name, where });
  }
  assert.ok(uses.length > 50, `only ${uses.length} field uses found: the walk over the pack is broken`);
  const unknown = new Map();
  for (const { name, where } of uses) {
    if (knownField(fields, name)) continue;
    if (!unknown.has(name)) unknown.set(name, new Set());
    unknown.get(name).add(where);
  }
  const report = [...unknown].map(([name, where]) => `  ${name}: used by ${[...where].join('; ')}`);
  assert.ok(unknown.size === 0,
    `fields the content pack uses that docs/fields.md does not define (renamed or removed?):\n${report.join('\n')}`);
});

test('docs/graylog.md describes every search, widget and event definition of the pack', () => {
  const pack = loadPack();
  const doc = fs.readFileSync(DOC_PATH, 'utf8');
  const missing = [];
  for (const e of [...views(pack), ...byType(pack, 'event_definition'), ...byType(pack, 'stream')]) {
    if (!doc.includes(title(e))) missing.push(`${e.type.name} '${title(e)}'`);
  }
  for (const v of views(pack)) {
    for (const q of v.data.search.queries) {
      const state = v.data.state[q.id];
      if (v.type.name === 'dashboard') {
        for (const t of Object.values(state.titles.widget)) if (!doc.includes(t)) missing.push(`widget '${t}'`);
      }
      if (q.query.query_string && !doc.includes(q.query.query_string)) {
        missing.push(`query of '${title(v)}': ${q.query.query_string}`);
      }
    }
  }
  for (const e of byType(pack, 'event_definition')) {
    const q = ref(e.data.config.query, e.id);
    if (q && !doc.includes(q)) missing.push(`query of '${title(e)}': ${q}`);
  }
  assert.deepStrictEqual(missing, [], 'docs/graylog.md does not mention these');
});
