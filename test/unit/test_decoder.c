/*
 * The decode stage end to end: KPL, gzip members, documents and lines in,
 * flows and error counts out.
 */
#include "testutil.h"

#include <libdeflate.h>

#include "vpcflowd/decoder.h"

#define MAX_SEEN 64

struct seen {
	unsigned n;
	char what[MAX_SEEN][128];    /* "group|first column value" */
	bool stop_after_first;
};

static bool sink(void *ctx, const struct vf_flow *flow,
	const struct vf_flow_meta *meta)
{
	struct seen *s = ctx;
	const struct vf_sv *g = meta->env ? &meta->env->log_group : NULL;

	if (s->n < MAX_SEEN)
		snprintf(s->what[s->n], sizeof(s->what[0]), "%.*s|%u|%.*s",
			g && g->p ? (int)g->n : 1, g && g->p ? g->p : "-",
			flow->fmt->n, flow->val[0].p ? (int)flow->val[0].n : 1,
			flow->val[0].p ? flow->val[0].p : "-");
	s->n++;
	return !s->stop_after_first;
}

struct harness {
	struct seen seen;
	struct vf_stats st;
	struct vf_decoder *d;
	struct vf_format *forced, *dflt, *g1;
	struct vf_group_format groups[1];
};

static struct vf_format *fmt(const char *t)
{
	return vf_format_create(t, strlen(t), NULL, 0);
}

static void start(struct harness *h, const char *forced, const char *dflt,
	const char *group_fmt, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->forced = forced ? fmt(forced) : NULL;
	h->dflt = dflt ? fmt(dflt) : NULL;
	h->g1 = group_fmt ? fmt(group_fmt) : NULL;
	h->groups[0].log_group = "/vpc/custom";
	h->groups[0].format = h->g1;
	struct vf_decoder_opts o = {
		.format = h->forced, .default_format = h->dflt,
		.groups = h->groups, .n_groups = h->g1 ? 1 : 0,
		.max_record_size = max, .sink = sink, .sink_ctx = &h->seen,
		.stats = &h->st,
	};
	h->d = vf_decoder_create(&o);
	assert_non_null(h->d);
	vf_decoder_input_begin(h->d);
}

static void stop(struct harness *h)
{
	vf_decoder_destroy(h->d);
	vf_format_destroy(h->forced);
	vf_format_destroy(h->dflt);
	vf_format_destroy(h->g1);
}

static bool feed(struct harness *h, const void *data, size_t len)
{
	struct vf_record_meta rm = { .origin = "test" };

	return vf_decoder_record(h->d, data, len, &rm);
}

static uint8_t *gzip(const void *data, size_t len, size_t *out_len)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	size_t bound = libdeflate_gzip_compress_bound(c, len);
	uint8_t *out = malloc(bound);

	*out_len = libdeflate_gzip_compress(c, data, len, out, bound);
	libdeflate_free_compressor(c);
	return out;
}

#define V2 "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 100 160 ACCEPT OK"

static char *doc(const char *group, const char *m1, const char *m2)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, 1024, "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"%s\","
		"\"logEvents\":[{\"id\":\"1\",\"timestamp\":1000,\"message\":\"%s\"},"
		"{\"id\":\"2\",\"timestamp\":2000,\"message\":\"%s\"}]}", group, m1,
		m2);
	return b;
}

/* The shared KPL vectors: four text user records, in order. */
static void test_kpl_vectors(void **state)
{
	struct harness h;
	size_t len;
	char *bin = vf_test_read("kpl/kpl_generated_rec_with_ehks.bin", &len);

	start(&h, "${a} ${b} ${c}", NULL, NULL, 1 << 20);
	assert_true(feed(&h, bin, len));
	assert_int_equal(h.seen.n, 4);
	assert_string_equal(h.seen.what[0], "-|3|RECORD");
	assert_int_equal(h.st.records, 4);
	assert_int_equal(vf_stats_errors(&h.st), 0);
	/* a flipped byte: the checksum fails, nothing comes out */
	bin[len / 2] ^= 1;
	assert_true(feed(&h, bin, len));
	assert_int_equal(h.seen.n, 4);
	assert_int_equal(h.st.errors[VF_ERR_KPL], 1);
	stop(&h);
	free(bin);
}

static void test_gzip_members_and_garbage(void **state)
{
	struct harness h;
	size_t l1, l2;
	const char *d1 = doc("/vpc/a", V2, V2);
	const char *d2 = doc("/vpc/b", V2, "bad line");
	uint8_t *g1 = gzip(d1, strlen(d1), &l1), *g2 = gzip(d2, strlen(d2), &l2);
	uint8_t *all = malloc(l1 + l2 + 8);

	memcpy(all, g1, l1);
	memcpy(all + l1, g2, l2);
	start(&h, NULL, NULL, NULL, 1 << 20);
	assert_true(feed(&h, all, l1 + l2));
	assert_int_equal(h.seen.n, 3);
	assert_string_equal(h.seen.what[2], "/vpc/b|14|2");
	assert_int_equal(h.st.records, 2);
	assert_int_equal(h.st.errors[VF_ERR_FIELD_COUNT], 1);
	/* zero padding after the members is tolerated, garbage is not */
	memset(all + l1 + l2, 0, 8);
	assert_true(feed(&h, all, l1 + l2 + 8));
	assert_int_equal(h.st.errors[VF_ERR_GZIP], 0);
	memcpy(all + l1 + l2, "garbage!", 8);
	assert_true(feed(&h, all, l1 + l2 + 8));
	assert_int_equal(h.st.errors[VF_ERR_GZIP], 1);
	assert_int_equal(h.seen.n, 9);     /* both members still decoded */
	/* truncated: the first member decodes, the second is an error */
	assert_true(feed(&h, all, l1 + l2 - 3));
	assert_int_equal(h.seen.n, 11);
	assert_int_equal(h.st.errors[VF_ERR_GZIP], 2);
	stop(&h);
	free(all);
	free(g1);
	free(g2);
}

