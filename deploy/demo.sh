#!/usr/bin/env bash
# The demo pipeline: builds vpcflowd, starts a Kinesis emulator (kinesalite,
# on 127.0.0.1 only), creates a 2-shard stream, feeds it CloudWatch Logs
# subscription records made by the corpus generator (gzip, v2 and a v5
# custom format), and runs `vpcflowd run` on it: GELF comes out, one
# message per flow. Installs what it needs first.
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
}
trap cleanup EXIT

# kinesalite on a free loopback port; it prints where it listens
node test/emulators/emulators.js --kinesis-port 0 --max-seconds 300 --ignore-stdin \
	> "$work/emulators.json" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emulators.json" ] && break; sleep 0.1; done
endpoint=$(sed -n 's/.*"kinesis":"\([^"]*\)".*/\1/p' "$work/emulators.json")
echo "== kinesalite at $endpoint"

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
output:
  type: stdout
YAML

echo "== vpcflowd run (stopped with SIGTERM after 5 s):"
AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true \
	timeout -s TERM 5 "$build/vpcflowd" run -c "$work/vpcflowd.yml" > "$work/gelf.jsonl" || true
head -n 3 "$work/gelf.jsonl"
echo "..."
echo "== $(wc -l < "$work/gelf.jsonl") GELF messages; checkpoints:"
for f in "$work"/checkpoints/vpc-flow-logs/*; do
	echo "   $(basename "$f"): $(sed -n 's/^sequence //p' "$f")"
done
