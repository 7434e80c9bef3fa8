#!/usr/bin/env bash
# The demo pipeline: builds vpcflowd, starts a Kinesis emulator (kinesalite,
# on 127.0.0.1 only), creates a 2-shard stream, feeds it CloudWatch Logs
# subscription records made by the corpus generator (gzip, v2 and a v5
# custom format), and runs `vpcflowd run` on it: GELF comes out, one
# message per flow, enriched from real lookups: a local EC2 endpoint
# (deploy/demo-ec2.js) for the AWS entities, two threat lists, and
# MaxMind's test GeoIP/ASN databases (test/data/maxmind). Installs what it
# needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/debian-deps.sh
if [ ! -d test/emulators/node_modules ]; then
	(cd test/emulators && npm ci --no-audit --no-fund --loglevel=error)
fi
build=build-demo
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
ninja -C "$build" >/dev/null

work=$(mktemp -d /tmp/vpcflowd-demo.XXXXXX)
cleanup() {
	[ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null || true
	[ -n "${ec2_pid:-}" ] && kill "$ec2_pid" 2>/dev/null || true
}
trap cleanup EXIT

# kinesalite on a free loopback port; it prints where it listens
node test/emulators/emulators.js --kinesis-port 0 --max-seconds 300 --ignore-stdin \
	> "$work/emulators.json" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emulators.json" ] && break; sleep 0.1; done
endpoint=$(sed -n 's/.*"kinesis":"\([^"]*\)".*/\1/p' "$work/emulators.json")
echo "== kinesalite at $endpoint"

# the EC2 endpoint for the AWS entities: the corpus's 300 hosts as EC2
# instances, RDS, load balancers, NAT gateways, Lambda functions, endpoints
node deploy/demo-ec2.js --max-seconds 300 > "$work/ec2.json" &
ec2_pid=$!
for _ in $(seq 100); do [ -s "$work/ec2.json" ] && break; sleep 0.1; done
ec2_endpoint=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/ec2.json")
# a free loopback port for /metrics
metrics_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
echo "== EC2 endpoint at $ec2_endpoint"

# threat lists: addresses the corpus talks to
printf '# demo list\n81.2.69.142\n175.16.199.0/24\n' > "$work/bad-hosts.txt"
printf 'ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nExitAddress 216.160.83.58 2026-11-21 11:05:00\n' \
	> "$work/tor-exits.txt"

node test/emulators/kinesis.js create-stream --endpoint "$endpoint" --stream vpc-flow-logs --shards 2 >/dev/null
"$build/bench/gen_corpus" 5000 "$work/records.gz"
node test/emulators/kinesis.js put-file --endpoint "$endpoint" --stream vpc-flow-logs \
	--file "$work/records.gz" >/dev/null
echo "== put 5000 flows into stream vpc-flow-logs, as CloudWatch Logs would"

cat > "$work/vpcflowd.yml" <<YAML
aws:
  region: us-east-1
kinesis:
  stream: vpc-flow-logs
  endpoint: $endpoint
  poll_interval: 200ms
checkpoint:
  path: $work/checkpoints
  interval: 1s
flow_logs:
  log_groups:
    - name: /vpc/custom
      format: "$(sed -n 's/^ *format: "\(.*\)"$/\1/p' bench/bench.yml)"
enrich:
  geoip:
    city_db: $PWD/test/data/maxmind/GeoLite2-City-Test.mmdb
    asn_db: $PWD/test/data/maxmind/GeoLite2-ASN-Test.mmdb
  threat_lists:
    - name: demo
      path: $work/bad-hosts.txt
    - name: tor
      path: $work/tor-exits.txt
      format: tor
  aws_entities:
    enabled: true
    endpoint: $ec2_endpoint
output:
  type: stdout
metrics:
  listen: 127.0.0.1:$metrics_port
YAML

echo "== vpcflowd run (stopped with SIGTERM after 5 s):"
AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true \
	timeout -s TERM 5 "$build/vpcflowd" run -c "$work/vpcflowd.yml" > "$work/gelf.jsonl" &
vf_pid=$!
sleep 4
# what Prometheus would scrape meanwhile
node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => {
  console.log(t.split("\n").filter((l) => /^vpcflowd_(flows_total|kinesis_records_total|checkpoints_total|threat_hits_total|shards_owned|up)/.test(l)).join("\n"));
}).catch((e) => console.log("metrics: " + e.message))' "http://127.0.0.1:$metrics_port/metrics" > "$work/metrics.txt"
wait "$vf_pid" || true
head -n 2 "$work/gelf.jsonl"
echo "..."
echo "== /metrics while it ran (some of the series):"
cat "$work/metrics.txt"
# the searches Graylog's AWS plugins documented, on what came out
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
const docs = lines.map((l) => JSON.parse(l));
const q = {
  "dst_addr_threat_indicated:true": (d) => d._dst_addr_threat_indicated === "true",
  "src_addr_entity_aws_type:RDS AND dst_addr_internal:false": (d) =>
    d._src_addr_entity_aws_type === "RDS" && d._dst_addr_internal === "false",
  "dst_addr_entity_aws_type:EC2 AND src_addr_internal:false AND (dst_port:80 OR dst_port:443)": (d) =>
    d._dst_addr_entity_aws_type === "EC2" && d._src_addr_internal === "false" &&
    (d._dst_port === 80 || d._dst_port === 443),
};
for (const [name, f] of Object.entries(q)) console.log(`   ${docs.filter(f).length} messages match ${name}`);
const one = docs.find((d) => d._dst_addr_threat_indicated === "true" && d._dst_addr_city_name);
if (one) console.log("== one of them, its enrichment:\n" + JSON.stringify(Object.fromEntries(
  Object.entries(one).filter(([k]) => /_addr_/.test(k))), null, 1));
' "$work/gelf.jsonl"
echo "== $(wc -l < "$work/gelf.jsonl") GELF messages; checkpoints:"
for f in "$work"/checkpoints/vpc-flow-logs/*; do
	echo "   $(basename "$f"): $(sed -n 's/^sequence //p' "$f")"
done
