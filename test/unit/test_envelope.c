#include "testutil.h"

#include "vpcflowd/envelope.h"

static void assert_sv(const struct vf_sv *v, const char *s)
{
	assert_non_null(v->p);
	if (v->n != strlen(s) || memcmp(v->p, s, v->n) != 0)
		fail_msg("got '%.*s', want '%s'", (int)v->n, v->p, s);
}

static const char doc1[] =
	"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789010\","
	"\"logGroup\":\"/aws/vpc/flowlogs\",\"logStream\":\"eni-1\","
	"\"subscriptionFilters\":[\"f\"],\"policyLevel\":\"ACCOUNT_LEVEL_POLICY\","
	"\"logEvents\":["
	"{\"id\":\"e1\",\"timestamp\":1418530010000,\"message\":\"2 a b\"},"
	"{\"id\":\"e2\",\"timestamp\":1418530010001,\"message\":\"x\\u0020y\\/z\","
	"\"extractedFields\":{\"@aws.account\":\"999\",\"n\":[1,{\"a\":null}]}}"
	"]}";

static void test_one_document(void **state)
{
	struct vf_envelope_parser *p = vf_envelope_parser_create(1 << 20);
	struct vf_envelope env;
	struct vf_log_event ev;
	size_t cur = 0;

	vf_envelope_begin(p, doc1, sizeof(doc1) - 1);
	assert_int_equal(vf_envelope_next(p, &env, NULL, 0), VF_ENVELOPE_OK);
	assert_int_equal(env.type, VF_MESSAGE_DATA);
	assert_sv(&env.owner, "123456789010");
	assert_sv(&env.log_group, "/aws/vpc/flowlogs");
	assert_sv(&env.log_stream, "eni-1");
	assert_int_equal(env.n_events, 2);
	assert_int_equal(vf_envelope_event(p, &env, &cur, &ev), 1);
	assert_sv(&ev.id, "e1");
	assert_int_equal(ev.timestamp_ms, 1418530010000LL);
	assert_sv(&ev.message, "2 a b");
	assert_int_equal(vf_envelope_event(p, &env, &cur, &ev), 1);
	assert_sv(&ev.id, "e2");
	assert_sv(&ev.message, "x y/z");
	assert_int_equal(vf_envelope_event(p, &env, &cur, &ev), 0);
	assert_int_equal(vf_envelope_next(p, &env, NULL, 0), VF_ENVELOPE_END);
	vf_envelope_parser_destroy(p);
}

static void test_control_and_concatenated(void **state)
{
	static const char in[] =
		"{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\","
		"\"logGroup\":\"\",\"logStream\":\"\",\"subscriptionFilters\":[],"
		"\"logEvents\":[{\"id\":\"\",\"timestamp\":1498519943285,"
		"\"message\":\"CWL CONTROL MESSAGE: Checking health\"}]}\n"
		"  [1,2]  \"str\" {\"logGroup\":\"g\\u00e9\",\"logEvents\":[]}\n";
	struct vf_envelope_parser *p = vf_envelope_parser_create(1 << 20);
	struct vf_envelope env;
	char err[80];

	vf_envelope_begin(p, in, sizeof(in) - 1);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_OK);
	assert_int_equal(env.type, VF_MESSAGE_CONTROL);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_BAD_SHAPE);
	assert_string_equal(err, "document is not a JSON object");
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_BAD_SHAPE);
	/* no messageType: data, if it has events */
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_OK);
	assert_int_equal(env.type, VF_MESSAGE_DATA);
	assert_sv(&env.log_group, "g\xc3\xa9");
	assert_int_equal(env.n_events, 0);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_END);
	vf_envelope_parser_destroy(p);
}

static void test_bad_shapes(void **state)
{
	static const char *bad[] = {
		"{\"messageType\":\"DATA_MESSAGE\"}",
		"{\"messageType\":\"OTHER\",\"logEvents\":[]}",
		"{\"messageType\":7,\"logEvents\":[]}",
		"{\"logEvents\":{}}",
		"{\"logGroup\":5,\"logEvents\":[]}",
		"{\"logGroup\":\"a\\u12\",\"logEvents\":[]}",
	};
	struct vf_envelope_parser *p = vf_envelope_parser_create(1 << 20);
	struct vf_envelope env;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum vf_envelope_status s;
		vf_envelope_begin(p, bad[i], strlen(bad[i]));
		s = vf_envelope_next(p, &env, NULL, 0);
		if (s != VF_ENVELOPE_BAD_SHAPE && s != VF_ENVELOPE_BAD_JSON)
			fail_msg("case %zu: status %d", i, s);
	}
	vf_envelope_parser_destroy(p);
}

