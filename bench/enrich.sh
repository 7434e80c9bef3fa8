#!/usr/bin/env bash
# Enrichment benchmark: `vpcflowd replay -o null` of the benchmark corpus
# without enrichment, with the default enrichment (internal networks only),
# with each lookup on its own and with everything on, and the startup cost
# of loading a 1,000,000-entry threat list (docs/performance.md keeps the
# results).
#
#   bench/enrich.sh [FLOWS]       (default 1000000)
#
# Everything is local: AWS entities come from bench/enrich-ec2.js (the
# integration tests' EC2 Query API server on 127.0.0.1, 2,000 interfaces
# that include the corpus's 300 internal hosts; dummy credentials), the
# threat lists are files this script writes (bench/corpus/threat-1m.txt:
# 1,000,000 pseudo-random IPv4 /32 and /24; bench/corpus/threat-hits.txt:
# a few addresses the corpus uses), GeoIP and ASN are MaxMind's test
# databases in test/data/maxmind (the corpus uses some of their addresses).
#
# Each configuration runs three times: CPU is the lowest user + sys of the
# three (it includes the startup), flows/s the highest of replay's own
# rate (wall clock, startup excluded), peak RSS the highest. Startup is the
# same configuration on a 1,000-flow corpus. One more run under gdb reads
# the enrich cache's hit rate from its counters and the memory held at the
# end (skipped without gdb).
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null || true' EXIT

. bench/setup.sh

big=bench/corpus/threat-1m.txt
hits=bench/corpus/threat-hits.txt
tiny=$tmp/tiny.gz
maxmind=test/data/maxmind
"$build/bench/gen_corpus" 1000 "$tiny"

# 1,000,000 entries, one in five a /24, the rest /32, from a fixed-seed
# MINSTD generator (exact in any awk's doubles, so the file is the same
# everywhere). Random /24s cover about 1% of the IPv4 space, so a few
# corpus addresses are in it by chance.
if [ ! -f "$big" ]; then
	awk -v n=1000000 'BEGIN {
		s = 20261122
		print "# synthetic threat list for bench/enrich.sh"
		for (i = 0; i < n; i++) {
			s = (s * 48271) % 2147483647; u = s
			s = (s * 48271) % 2147483647; v = s
			a = 1 + int(u / 65536) % 223
			b = u % 256
			if (v % 5 == 0)
				printf "%d.%d.%d.0/24\n", a, b, int(v / 256) % 256
			else
				printf "%d.%d.%d.%d\n", a, b, int(v / 256) % 256, int(v / 65536) % 256
		}
	}' > "$big.part"
	mv "$big.part" "$big"
fi
# gen_corpus's external_ip(i) for i = 1..24 (the most frequent ones after
# index 0), its two most frequent MaxMind test addresses, a /24 and one
# internal host.
awk 'BEGIN {
	print "81.2.69.142"
	print "89.160.20.115"
	print "175.16.199.0/24"
	print "10.0.1.7"
	for (i = 1; i <= 24; i++) {
		if (i % 16 == 0)
			continue
		x = (i * 2654435761) % 4294967296
		a = 1 + int(x / 16777216) % 223
		if (a == 10 || a == 127 || a == 100 || a == 172 || a == 192)
			a++
		d = x % 256
		if (d % 2 == 0)
			d++
		printf "%d.%d.%d.%d\n", a, int(x / 65536) % 256, int(x / 256) % 256, d
	}
}' > "$hits"

# the EC2 Query API, until the script ends
node bench/enrich-ec2.js --interfaces 2000 > "$tmp/ec2" &
for _ in $(seq 100); do
	grep -q url "$tmp/ec2" 2>/dev/null && break
	sleep 0.1
done
ec2_url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$tmp/ec2")
[ -n "$ec2_url" ] || { echo "bench/enrich-ec2.js did not start" >&2; exit 1; }

# vpcflowd's environment: nothing from this one but PATH, and dummy
# credentials (no profile, no instance metadata, no proxy)
vfenv=(env -i PATH="$PATH" HOME="$tmp" AWS_ACCESS_KEY_ID=AKIDBENCHMARK
	AWS_SECRET_ACCESS_KEY=bench-not-a-secret AWS_EC2_METADATA_DISABLED=true)
vf() {
	"${vfenv[@]}" "$build/vpcflowd" "$@"
}

