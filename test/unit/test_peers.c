/*
 * Peer parsers' test cases: Vector's VRL parse_aws_vpc_flow_log (its test
 * lines and documented examples with their expected values) and the
 * OpenTelemetry collector's flow log files. Data in test/data/peers.
 */
#include "testutil.h"

#include <jansson.h>

#include "vpcflowd/decoder.h"
#include "vpcflowd/flow.h"

static struct vf_format *make_format(const char *text)
{
	char err[160];
	struct vf_format *f = vf_format_create(text, strlen(text), err,
		sizeof(err));

	if (f == NULL)
		fail_msg("format '%s': %s", text, err);
	return f;
}

/* Every VRL test line parses with its group's format. */
static void test_vrl_cases(void **state)
{
	char *text = vf_test_read("peers/vector-vrl/parse_aws_vpc_flow_log_cases.json", NULL);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr), *group;
	size_t gi, lines = 0;

	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "groups"), gi, group) {
		struct vf_format *f = make_format(json_string_value(
			json_object_get(group, "format")));
		json_t *line;
		size_t li;

		json_array_foreach(json_object_get(group, "lines"), li, line) {
			struct vf_flow fl;
			const char *s = json_string_value(line);
			enum vf_flow_status st = vf_flow_parse(&fl, f, s, strlen(s));
			if (st != VF_FLOW_OK)
				fail_msg("group %zu line %zu: status %d: %s", gi, li,
					st, s);
			lines++;
		}
		vf_format_destroy(f);
	}
	assert_int_equal(lines, 30);
	json_decref(doc);
	free(text);
}

/* VRL's documented examples: every value as VRL returns it. */
static void test_vrl_examples(void **state)
{
	char *text = vf_test_read("peers/vector-vrl/parse_aws_vpc_flow_log.examples.json",
		NULL);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr), *ex;
	size_t ei, checked = 0;

	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "examples"), ei, ex) {
		/* source: parse_aws_vpc_flow_log!("LINE"[, format: ]"FMT") */
		const char *src = json_string_value(json_object_get(ex, "source"));
		json_t *ret = json_object_get(ex, "return"), *val;
		char line[1024], fmt_text[1024] = "";
		const char *q1 = strchr(src, '"'), *q2 = strchr(q1 + 1, '"');
		const char *key;

		snprintf(line, sizeof(line), "%.*s", (int)(q2 - q1 - 1), q1 + 1);
		const char *q3 = strchr(q2 + 1, '"');
		if (q3 != NULL) {
			const char *q4 = strchr(q3 + 1, '"');
			snprintf(fmt_text, sizeof(fmt_text), "%.*s",
				(int)(q4 - q3 - 1), q3 + 1);
		}
		struct vf_format *f = fmt_text[0] ? make_format(fmt_text) : NULL;
		const struct vf_format *use = f ? f : vf_format_default();
		struct vf_flow fl;

		assert_int_equal(vf_flow_parse(&fl, use, line, strlen(line)),
			VF_FLOW_OK);
		assert_int_equal(json_object_size(ret), use->n);
		json_object_foreach(ret, key, val) {
			unsigned c;
			for (c = 0; c < use->n; c++) {
				const char *k = use->col[c].key + 3;  /* ,"_name": */
				size_t kl = use->col[c].keylen - 5;
				const struct vf_field_info *fi =
					use->col[c].field < VF_F_KNOWN ?
					&vf_fields[use->col[c].field] : NULL;
				/* VRL names: AWS names with underscores */
				char vrl[VF_FIELD_NAME_MAX + 1];
				if (fi) {
					snprintf(vrl, sizeof(vrl), "%s", fi->aws_name);
					for (char *p = vrl; *p; p++)
						if (*p == '-')
							*p = '_';
					if (strcmp(vrl, key) == 0)
						break;
				} else if (strlen(key) == kl &&
				    memcmp(k, key, kl) == 0) {
					break;
				}
			}
			if (c == use->n)
				fail_msg("example %zu: no column for %s", ei, key);
			const struct vf_sv *v = &fl.val[c];
			if (json_is_null(val)) {
				assert_null(v->p);
			} else if (json_is_integer(val)) {
				assert_non_null(v->p);
				assert_int_equal(use->col[c].kind, VF_KIND_INT);
				assert_int_equal(fl.num[c],
					(uint64_t)json_integer_value(val));
			} else {
				const char *s = json_string_value(val);
				assert_non_null(v->p);
				assert_int_equal(use->col[c].kind, VF_KIND_STRING);
				assert_int_equal(v->n, strlen(s));
				assert_memory_equal(v->p, s, v->n);
			}
			checked++;
		}
		vf_format_destroy(f);
	}
	assert_true(checked >= 40);
	json_decref(doc);
	free(text);
}

