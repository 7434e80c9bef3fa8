#include "testutil.h"

#include "vpcflowd/flow.h"

static struct vf_format *fmt_ok(const char *text)
{
	char err[160] = "";
	struct vf_format *f = vf_format_create(text, strlen(text), err,
		sizeof(err));

	if (f == NULL)
		fail_msg("format '%s' refused: %s", text, err);
	return f;
}

static void fmt_bad(const char *text, const char *why)
{
	char err[160] = "";
	struct vf_format *f = vf_format_create(text, strlen(text), err,
		sizeof(err));

	if (f != NULL)
		fail_msg("format '%s' accepted", text);
	if (strstr(err, why) == NULL)
		fail_msg("format '%s': error '%s' lacks '%s'", text, err, why);
}

static void test_field_table(void **state)
{
	for (int i = 0; i < VF_F_KNOWN; i++) {
		const char *n = vf_fields[i].aws_name;
		assert_non_null(n);
		assert_int_equal(vf_field_lookup(n, strlen(n)), i);
		for (int j = 0; j < i; j++) {
			assert_string_not_equal(n, vf_fields[j].aws_name);
			assert_string_not_equal(vf_fields[i].gelf_name,
				vf_fields[j].gelf_name);
		}
		/* every GELF name is a valid Graylog key */
		for (const char *p = vf_fields[i].gelf_name; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' &&
				*p <= '9') || *p == '_');
	}
	assert_int_equal(vf_field_lookup("srcaddr", 7), VF_F_SRCADDR);
	assert_int_equal(vf_field_lookup("srcadd", 6), -1);
	assert_int_equal(VF_F_KNOWN, 72);
}

static void test_default_format(void **state)
{
	const struct vf_format *f = vf_format_default();

	assert_int_equal(f->n, 14);
	assert_int_equal(f->version, 2);
	assert_int_equal(f->pos[VF_F_VERSION], 0);
	assert_int_equal(f->pos[VF_F_LOG_STATUS], 13);
	assert_int_equal(f->pos[VF_F_VPC_ID], -1);
	assert_string_equal(f->col[3].key, ",\"_src_addr\":");
	assert_string_equal(f->text, "${version} ${account-id} ${interface-id} "
		"${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
		"${packets} ${bytes} ${start} ${end} ${action} ${log-status}");
}

static void test_format_forms(void **state)
{
	struct vf_format *f;

	/* AWS syntax, bare names, underscores for hyphens, extra spaces */
	f = fmt_ok("  ${version}   ${vpc-id} pkt_srcaddr\ttcp-flags  ");
	assert_int_equal(f->n, 4);
	assert_int_equal(f->version, 3);
	assert_int_equal(f->pos[VF_F_PKT_SRCADDR], 2);
	assert_int_equal(f->col[3].kind, VF_KIND_INT);
	assert_string_equal(f->text,
		"${version} ${vpc-id} ${pkt-srcaddr} ${tcp-flags}");
	vf_format_destroy(f);

	f = fmt_ok("${traffic-path} ${ecs-task-id} ${reject-reason} "
		"${resource-id} ${encryption-status} ${next-hop-vpc-id}");
	assert_int_equal(f->version, 11);
	vf_format_destroy(f);

	f = fmt_ok("${tgw-id} ${packets-lost-no-route}");
	assert_int_equal(f->version, 6);
	assert_int_equal(f->col[1].kind, VF_KIND_STRING);
	vf_format_destroy(f);
}

static void test_unknown_field_kept(void **state)
{
	struct vf_format *f = fmt_ok("${version} ${quantum-state} ${srcaddr}");

	assert_int_equal(f->n, 3);
	assert_int_equal(f->col[1].field, VF_F_KNOWN);
	assert_int_equal(f->col[1].kind, VF_KIND_STRING);
	assert_string_equal(f->col[1].key, ",\"_quantum_state\":");
	assert_string_equal(f->text, "${version} ${quantum-state} ${srcaddr}");
	vf_format_destroy(f);
}

static void test_format_errors(void **state)
{
	char many[VF_FORMAT_MAX_FIELDS * 12 + 64];
	size_t n = 0;

	fmt_bad("", "at least one field");
	fmt_bad("   ", "at least one field");
	fmt_bad("${version} ${srcaddr", "is not ${name}");
	fmt_bad("${}", "is not ${name}");
	fmt_bad("${version} ${version}", "appears twice");
	fmt_bad("${srcaddr} ${srcaddr}", "appears twice");
	fmt_bad("account_id account-id", "appears twice");
	fmt_bad("${a.b}", "invalid character");
	fmt_bad("${src-addr}", "already used");     /* would be src_addr */
	fmt_bad("${protocol} ${tcp-flags-names}", "already used");
	fmt_bad("${foo-bar} ${foo_bar}", "already used");
	for (int i = 0; i <= VF_FORMAT_MAX_FIELDS; i++)
		n += (size_t)sprintf(many + n, "${x%d} ", i);
	fmt_bad(many, "more than");
}