# config NAME LEVEL PARTS...: bench.yml with log.level LEVEL and an enrich
# section made of PARTS (entities, lists, geoip)
config() {
	local f="$tmp/$1.yml" level=$2
	shift 2
	{
		cat bench/bench.yml
		printf 'aws:\n  region: us-east-1\nlog:\n  level: %s\n' "$level"
		[ $# -gt 0 ] && printf 'enrich:\n'
		for p in "$@"; do
			case $p in
			entities) printf '  aws_entities:\n    enabled: true\n    endpoint: %s\n' "$ec2_url" ;;
			lists) printf '  threat_lists:\n    - name: synthetic\n      path: %s\n    - name: hits\n      path: %s\n' \
				"$PWD/$big" "$PWD/$hits" ;;
			geoip) printf '  geoip:\n    city_db: %s\n    asn_db: %s\n' \
				"$PWD/$maxmind/GeoLite2-City-Test.mmdb" "$PWD/$maxmind/GeoLite2-ASN-Test.mmdb" ;;
			esac
		done
	} > "$f"
	echo "$f"
}

# once CORPUS ARGS...: one replay -o null; prints its user + sys seconds,
# replay's flows/s and the peak RSS (KiB)
once() {
	local corpus=$1 tf=$tmp/time u s m
	shift
	/usr/bin/time -o "$tf" -f "%U %S %M" "${vfenv[@]}" "$build/vpcflowd" \
		replay "$@" -o null "$corpus" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	grep -q ' errors=0 ' "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	read -r u s m < <(tail -1 "$tf")
	echo "$(echo "$u + $s" | bc) $(sed -n 's/.*flows_per_second=\([0-9]*\).*/\1/p' "$tmp/err") $m"
}

# best FILE I: configuration I's lowest CPU s, highest flows/s, highest RSS
best() {
	awk -v i="$2" '$1 == i { if (c == "" || $2 < c) c = $2; if ($3 > f) f = $3;
		if ($4 > r) r = $4 } END { print c, f, r }' "$1"
}

# probe ARGS...: one more run under gdb, stopped where vf_enrich_destroy()
# starts: the anonymous memory the process holds then (RssAnon: the
# tables, the caches and what malloc kept; the mapped corpus and GeoIP
# files are not in it), and the reader cache's hit rate from
# vf_enrich_counters(). "-|-" without gdb or a C compiler.
off=""
if command -v gdb >/dev/null && command -v cc >/dev/null; then
	printf '%s\n' '#include <stddef.h>' '#include <stdio.h>' '#include "vpcflowd/enrich.h"' \
		'int main(void) { printf("%zu %zu\n", offsetof(struct vf_enrich_counters, cache_hits),' \
		'	offsetof(struct vf_enrich_counters, cache_misses)); return 0; }' > "$tmp/off.c"
	cc -std=c11 -Iinclude -I"$build" -o "$tmp/off" "$tmp/off.c" && off=$("$tmp/off")
fi
probe() {
	local oh om h="" m="" anon="-" hr="-"
	if [ -z "$off" ]; then echo "-|-"; return; fi
	read -r oh om <<<"$off"
	"${vfenv[@]}" gdb -q -batch -ex 'set pagination off' -ex 'break vf_enrich_destroy' \
		-ex run -ex 'info proc status' \
		-ex 'set $c = (char *)((void *(*)(void *))vf_enrich_counters)($rdi)' \
		-ex "printf \"cache %lu %lu\\n\", *(unsigned long *)(\$c + $oh), *(unsigned long *)(\$c + $om)" \
		-ex kill --args "$build/vpcflowd" replay "$@" -o null "$corpus" > "$tmp/gdb" 2>&1 || true
	anon=$(awk '/^RssAnon:/ { printf "%d MiB", $2 / 1024 }' "$tmp/gdb")
	read -r h m < <(sed -n 's/^cache \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$tmp/gdb") || true
	if [ -n "$h" ] && [ $((h + m)) -gt 0 ]; then
		hr=$(printf '%.1f%%' "$(echo "100 * $h / ($h + $m)" | bc -l)")
	fi
	echo "${anon:--}|$hr"
}

# ms LOGFILE PATTERN: the time of the first log line matching PATTERN, in
# ms since midnight (UTC)
ms() {
	awk -v pat="$2" '$0 ~ pat { split(substr($1, 12, 12), t, ":");
		printf "%.0f\n", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000; exit }' "$1"
}

# startup: the lists alone at debug level, three times, the fastest of each
# step: reading + parsing + building the 1M list, the small one, and
# combining them into one set
lcfg=$(config startup debug lists)
best_build="" best_combine=""
for _ in 1 2 3; do
	vf replay -c "$lcfg" -o null "$tiny" 2>"$tmp/log" >/dev/null
	t0=$(ms "$tmp/log" 'tables 1 in use')
	t1=$(ms "$tmp/log" 'threat list synthetic:')
	t2=$(ms "$tmp/log" 'threat list hits:')
	t3=$(ms "$tmp/log" 'tables 2 in use')
	b=$((t1 - t0)) c=$((t3 - t2))
	if [ -z "$best_build" ] || [ "$b" -lt "$best_build" ]; then best_build=$b; fi
	if [ -z "$best_combine" ] || [ "$c" -lt "$best_combine" ]; then best_combine=$c; fi
