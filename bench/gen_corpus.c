/*
 * gen_corpus: writes a deterministic benchmark corpus of CloudWatch Logs
 * subscription records, as a Kinesis stream would carry them: one gzip
 * member per record, concatenated in one file.
 *
 * usage: gen_corpus FLOWS OUT.gz [SEED [FIRST_EVENT_ID]]
 *
 * Event ids count up from FIRST_EVENT_ID (default 0), so batches made with
 * different first ids never share an aws_event_id.
 *
 * The mix: a few hundred internal hosts talking to thousands of external
 * addresses (Zipf-like skew), 10% REJECT, about 1% NODATA and 0.2%
 * SKIPDATA records; log group /vpc/default in the v2 format and
 * /vpc/custom in a v5 custom format (bench/bench.yml names it); 100 to 400
 * log events per record, as CloudWatch batches them.
 */
#include <inttypes.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcflowd/buf.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic across platforms */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Skewed pick in [0, n): small indexes are much more frequent. */
static unsigned skewed(unsigned n)
{
	double u = (double)(rnd() >> 11) / 9007199254740992.0;
	return (unsigned)((double)n * u * u * u);
}

static void internal_ip(char *out, unsigned host)
{
	sprintf(out, "10.%u.%u.%u", host / 250 % 4, host / 50 % 5 + 1,
		host % 250 + 2);
}

/* Addresses MaxMind's test databases know (test/data/maxmind), so that
 * GeoIP enrichment finds something in the demo and the benchmarks. */
static const char *const geo_known[] = {
	"81.2.69.142", "89.160.20.115", "216.160.83.58", "175.16.199.10",
	"2.125.160.217", "1.128.0.9", "12.81.92.7", "18.4.0.1",
};

static void external_ip(char *out, unsigned i)
{
	uint32_t x = (uint32_t)(i * 2654435761u);

	if (i % 16 == 0) {
		strcpy(out, geo_known[i / 16 % (sizeof(geo_known) /
			sizeof(geo_known[0]))]);
		return;
	}
	unsigned a = 1 + (x >> 24) % 223;
	if (a == 10 || a == 127 || a == 100 || a == 172 || a == 192)
		a++;
	sprintf(out, "%u.%u.%u.%u", a, (x >> 16) & 255, (x >> 8) & 255,
		(x & 255) | 1);
}

static const unsigned common_ports[] = { 443, 80, 22, 53, 3306, 5432, 6379,
	8080, 123, 3389 };

static void flow_line(struct vf_buf *b, bool v5, uint64_t t)
{
	char src[24], dst[24];
	unsigned host = below(300), eni = host, r = below(1000);
	unsigned proto = below(10) < 8 ? 6 : (below(4) ? 17 : 1);
	unsigned sport, dport, pkts, bytes;
	const char *action = below(10) == 0 ? "REJECT" : "ACCEPT";
	bool inbound = below(2);

	internal_ip(src, host);
	if (below(3) == 0)
		internal_ip(dst, below(300));
	else
		external_ip(dst, skewed(20000));
	if (inbound) {
		char tmp[24];
		strcpy(tmp, src);
		strcpy(src, dst);
		strcpy(dst, tmp);
	}
	dport = common_ports[skewed(10)];
	sport = 1024 + below(64000);
	/* inbound: half are replies to our requests, half are requests to
	 * our servers (the common port stays on our side) */
	if (inbound && below(2)) {
		unsigned t2 = sport;
		sport = dport;
		dport = t2;
	}
	if (proto == 1)
		sport = dport = 0;
	pkts = 1 + skewed(5000);
	bytes = pkts * (40 + below(1400));
	if (r < 10 || r == 999) {
		const char *st = r < 10 ? "NODATA" : "SKIPDATA";
		if (v5)
			vf_buf_printf(b, "5 - - - - - %" PRIu64 " %" PRIu64 " - - - "
				"123456789012 vpc-0a1b2c3d subnet-0a1b2c3d - "
				"eni-%08x%09u us-east-1 use1-az1 - - - - - - - - - - %s",
				t, t + 60, eni, eni, st);
		else
			vf_buf_printf(b, "2 123456789012 eni-%08x%09u - - - - - - - "
				"%" PRIu64 " %" PRIu64 " - %s", eni, eni, t, t + 60, st);
		return;
	}
	if (v5)
		vf_buf_printf(b, "5 %s %s %u %u %u %" PRIu64 " %" PRIu64 " IPv4 %u "
			"%u 123456789012 vpc-0a1b2c3d subnet-0a1b2c3d i-%017x "
			"eni-%08x%09u us-east-1 use1-az1 - - %s %u %s %s - %s %s %s OK",
			src, dst, sport, dport, proto, t, t + 60, pkts, bytes, host,
			eni, eni, action, proto == 6 ? (below(4) ? 19 : 2) : 0, src, dst,
			below(20) ? "-" : "S3", inbound ? "-" : "1",
			inbound ? "ingress" : "egress");
	else
		vf_buf_printf(b, "2 123456789012 eni-%08x%09u %s %s %u %u %u %u %u "
			"%" PRIu64 " %" PRIu64 " %s OK", eni, eni, src, dst, sport,
			dport, proto, pkts, bytes, t, t + 60, action);
}

int main(int argc, char **argv)
{
	uint64_t flows, done = 0, t = 1763800000, event_id = 0;
	struct libdeflate_compressor *c;
	struct vf_buf doc, z;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: gen_corpus FLOWS OUT.gz [SEED [FIRST_EVENT_ID]]\n");
		return 2;
	}
	flows = strtoull(argv[1], NULL, 10);
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 42;
	event_id = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	out = fopen(argv[2], "wb");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	c = libdeflate_alloc_compressor(6);
	vf_buf_init(&doc, 8 << 20);
	vf_buf_init(&z, 8 << 20);
	while (done < flows) {
		unsigned n = 100 + below(301), eni = below(300);
		bool v5 = below(4) == 0;
		size_t bound, zlen;

		if (n > flows - done)
			n = (unsigned)(flows - done);
		vf_buf_reset(&doc);
		vf_buf_printf(&doc, "{\"messageType\":\"DATA_MESSAGE\",\"owner\":"
			"\"123456789012\",\"logGroup\":\"%s\",\"logStream\":"
			"\"eni-%08x%09u-all\",\"subscriptionFilters\":[\"to-kinesis\"],"
			"\"logEvents\":[", v5 ? "/vpc/custom" : "/vpc/default", eni,
			eni);
		for (unsigned i = 0; i < n; i++) {
			vf_buf_printf(&doc, "%s{\"id\":\"3%055" PRIu64 "\",\"timestamp\":"
				"%" PRIu64 "000,\"message\":\"", i ? "," : "", event_id++, t);
			flow_line(&doc, v5, t);
			vf_buf_printf(&doc, "\"}");
			if (below(50) == 0)
				t++;
		}
		vf_buf_printf(&doc, "]}");
		bound = libdeflate_gzip_compress_bound(c, doc.len);
		vf_buf_reset(&z);
		if (!vf_buf_reserve(&z, bound))
			return 1;
		zlen = libdeflate_gzip_compress(c, doc.data, doc.len, z.data, bound);
		fwrite(z.data, 1, zlen, out);
		done += n;
	}
	fclose(out);
	libdeflate_free_compressor(c);
	vf_buf_finish(&doc);
	vf_buf_finish(&z);
	return 0;
}
