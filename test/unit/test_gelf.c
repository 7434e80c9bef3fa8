#include "testutil.h"

#include <jansson.h>

#include "vpcflowd/gelf.h"

struct fixture {
	struct vf_gelf g;
	struct vf_buf out;
	struct vf_flow flow;
	struct vf_format *fmt;
	json_t *doc;
};

static struct fixture fx;

static json_t *encode(const char *format, const char *line,
	const struct vf_flow_meta *meta)
{
	char err[160];
	json_error_t jerr;

	vf_format_destroy(fx.fmt);
	fx.fmt = NULL;
	if (format != NULL) {
		fx.fmt = vf_format_create(format, strlen(format), err, sizeof(err));
		assert_non_null(fx.fmt);
	}
	assert_int_equal(vf_flow_parse(&fx.flow, fx.fmt ? fx.fmt :
		vf_format_default(), line, strlen(line)), VF_FLOW_OK);
	vf_buf_reset(&fx.out);
	assert_true(vf_gelf_encode(&fx.g, &fx.out, &fx.flow, meta));
	/* NUL-terminate (outside the document) for strstr */
	assert_true(vf_buf_append(&fx.out, "", 1));
	fx.out.len--;
	json_decref(fx.doc);
	fx.doc = json_loadb(fx.out.data, fx.out.len, JSON_REJECT_DUPLICATES,
		&jerr);
	if (fx.doc == NULL)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int)fx.out.len,
			fx.out.data);
	/* Graylog's rules: additional keys start with _, no booleans */
	const char *key;
	json_t *v;
	json_object_foreach(fx.doc, key, v) {
		assert_false(json_is_boolean(v));
		assert_false(json_is_null(v));
		if (strcmp(key, "version") && strcmp(key, "host") &&
		    strcmp(key, "short_message") && strcmp(key, "timestamp"))
			assert_int_equal(key[0], '_');
	}
	return fx.doc;
}

static void has_str(json_t *doc, const char *key, const char *want)
{
	json_t *v = json_object_get(doc, key);

	if (!json_is_string(v))
		fail_msg("%s: not a string", key);
	if (strcmp(json_string_value(v), want) != 0)
		fail_msg("%s: '%s', want '%s'", key, json_string_value(v), want);
}

static void has_int(json_t *doc, const char *key, json_int_t want)
{
	json_t *v = json_object_get(doc, key);

	if (!json_is_integer(v))
		fail_msg("%s: not an integer", key);
	assert_int_equal(json_integer_value(v), want);
}

static void absent(json_t *doc, const char *key)
{
	if (json_object_get(doc, key) != NULL)
		fail_msg("%s should be absent", key);
}

static const char v2_line[] = "2 123456789010 eni-1235b8ca123456789 "
	"172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 "
	"ACCEPT OK";