done
list_line=$(grep -m1 'threat list synthetic:' "$tmp/log" | sed 's/^[^ ]* [a-z]*: //')
# and the entity table's first load: the EC2 calls, their XML, the table
ecfg=$(config startup-ec2 debug entities)
ec2_ms=""
for _ in 1 2 3; do
	vf replay -c "$ecfg" -o null "$tiny" 2>"$tmp/log" >/dev/null
	e=$(($(ms "$tmp/log" 'aws entities:') - $(ms "$tmp/log" 'tables 1 in use')))
	if [ -z "$ec2_ms" ] || [ "$e" -lt "$ec2_ms" ]; then ec2_ms=$e; fi
done
ec2_line=$(grep -m1 'DescribeNetworkInterfaces' "$tmp/log" | sed 's/^[^ ]* [a-z]*: //')

# what the full configuration adds, in the tiny corpus's output
acfg=$(config all info entities lists geoip)
vf replay -c "$acfg" -o stdout "$tiny" 2>/dev/null > "$tmp/out"
fields() { grep -o "\"_[a-z_]*_$1\":\"[^\"]*\"" "$tmp/out" | grep -vc ':"false"' || true; }

json_bytes=$(gzip -dc "$corpus" | wc -c)
printf '\ncorpus: %s (%s flows, %s bytes gzip, %s bytes JSON)\n' "$corpus" "$flows" \
	"$(stat -c %s "$corpus")" "$json_bytes"
printf 'machine: %s, %s cores; %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
	"$(nproc)" "$("$build/vpcflowd" --version)"
printf 'commit: %s%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	"$([ -z "$(git status --porcelain -- src include meson.build 2>/dev/null)" ] || echo ', with local changes to the sources')"
printf 'EC2: %s\n' "$ec2_line"
printf 'fields set in the first 1,000 flows with everything on: _entity %s, _threat_indicated true %s, _country_code %s, _as_organization %s\n\n' \
	"$(fields entity)" "$(fields threat_indicated)" "$(fields country_code)" "$(fields as_organization)"

labels=("none (--no-enrich)" "default: internal networks only"
	"+ AWS entities (2,000 interfaces)" "+ threat lists (1M synthetic + small)"
	"+ GeoIP city + ASN (test DBs)" "everything")
cfgs=("$(config none info)" "$(config default info)" "$(config entities info entities)"
	"$(config lists info lists)" "$(config geoip info geoip)" "$acfg")
extra=(--no-enrich "" "" "" "" "")
# three rounds, each running every configuration once, so that the load
# other work puts on the machine falls on all of them alike
for _ in 1 2 3; do
	for i in "${!labels[@]}"; do
		echo "$i $(once "$corpus" -c "${cfgs[$i]}" ${extra[$i]:+"${extra[$i]}"})" >> "$tmp/full"
		echo "$i $(once "$tiny" -c "${cfgs[$i]}" ${extra[$i]:+"${extra[$i]}"})" >> "$tmp/startup"
	done
done

printf '| enrichment | flows/s (wall) | CPU s | flows per CPU-second | startup CPU s | added CPU per flow | peak RSS | anon RSS at the end | cache hit rate |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
base=""
for i in "${!labels[@]}"; do
	read -r cpu fps rss < <(best "$tmp/full" "$i")
	read -r s0 _ _ < <(best "$tmp/startup" "$i")
	probed=$(probe -c "${cfgs[$i]}" ${extra[$i]:+"${extra[$i]}"})
	if [ -z "$base" ]; then
		base=$(echo "$cpu - $s0" | bc)
		added="-"
	else
		added=$(printf '%.2f µs' "$(echo "($cpu - $s0 - $base) * 1000000 / $flows" | bc -l)")
	fi
	printf '| %s | %.0f | %.2f | %.0f | %.2f | %s | %d MiB | %s | %s |\n' "${labels[$i]}" "$fps" \
		"$cpu" "$(echo "$flows / $cpu" | bc -l)" "$s0" "$added" $((rss / 1024)) \
		"${probed%|*}" "${probed#*|}"
done
printf '\nCPU s of each run (rounds in order):\n'
for i in "${!labels[@]}"; do
	printf '  %s: %s\n' "${labels[$i]}" "$(awk -v i="$i" '$1 == i { printf "%.2f ", $2 }' "$tmp/full")"
done

printf '\nstartup: %s\n' "$list_line"
printf '  1M list read, parsed and built: %d ms (fastest of 3); the two lists combined: %d ms\n' \
	"$best_build" "$best_combine"
printf '  EC2 entities (2 DescribeNetworkInterfaces pages, DescribeInstances, table): %d ms (fastest of 3)\n' "$ec2_ms"