static void test_bomb(void **state)
{
	struct harness h;
	size_t n = 32u << 20, glen;
	uint8_t *zeros = calloc(1, n), *g = gzip(zeros, n, &glen);

	start(&h, NULL, NULL, NULL, 1 << 20);
	assert_true(feed(&h, g, glen));
	assert_int_equal(h.st.errors[VF_ERR_TOO_LARGE], 1);
	assert_int_equal(h.seen.n, 0);
	stop(&h);
	free(zeros);
	free(g);
}

static void test_format_precedence(void **state)
{
	struct harness h;
	const char *in;

	/* group format for its group, default format for the others */
	start(&h, NULL, "${version} ${srcaddr}", "${srcaddr} ${dstaddr} ${end}",
		1 << 20);
	in = doc("/vpc/custom", "1.1.1.1 2.2.2.2 9", "1.1.1.1 2.2.2.2");
	assert_true(feed(&h, in, strlen(in)));
	in = doc("/vpc/other", "5 1.1.1.1", "5 1.1.1.1 extra");
	assert_true(feed(&h, in, strlen(in)));
	assert_int_equal(h.seen.n, 2);
	assert_string_equal(h.seen.what[0], "/vpc/custom|3|1.1.1.1");
	assert_string_equal(h.seen.what[1], "/vpc/other|2|5");
	assert_int_equal(h.st.errors[VF_ERR_FIELD_COUNT], 2);
	stop(&h);

	/* a forced format wins over everything */
	start(&h, "${action}", NULL, "${srcaddr} ${dstaddr} ${end}", 1 << 20);
	in = doc("/vpc/custom", "ACCEPT", "REJECT");
	assert_true(feed(&h, in, strlen(in)));
	assert_int_equal(h.seen.n, 2);
	assert_string_equal(h.seen.what[1], "/vpc/custom|1|REJECT");
	stop(&h);
}

static void test_header_lines(void **state)
{
	struct harness h;
	static const char in[] =
		"version srcaddr\n"
		"5 1.1.1.1\n"
		"\n"
		"5 1.1.1.1 too-many\n"
		"interface-id action log-status\r\n"
		"eni-9 ACCEPT OK\r\n"
		"eni-9 REJECT OK";

	start(&h, NULL, NULL, NULL, 1 << 20);
	assert_true(feed(&h, in, sizeof(in) - 1));
	assert_int_equal(h.seen.n, 3);
	assert_string_equal(h.seen.what[0], "-|2|5");
	assert_string_equal(h.seen.what[1], "-|3|eni-9");
	assert_int_equal(h.st.errors[VF_ERR_FIELD_COUNT], 1);
	assert_int_equal(h.st.records, 1);
	/* the header held to the end of its input; a new one starts over */
	vf_decoder_input_begin(h.d);
	assert_true(feed(&h, V2, strlen(V2)));
	assert_string_equal(h.seen.what[3], "-|14|2");
	stop(&h);
}

static void test_content_errors(void **state)
{
	struct harness h;
	static const uint8_t bin[] = { 0x00, 0x01, 0x02, 0xff };

	start(&h, NULL, NULL, NULL, 1 << 20);
	assert_true(feed(&h, bin, sizeof(bin)));
	assert_int_equal(h.st.errors[VF_ERR_CONTENT], 1);
	assert_true(feed(&h, "{\"a\":", 5));
	assert_int_equal(h.st.errors[VF_ERR_JSON], 1);
	assert_true(feed(&h, "{\"a\":1}", 7));
	assert_int_equal(h.st.errors[VF_ERR_ENVELOPE], 1);
	assert_true(feed(&h, "  \n", 3));
	assert_int_equal(vf_stats_errors(&h.st), 3);
	assert_int_equal(h.seen.n, 0);
	stop(&h);
}

static void test_sink_stop(void **state)
{
	struct harness h;
	const char *in = doc("/vpc/a", V2, V2);

	start(&h, NULL, NULL, NULL, 1 << 20);
	h.seen.stop_after_first = true;
	assert_false(feed(&h, in, strlen(in)));
	assert_int_equal(h.seen.n, 1);
	stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kpl_vectors),
		cmocka_unit_test(test_gzip_members_and_garbage),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_format_precedence),
		cmocka_unit_test(test_header_lines),
		cmocka_unit_test(test_content_errors),
		cmocka_unit_test(test_sink_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