struct counts {
	size_t flows;
	char last_iface[64];
	uint64_t last_version;
};

static bool count_sink(void *ctx, const struct vf_flow *flow,
	const struct vf_flow_meta *meta)
{
	struct counts *c = ctx;
	const struct vf_sv *iface = vf_flow_get(flow, VF_F_INTERFACE_ID);

	c->flows++;
	snprintf(c->last_iface, sizeof(c->last_iface), "%.*s",
		iface ? (int)iface->n : 1, iface ? iface->p : "-");
	vf_flow_num(flow, VF_F_VERSION, &c->last_version);
	return true;
}

/* OTel's S3-style files: a header line, then flows (or bad lines). */
static void decode_file(const char *rel, struct counts *c, struct vf_stats *st)
{
	size_t len;
	char *data = vf_test_read(rel, &len);
	struct vf_decoder_opts o = {
		.max_record_size = 1 << 20, .sink = count_sink, .sink_ctx = c,
		.stats = st,
	};
	struct vf_decoder *d = vf_decoder_create(&o);
	struct vf_record_meta rm = { .origin = rel };

	memset(c, 0, sizeof(*c));
	memset(st, 0, sizeof(*st));
	assert_non_null(d);
	vf_decoder_input_begin(d);
	assert_true(vf_decoder_record(d, (const uint8_t *)data, len, &rm));
	vf_decoder_destroy(d);
	free(data);
}

static void test_otel_files(void **state)
{
	struct counts c;
	struct vf_stats st;

	decode_file("peers/otel-contrib/vpc-flow-log/valid_vpc_flow_log.log", &c, &st);
	assert_int_equal(c.flows, 1);
	assert_int_equal(vf_stats_errors(&st), 0);
	assert_string_equal(c.last_iface, "eni-0eb1e4178af74336c");

	decode_file("peers/otel-contrib/vpc-flow-log/valid_vpc_flow_log_multi.log", &c, &st);
	assert_int_equal(c.flows, 2);
	assert_int_equal(vf_stats_errors(&st), 0);

	/* ECS fields with version 5 in the data: the header decides */
	decode_file("peers/otel-contrib/vpc-flow-log/valid_vpc_flow_log_ecs.log", &c, &st);
	assert_int_equal(c.flows, 1);
	assert_int_equal(c.last_version, 5);
	assert_int_equal(vf_stats_errors(&st), 0);

	/* transit gateway (v6) fields, all known */
	decode_file("peers/otel-contrib/vpc-flow-log/valid_tgw_flow_log.log", &c, &st);
	assert_int_equal(c.flows, 1);
	assert_int_equal(c.last_iface[0], '-');
	assert_int_equal(vf_stats_errors(&st), 0);

	decode_file("peers/otel-contrib/vpc-flow-log/vpc_flow_log_too_few_fields.log", &c, &st);
	assert_int_equal(c.flows, 0);
	assert_int_equal(st.errors[VF_ERR_FIELD_COUNT], 1);

	decode_file("peers/otel-contrib/vpc-flow-log/vpc_flow_log_too_many_fields.log", &c, &st);
	assert_int_equal(c.flows, 0);
	assert_int_equal(st.errors[VF_ERR_FIELD_COUNT], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vrl_cases),
		cmocka_unit_test(test_vrl_examples),
		cmocka_unit_test(test_otel_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
