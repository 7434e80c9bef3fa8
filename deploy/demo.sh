#!/usr/bin/env bash
# The demo pipeline: builds vpcflowd, makes a small corpus of CloudWatch
# Logs subscription records (gzip, v2 and a v5 custom format, as Kinesis
# would carry them) and replays it through decode -> encode, printing the
# first GELF messages and the summary. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/debian-deps.sh
build=build-demo
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
ninja -C "$build" >/dev/null
mkdir -p bench/corpus
corpus=bench/corpus/demo-5000.gz
[ -f "$corpus" ] || "$build/bench/gen_corpus" 5000 "$corpus"

echo "== a CloudWatch Logs envelope from the peer test data, as GELF:"
"$build/vpcflowd" replay test/data/peers/otel-contrib/vpc-flow-log/valid_vpc_flow_cw.json
echo
echo "== 5000 generated flows in $corpus (first 3 GELF messages):"
{ "$build/vpcflowd" replay -c bench/bench.yml -o stdout "$corpus" 2>/dev/null || true; } | head -n 3
echo
echo "== the same corpus, encoded and discarded (-o null), with its summary:"
"$build/vpcflowd" replay -c bench/bench.yml -o null "$corpus"
