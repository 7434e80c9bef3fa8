#!/usr/bin/env bash
# Output benchmark: `vpcflowd replay -o config` of the benchmark corpus into
# each output on loopback, and the CPU time vpcflowd spends (user + sys,
# best of three; the receiver runs as its own process and is not counted).
#
#   bench/outputs.sh [FLOWS]       (default 300000)
#
# Receivers: bench/gelf_sink for GELF UDP/TCP/HTTP (counts and discards),
# librdkafka's mock cluster (test/kafka/kafka_mock_cluster) for Kafka.
# The null output is the baseline: decoding and encoding without sending.
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-300000}
port=19411
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT

. bench/setup.sh

# config NAME OUTPUT-LINES...: bench.yml with another output section
config() {
	local f="$tmp/$1.yml"
	shift
	sed '/^output:/,$d' bench/bench.yml > "$f"
	printf 'output:\n' >> "$f"
	for l in "$@"; do printf '  %s\n' "$l" >> "$f"; done
	echo "$f"
}

# measure LABEL CONFIG: best CPU s of three, wall s of that run
measure() {
	local best="" wall="" tf
	tf=$(mktemp)
	for _ in 1 2 3; do
		/usr/bin/time -o "$tf" -f "%U %S %e" "$build/vpcflowd" replay -c "$2" \
			-o config "$corpus" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
		read -r u s e < <(tail -1 "$tf")
		t=$(echo "$u + $s" | bc)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; wall=$e; fi
	done
	rm -f "$tf"
	printf '| %s | %.2f | %.0f | %.0f |\n' "$1" "$best" \
		"$(echo "$flows / $best" | bc -l)" "$(echo "$flows / $wall" | bc -l)"
}

# sink MODE: a gelf_sink on $port until the script ends
sink() {
	port=$((port + 1))
	mkfifo "$tmp/in-$port"
	"$build/bench/gelf_sink" "$1" "$port" < "$tmp/in-$port" > "$tmp/sink-$port" &
	exec {fd}>"$tmp/in-$port"
	until grep -q listening "$tmp/sink-$port" 2>/dev/null; do sleep 0.05; done
}

printf '\ncorpus: %s (%s flows); machine: %s, %s cores\n\n' "$corpus" "$flows" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)"
printf '| output | vpcflowd CPU s | messages per CPU-second | messages per second (wall) |\n'
printf '|---|---|---|---|\n'
measure "null (decode + encode only)" "$(config null 'type: "null"')"
sink udp
measure "gelf_udp" "$(config udp 'type: gelf_udp' "port: $port")"
measure "gelf_udp, gzip" "$(config udpgz 'type: gelf_udp' "port: $port" 'compression: gzip')"
sink tcp
measure "gelf_tcp" "$(config tcp 'type: gelf_tcp' "port: $port")"
sink http
measure "gelf_http" "$(config http 'type: gelf_http' "url: http://127.0.0.1:$port/gelf")"
measure "gelf_http, bulk_max_size 64KiB" "$(config httpbulk 'type: gelf_http' \
	"url: http://127.0.0.1:$port/gelf" 'bulk_max_size: 64KiB')"
mock=build/test/kafka/kafka_mock_cluster
if [ -x "$mock" ]; then
	mkfifo "$tmp/kin"
	"$mock" vpc-flows 4 < "$tmp/kin" > "$tmp/kout" &
	exec {kfd}>"$tmp/kin"
	until grep -q bootstrap "$tmp/kout" 2>/dev/null; do sleep 0.05; done
	brokers=$(sed -n 's/.*"bootstrap":"\([^"]*\)".*/\1/p' "$tmp/kout")
	measure "kafka (librdkafka mock cluster)" "$(config kafka 'type: kafka' 'kafka:' \
		"  brokers: $brokers" '  topic: vpc-flows')"
else
	printf '| kafka | (build the tests first: %s missing) | | |\n' "$mock"
fi