static void test_bad_events_skipped(void **state)
{
	static const char in[] = "{\"logEvents\":[1,{\"id\":\"a\"},"
		"{\"message\":7},{\"message\":\"raw\ttab\"},"
		"{\"message\":\"ok\",\"timestamp\":\"12\"},[]]}";
	struct vf_envelope_parser *p = vf_envelope_parser_create(1 << 20);
	struct vf_envelope env;
	struct vf_log_event ev;
	size_t cur = 0;
	int r, bad = 0, good = 0;

	vf_envelope_begin(p, in, sizeof(in) - 1);
	assert_int_equal(vf_envelope_next(p, &env, NULL, 0), VF_ENVELOPE_OK);
	while ((r = vf_envelope_event(p, &env, &cur, &ev)) != 0) {
		if (r < 0) {
			bad++;
		} else {
			good++;
			assert_sv(&ev.message, "ok");
			assert_int_equal(ev.timestamp_ms, -1);
			assert_null(ev.id.p);
		}
	}
	assert_int_equal(good, 1);
	assert_int_equal(bad, 5);
	vf_envelope_parser_destroy(p);
}

static void test_invalid_and_truncated(void **state)
{
	struct vf_envelope_parser *p = vf_envelope_parser_create(1 << 20);
	struct vf_envelope env;
	char err[80];
	size_t n = sizeof(doc1) - 1;

	/* every proper prefix of a document is truncated, never a crash */
	for (size_t cut = 1; cut < n; cut++) {
		enum vf_envelope_status s;
		vf_envelope_begin(p, doc1, n - cut);
		s = vf_envelope_next(p, &env, err, sizeof(err));
		assert_int_equal(s, VF_ENVELOPE_BAD_JSON);
	}
	vf_envelope_begin(p, "{\"a\" 1}", 7);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_BAD_JSON);
	assert_string_equal(err, "invalid JSON");
	/* a good document, then garbage: the good one still comes out */
	static const char two[] = "{\"logEvents\":[]} }garbage";
	vf_envelope_begin(p, two, sizeof(two) - 1);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_OK);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_BAD_JSON);
	assert_int_equal(vf_envelope_next(p, &env, err, sizeof(err)),
		VF_ENVELOPE_BAD_JSON);
	vf_envelope_parser_destroy(p);
}

/*
 * Many documents of many events: more tokens than the initial array, so
 * parsing resumes mid-buffer and one large document grows the array.
 */
static void test_many_tokens(void **state)
{
	struct vf_buf in;
	struct vf_envelope_parser *p = vf_envelope_parser_create(1 << 22);
	struct vf_envelope env;
	struct vf_log_event ev;
	unsigned docs = 0, events = 0, expect = 0;

	vf_buf_init(&in, 64 << 20);
	for (unsigned d = 0; d < 300; d++) {
		unsigned nev = d == 150 ? 5000 : d % 7;
		vf_buf_printf(&in, "{\"logGroup\":\"g%u\",\"logEvents\":[", d);
		for (unsigned e = 0; e < nev; e++)
			vf_buf_printf(&in, "%s{\"id\":\"%u-%u\",\"timestamp\":%u,"
				"\"message\":\"m %u\"}", e ? "," : "", d, e, e, e);
		vf_buf_printf(&in, "]}\n");
	}
	vf_envelope_begin(p, in.data, in.len);
	for (;;) {
		enum vf_envelope_status s = vf_envelope_next(p, &env, NULL, 0);
		size_t cur = 0;
		char want[32];
		unsigned e = 0;

		if (s == VF_ENVELOPE_END)
			break;
		assert_int_equal(s, VF_ENVELOPE_OK);
		snprintf(want, sizeof(want), "g%u", docs);
		assert_sv(&env.log_group, want);
		while (vf_envelope_event(p, &env, &cur, &ev) == 1) {
			snprintf(want, sizeof(want), "%u-%u", docs, e);
			assert_sv(&ev.id, want);
			assert_int_equal(ev.timestamp_ms, e);
			e++;
		}
		expect += docs == 150 ? 5000 : docs % 7;
		events += e;
		docs++;
	}
	assert_int_equal(docs, 300);
	assert_int_equal(events, expect);
	vf_buf_finish(&in);
	vf_envelope_parser_destroy(p);
}

static void test_token_cap(void **state)
{
	struct vf_envelope_parser *p = vf_envelope_parser_create(64);
	struct vf_envelope env;
	struct vf_buf in;

	vf_buf_init(&in, 1 << 20);
	vf_buf_printf(&in, "{\"logEvents\":[");
	for (int i = 0; i < 100; i++)
		vf_buf_printf(&in, "%s{\"message\":\"x\"}", i ? "," : "");
	vf_buf_printf(&in, "]}");
	vf_envelope_begin(p, in.data, in.len);
	assert_int_equal(vf_envelope_next(p, &env, NULL, 0),
		VF_ENVELOPE_TOO_LARGE);
	vf_buf_finish(&in);
	vf_envelope_parser_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_document),
		cmocka_unit_test(test_control_and_concatenated),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_bad_events_skipped),
		cmocka_unit_test(test_invalid_and_truncated),
		cmocka_unit_test(test_many_tokens),
		cmocka_unit_test(test_token_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