static void test_is_header(void **state)
{
	static const char *yes[] = {
		("version account-id interface-id srcaddr dstaddr srcport dstport "
		 "protocol packets bytes start end action log-status"),
		"instance-id interface-id srcaddr",
		"version account-id tgw-id future-field",
	};
	static const char *no[] = {
		("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 "
		 "1431280934 - NODATA"),
		"eni-0abc vpc-0def",         /* looks like names, none known */
		"- eni-1235b8ca123456789 10.0.1.5 10.0.0.220",
		"",
		"version ACCEPT",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(vf_format_is_header(yes[i], strlen(yes[i])));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(vf_format_is_header(no[i], strlen(no[i])));
}

static enum vf_flow_status parse(struct vf_flow *fl, const char *line)
{
	return vf_flow_parse(fl, vf_format_default(), line, strlen(line));
}

static void assert_sv(const struct vf_sv *v, const char *s)
{
	assert_non_null(v);
	assert_int_equal(v->n, strlen(s));
	assert_memory_equal(v->p, s, v->n);
}

static void test_parse_v2(void **state)
{
	struct vf_flow fl;
	uint64_t v;

	assert_int_equal(parse(&fl, "2 123456789010 eni-1235b8ca123456789 "
		"172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 "
		"1418530070 ACCEPT OK"), VF_FLOW_OK);
	assert_sv(vf_flow_get(&fl, VF_F_ACCOUNT_ID), "123456789010");
	assert_sv(vf_flow_get(&fl, VF_F_SRCADDR), "172.31.16.139");
	assert_true(vf_flow_num(&fl, VF_F_SRCPORT, &v));
	assert_int_equal(v, 20641);
	assert_true(vf_flow_num(&fl, VF_F_END, &v));
	assert_int_equal(v, 1418530070);
	assert_sv(vf_flow_get(&fl, VF_F_LOG_STATUS), "OK");
	assert_null(vf_flow_get(&fl, VF_F_VPC_ID));   /* not in the format */
}

static void test_parse_nodata_and_spacing(void **state)
{
	struct vf_flow fl;
	uint64_t v;

	/* double spaces, a tab and a trailing CR, as files in the wild have */
	assert_int_equal(parse(&fl, "2 123456789010  eni-1235b8ca123456789 - - -"
		" - - -\t- 1431280876 1431280934 - NODATA \r"), VF_FLOW_OK);
	assert_null(vf_flow_get(&fl, VF_F_SRCADDR));
	assert_false(vf_flow_num(&fl, VF_F_SRCPORT, &v));
	assert_null(vf_flow_get(&fl, VF_F_ACTION));
	assert_sv(vf_flow_get(&fl, VF_F_LOG_STATUS), "NODATA");
	assert_true(vf_flow_num(&fl, VF_F_START, &v));
	assert_int_equal(v, 1431280876);
}

static void test_parse_numbers(void **state)
{
	struct vf_flow fl;
	uint64_t v;

	/* 64-bit byte counts, leading zeros */
	assert_int_equal(parse(&fl, "2 1 eni-1 1.1.1.1 2.2.2.2 007 65535 255 "
		"18446744073709551615 9223372036854775808 0 1 ACCEPT OK"),
		VF_FLOW_OK);
	assert_true(vf_flow_num(&fl, VF_F_SRCPORT, &v));
	assert_int_equal(v, 7);
	assert_true(vf_flow_num(&fl, VF_F_PACKETS, &v));
	assert_true(v == UINT64_MAX);
	static const char *bad[] = {
		"2 1 eni-1 a b 65536 1 6 1 1 0 1 ACCEPT OK",      /* port */
		"2 1 eni-1 a b 1 1 256 1 1 0 1 ACCEPT OK",        /* protocol */
		"2 1 eni-1 a b -1 1 6 1 1 0 1 ACCEPT OK",         /* sign */
		"2 1 eni-1 a b 1 1 6 18446744073709551616 1 0 1 ACCEPT OK",
		"2 1 eni-1 a b 1 1 tcp 1 1 0 1 ACCEPT OK",
		"x 1 eni-1 a b 1 1 6 1 1 0 1 ACCEPT OK",
		"2 1 eni-1 a b 1 1 6 1 1.5 0 1 ACCEPT OK",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(&fl, bad[i]), VF_FLOW_BAD_NUMBER);
}

static void test_parse_counts(void **state)
{
	struct vf_flow fl;

	assert_int_equal(parse(&fl, ""), VF_FLOW_BLANK);
	assert_int_equal(parse(&fl, "  \t \r"), VF_FLOW_BLANK);
	assert_int_equal(parse(&fl, "2 1 eni-1 - - - - - - - 1 2 -"),
		VF_FLOW_FIELD_COUNT);
	assert_int_equal(parse(&fl, "2 1 eni-1 - - - - - - - 1 2 - NODATA x"),
		VF_FLOW_FIELD_COUNT);
	assert_int_equal(parse(&fl, "CWL CONTROL MESSAGE: Checking health"),
		VF_FLOW_FIELD_COUNT);
}

static void test_parse_custom_ipv6(void **state)
{
	struct vf_format *f = fmt_ok("${version} ${interface-id} ${srcaddr} "
		"${dstaddr} ${type} ${interface-tag}");
	static const char line[] = "11 eni-1 2001:db8:1234:a100:8d6e:3477:df66:f105 "
		"2001:db8::1 IPv6 web%20server";
	struct vf_flow fl;
	uint64_t v;

	assert_int_equal(vf_flow_parse(&fl, f, line, sizeof(line) - 1),
		VF_FLOW_OK);
	assert_sv(vf_flow_get(&fl, VF_F_SRCADDR),
		"2001:db8:1234:a100:8d6e:3477:df66:f105");
	assert_sv(vf_flow_get(&fl, VF_F_TYPE), "IPv6");
	assert_sv(vf_flow_get(&fl, VF_F_INTERFACE_TAG), "web%20server");
	assert_true(vf_flow_num(&fl, VF_F_VERSION, &v));
	assert_int_equal(v, 11);
	vf_format_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_table),
		cmocka_unit_test(test_default_format),
		cmocka_unit_test(test_format_forms),
		cmocka_unit_test(test_unknown_field_kept),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_is_header),
		cmocka_unit_test(test_parse_v2),
		cmocka_unit_test(test_parse_nodata_and_spacing),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_counts),
		cmocka_unit_test(test_parse_custom_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
