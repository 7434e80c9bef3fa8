#!/usr/bin/env bash
# The benchmark: builds vpcflowd with optimisation, makes the corpus, runs
# each measurement and prints a table (docs/performance.md keeps the results).
#
#   bench/run.sh [FLOWS]       (default 1000000)
#
# Figures are CPU time (user + sys) of one process, best of three runs.
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-1000000}

. bench/setup.sh

# cpu COMMAND...: best user+sys seconds of three runs, and the peak RSS.
cpu() {
	local best="" rss=0 tf
	tf=$(mktemp)
	for _ in 1 2 3; do
		/usr/bin/time -o "$tf" -f "%U %S %M" "$@" >/dev/null 2>/dev/null
		read -r u s m < <(tail -1 "$tf")
		t=$(echo "$u + $s" | bc)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
		[ "$m" -gt "$rss" ] && rss=$m
	done
	rm -f "$tf"
	echo "$best $rss"
}

read -r t_gz _ < <(cpu gzip -dc "$corpus")
read -r t_null rss_null < <(cpu "$build/vpcflowd" replay -c bench/bench.yml -o null "$corpus")

json_mb=$(gzip -dc "$corpus" | wc -c)
printf '\ncorpus: %s (%s flows, %s bytes gzip, %s bytes JSON)\n' "$corpus" "$flows" \
	"$(stat -c %s "$corpus")" "$json_mb"
printf 'machine: %s, %s cores\n\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)"
printf '| measurement | CPU s | flows per CPU-second | vs gzip -dc | peak RSS |\n'
printf '|---|---|---|---|---|\n'
printf '| gzip -dc > /dev/null | %.2f | %.0f | 1.00x | |\n' "$t_gz" "$(echo "$flows / $t_gz" | bc -l)"
printf '| replay -o null, no enrichment | %.2f | %.0f | %.2fx | %d MiB |\n' "$t_null" \
	"$(echo "$flows / $t_null" | bc -l)" "$(echo "$t_null / $t_gz" | bc -l)" $((rss_null / 1024))