static void test_v2_in_envelope(void **state)
{
	struct vf_envelope env = {
		.type = VF_MESSAGE_DATA,
		.owner = { "123456789010", 12 },
		.log_group = { "/aws/vpc/flowlogs", 17 },
		.log_stream = { "eni-1235b8ca123456789-all", 25 },
	};
	struct vf_log_event ev = {
		.id = { "35683658089614582423604394983260738922885519999578275840",
			56 },
		.timestamp_ms = 1418530010005,
	};
	struct vf_record_meta rm = {
		.stream = { "vpc-flow-logs", 13 },
		.shard = { "shardId-000000000001", 20 },
	};
	struct vf_flow_meta meta = { &env, &ev, &rm };
	json_t *d = encode(NULL, v2_line, &meta);

	has_str(d, "version", "1.1");
	has_str(d, "host", "aws-flowlogs");
	has_str(d, "short_message", "eni-1235b8ca123456789 ACCEPT TCP "
		"172.31.16.139:20641 -> 172.31.16.21:22");
	assert_true(json_is_real(json_object_get(d, "timestamp")));
	assert_true(json_real_value(json_object_get(d, "timestamp")) ==
		1418530010.005);
	assert_non_null(strstr(fx.out.data, "\"timestamp\":1418530010.005,"));
	has_int(d, "_flow_log_version", 2);
	has_str(d, "_account_id", "123456789010");
	has_str(d, "_interface_id", "eni-1235b8ca123456789");
	has_str(d, "_src_addr", "172.31.16.139");
	has_str(d, "_dst_addr", "172.31.16.21");
	has_int(d, "_src_port", 20641);
	has_int(d, "_dst_port", 22);
	has_int(d, "_protocol_number", 6);
	has_str(d, "_protocol", "TCP");
	has_int(d, "_packets", 20);
	has_int(d, "_bytes", 4249);
	has_int(d, "_flow_start", 1418530010);
	has_int(d, "_flow_end", 1418530070);
	has_int(d, "_capture_window_duration_seconds", 60);
	has_str(d, "_action", "ACCEPT");
	has_str(d, "_log_status", "OK");
	has_str(d, "_aws_log_group", "/aws/vpc/flowlogs");
	has_str(d, "_aws_log_stream", "eni-1235b8ca123456789-all");
	has_str(d, "_aws_owner", "123456789010");
	has_str(d, "_aws_event_id",
		"35683658089614582423604394983260738922885519999578275840");
	has_str(d, "_aws_kinesis_stream", "vpc-flow-logs");
	has_str(d, "_aws_kinesis_shard", "shardId-000000000001");
	assert_int_equal(json_object_size(d), 4 + 16 + 6);
}

static void test_raw_nodata(void **state)
{
	struct vf_flow_meta meta = { NULL, NULL, NULL };
	json_t *d = encode(NULL, "2 123456789010 eni-1 - - - - - - - 1431280876 "
		"1431280934 - NODATA", &meta);

	has_str(d, "short_message", "eni-1 - - -:- -> -:-");
	/* raw lines: the flow's start is the time */
	has_int(d, "timestamp", 1431280876);
	has_str(d, "_log_status", "NODATA");
	has_int(d, "_capture_window_duration_seconds", 58);
	absent(d, "_src_addr");
	absent(d, "_src_port");
	absent(d, "_protocol");
	absent(d, "_protocol_number");
	absent(d, "_action");
	absent(d, "_aws_log_group");
	absent(d, "_aws_event_id");
}

static void test_v5_custom(void **state)
{
	struct vf_flow_meta meta = { NULL, NULL, NULL };
	json_t *d = encode("${version} ${srcaddr} ${dstaddr} ${srcport} "
		"${dstport} ${protocol} ${start} ${end} ${type} ${packets} "
		"${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} "
		"${interface-id} ${region} ${az-id} ${sublocation-type} "
		"${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} "
		"${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} "
		"${traffic-path} ${flow-direction} ${log-status}",
		"5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 "
		"7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 "
		"i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 "
		"apse2-az3 - - ACCEPT 19 10.0.0.71 52.95.128.179 - S3 8 egress OK",
		&meta);

	has_int(d, "_flow_log_version", 5);
	has_str(d, "_traffic_type", "IPv4");
	has_str(d, "_vpc_id", "vpc-abcdefab012345678");
	has_str(d, "_subnet_id", "subnet-aaaaaaaa012345678");
	has_str(d, "_instance_id", "i-0c50d5961bcb2d47b");
	has_str(d, "_region", "ap-southeast-2");
	has_str(d, "_az_id", "apse2-az3");
	absent(d, "_sublocation_type");
	has_int(d, "_tcp_flags", 19);
	has_str(d, "_tcp_flags_names", "FIN,SYN,ACK");
	has_str(d, "_pkt_src_addr", "10.0.0.71");
	has_str(d, "_pkt_dst_addr", "52.95.128.179");
	absent(d, "_pkt_src_aws_service");
	has_str(d, "_pkt_dst_aws_service", "S3");
	has_int(d, "_traffic_path", 8);
	has_str(d, "_flow_direction", "egress");
}

static void test_v11_and_unknown(void **state)
{
	struct vf_flow_meta meta = { NULL, NULL, NULL };
	json_t *d = encode("${version} ${protocol} ${tcp-flags} ${reject-reason} "
		"${resource-id} ${encryption-status} ${instance-tag} "
		"${next-hop-interface-type} ${ecs-task-id} ${quantum-flux}",
		"11 200 0 BPA nat-0c50d5961bcb2d47b 3 web%20a nat_gateway t1 on",
		&meta);

	has_int(d, "_protocol_number", 200);
	has_str(d, "_protocol", "UNKNOWN");
	has_int(d, "_tcp_flags", 0);
	absent(d, "_tcp_flags_names");
	has_str(d, "_reject_reason", "BPA");
	has_str(d, "_resource_id", "nat-0c50d5961bcb2d47b");
	has_int(d, "_encryption_status", 3);
	has_str(d, "_instance_tag", "web%20a");
	has_str(d, "_next_hop_interface_type", "nat_gateway");
	has_str(d, "_ecs_task_id", "t1");
	has_str(d, "_quantum_flux", "on");
	has_str(d, "short_message", "- - UNKNOWN -:- -> -:-");
	absent(d, "timestamp");
}

static void test_escaping(void **state)
{
	struct vf_envelope env = {
		.type = VF_MESSAGE_DATA,
		.log_group = { "g\"\\\x01\xff", 5 },
	};
	struct vf_log_event ev = { .timestamp_ms = 999 };
	struct vf_flow_meta meta = { &env, &ev, NULL };
	json_t *d = encode("${interface-id} ${action} ${instance-tag}",
		"eni-\"q\" AC\\CEPT caf\xc3\xa9\x80", &meta);

	has_str(d, "_interface_id", "eni-\"q\"");
	has_str(d, "_action", "AC\\CEPT");
	has_str(d, "_instance_tag", "caf\xc3\xa9\xef\xbf\xbd");
	has_str(d, "_aws_log_group", "g\"\\\x01\xef\xbf\xbd");
	has_str(d, "short_message", "eni-\"q\" AC\\CEPT - -:- -> -:-");
	assert_true(json_real_value(json_object_get(d, "timestamp")) == 0.999);
}

static void test_negative_window_and_host(void **state)
{
	struct vf_flow_meta meta = { NULL, NULL, NULL };
	struct vf_gelf g2;

	json_t *d = encode("${start} ${end}", "100 40", &meta);
	has_int(d, "_capture_window_duration_seconds", -60);
	assert_false(vf_gelf_init(&g2, ""));
	assert_true(vf_gelf_init(&g2, "my \"host\""));
	vf_buf_reset(&fx.out);
	assert_true(vf_gelf_encode(&g2, &fx.out, &fx.flow, &meta));
	assert_true(vf_buf_append(&fx.out, "", 1));
	assert_non_null(strstr(fx.out.data, "\"host\":\"my \\\"host\\\"\""));
}

static void test_cap(void **state)
{
	struct vf_flow_meta meta = { NULL, NULL, NULL };
	struct vf_buf small;

	encode(NULL, v2_line, &meta);
	vf_buf_init(&small, fx.out.len - 1);
	assert_true(vf_buf_append(&small, "x", 1));
	assert_false(vf_gelf_encode(&fx.g, &small, &fx.flow, &meta));
	assert_int_equal(small.len, 1);      /* left as it was */
	vf_buf_finish(&small);
	vf_buf_init(&small, fx.out.len);
	assert_true(vf_gelf_encode(&fx.g, &small, &fx.flow, &meta));
	assert_memory_equal(small.data, fx.out.data, fx.out.len);
	vf_buf_finish(&small);
}

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	vf_buf_init(&fx.out, 1 << 20);
	return vf_gelf_init(&fx.g, "aws-flowlogs") ? 0 : -1;
}

static int teardown(void **state)
{
	vf_format_destroy(fx.fmt);
	json_decref(fx.doc);
	vf_buf_finish(&fx.out);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_in_envelope),
		cmocka_unit_test(test_raw_nodata),
		cmocka_unit_test(test_v5_custom),
		cmocka_unit_test(test_v11_and_unknown),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_negative_window_and_host),
		cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
