/*
 * AWS entities: the classifier's rules one by one, the entity list, and the
 * EC2 XML readers over the fixtures in test/data/ec2 (botocore's and
 * synthetic ones), error documents and broken XML.
 */
#include "testutil.h"

#include <stdbool.h>

#include "vpcflowd/entity.h"

/* ---- helpers ---- */

struct eni_spec {
	const char *type, *requester;
	bool managed;
	const char *description, *instance, *name_tag;
};

static void mk_eni(const struct eni_spec *s, struct vf_eni_info *eni)
{
	memset(eni, 0, sizeof(*eni));
	snprintf(eni->id, sizeof(eni->id), "eni-0123456789abcdef0");
	snprintf(eni->vpc_id, sizeof(eni->vpc_id), "vpc-11112222");
	snprintf(eni->subnet_id, sizeof(eni->subnet_id), "subnet-33334444");
	snprintf(eni->interface_type, sizeof(eni->interface_type), "%s",
		s->type ? s->type : "interface");
	snprintf(eni->requester_id, sizeof(eni->requester_id), "%s",
		s->requester ? s->requester : "");
	eni->requester_managed = s->managed;
	snprintf(eni->description, sizeof(eni->description), "%s",
		s->description ? s->description : "");
	snprintf(eni->instance_id, sizeof(eni->instance_id), "%s",
		s->instance ? s->instance : "");
	snprintf(eni->name_tag, sizeof(eni->name_tag), "%s",
		s->name_tag ? s->name_tag : "");
}

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 :
			(*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static const struct vf_entity *find(const struct vf_entity_list *l,
	const char *eni)
{
	for (size_t i = 0; i < l->n_entities; i++)
		if (strcmp(l->entities[i].eni_id, eni) == 0)
			return &l->entities[i];
	fail_msg("no entity for %s", eni);
	return NULL;
}

/* The addresses of entity e, formatted, space-separated, in list order. */
static const char *addrs_of(const struct vf_entity_list *l,
	const struct vf_entity *e)
{
	static char out[2048];
	size_t idx = (size_t)(e - l->entities), n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n_addrs; i++) {
		char a[64];

		if (l->addrs[i].entity != idx)
			continue;
		vf_addr_format(&l->addrs[i].addr, a, sizeof(a));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
			n ? " " : "", a);
	}
	return out;
}

static char *fixture(const char *name, size_t *len)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "ec2/%s", name);
	return vf_test_read(rel, len);
}

static void parse_ok(const char *xml, size_t len, struct vf_entity_list *l,
	char *token, size_t tokenlen)
{
	char err[512] = "";

	if (!vf_ec2_parse_interfaces(xml, len, l, token, tokenlen, err,
	    sizeof(err)))
		fail_msg("parse failed: %s", err);
}

static void parse_fixture(const char *name, struct vf_entity_list *l,
	char *token, size_t tokenlen)
{
	size_t len;
	char *xml = fixture(name, &len);

	parse_ok(xml, len, l, token, tokenlen);
	free(xml);
}

/* Parsing fails, leaves l as it was, and err contains want. */
static void parse_fails(const char *xml, size_t len, const char *want)
{
	struct vf_entity_list l;
	struct vf_entity keep = { .entity = "eni:kept", .aws_type = "ENI" };
	struct vf_addr a = { .v6 = false, .b = { 10, 9, 8, 7 } };
	char token[64] = "stale", err[512] = "";

	vf_entity_list_init(&l);
	assert_true(vf_entity_list_add(&l, &keep));
	assert_true(vf_entity_list_add_addr(&l, &a));
	if (vf_ec2_parse_interfaces(xml, len, &l, token, sizeof(token), err,
	    sizeof(err)))
		fail_msg("parsed: %.80s", xml);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_int_equal(l.n_entities, 1);
	assert_int_equal(l.n_addrs, 1);
	assert_string_equal(l.entities[0].entity, "eni:kept");
	assert_string_equal(token, "");
	vf_entity_list_finish(&l);
}

static void parse_str_fails(const char *xml, const char *want)
{
	parse_fails(xml, strlen(xml), want);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<DescribeNetworkInterfacesResponse " \
	"xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">" \
	"<requestId>r-1</requestId><networkInterfaceSet>"
#define TAIL "</networkInterfaceSet></DescribeNetworkInterfacesResponse>"

/* ---- the classifier ---- */

struct rule_case {
	struct eni_spec eni;
	const char *type, *entity, *description;
};

static const struct rule_case rule_cases[] = {
	/* 1: the user's own instance, whatever the description says */
	{ { NULL, NULL, false, "Primary network interface", "i-0abc", NULL },
	  "EC2", "ec2:i-0abc", "Primary network interface" },
	{ { NULL, NULL, false, "ELB my-lb", "i-0abc", "web" },
	  "EC2", "ec2:i-0abc", "web" },
	{ { "lambda", NULL, false, "AWS Lambda VPC ENI-f-x", "i-0abc", NULL },
	  "EC2", "ec2:i-0abc", "AWS Lambda VPC ENI-f-x" },
	/* 2: interfaceType, any case, '_' ignored */
	{ { "nat_gateway", NULL, true, "Interface for NAT Gateway nat-0a1b2c",
	    NULL, NULL }, "NAT", "nat:nat-0a1b2c",
	  "Interface for NAT Gateway nat-0a1b2c" },
	{ { "natGateway", NULL, true, "", NULL, NULL },
	  "NAT", "nat:eni-0123456789abcdef0", "" },
	{ { "NAT_GATEWAY", NULL, true, "whatever nat-77", NULL, NULL },
	  "NAT", "nat:nat-77", "whatever nat-77" },
	{ { "lambda", "AROAX:fn", true,
	    "AWS Lambda VPC ENI-my-func-v2-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
	    NULL, NULL }, "LAMBDA", "lambda:my-func-v2",
	  "AWS Lambda VPC ENI-my-func-v2-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d" },
	{ { "Lambda", NULL, true, "AWS Lambda VPC ENI-no-uuid-here", NULL,
	    NULL }, "LAMBDA", "lambda:no-uuid-here",
	  "AWS Lambda VPC ENI-no-uuid-here" },
	{ { "lambda", NULL, true, "", NULL, NULL },
	  "LAMBDA", "lambda:eni-0123456789abcdef0", "" },
	{ { "lambda", NULL, true,
	    "AWS Lambda VPC ENI--1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", NULL,
	    NULL }, "LAMBDA", "lambda:eni-0123456789abcdef0",
	  "AWS Lambda VPC ENI--1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d" },
	{ { "vpc_endpoint", "727180483921", true,
	    "VPC Endpoint Interface vpce-089f2123488812123", NULL, NULL },
	  "VPCE", "vpce:vpce-089f2123488812123",
	  "VPC Endpoint Interface vpce-089f2123488812123" },
	{ { "gateway_load_balancer_endpoint", NULL, true, "", NULL, NULL },
	  "VPCE", "vpce:eni-0123456789abcdef0", "" },
	{ { "load_balancer", NULL, true, "", NULL, NULL },
	  "ELB", "elb:eni-0123456789abcdef0", "" },
	{ { "network_load_balancer", "amazon-elb", true,
	    "ELB net/my-nlb/7e2f8a9b0c1d2e3f", NULL, NULL },
	  "ELB", "elb:my-nlb", "ELB net/my-nlb/7e2f8a9b0c1d2e3f" },
	{ { "gateway_load_balancer", "amazon-elb", true,
	    "ELB gwy/my-gwlb/1f2e", NULL, NULL },
	  "ELB", "elb:my-gwlb", "ELB gwy/my-gwlb/1f2e" },
	{ { "efs", NULL, true, "", NULL, NULL },
	  "EFS", "eni:eni-0123456789abcdef0", "" },
	{ { "transit_gateway", NULL, true, "", NULL, NULL },
	  "TGW", "eni:eni-0123456789abcdef0", "" },
	{ { "api_gateway_managed", NULL, true, "", NULL, NULL },
	  "APIGATEWAY", "eni:eni-0123456789abcdef0", "" },
	{ { "global_accelerator_managed", NULL, true, "", NULL, NULL },
	  "GLOBALACCELERATOR", "eni:eni-0123456789abcdef0", "" },
	{ { "quicksight", NULL, true, "", NULL, NULL },
	  "QUICKSIGHT", "eni:eni-0123456789abcdef0", "" },
	{ { "ec2_instance_connect_endpoint", NULL, true, "", NULL, NULL },
	  "EICE", "eni:eni-0123456789abcdef0", "" },
	{ { "trunk", NULL, true, "", "i-0trunk", NULL },
	  "EC2", "ec2:i-0trunk", "" },
	{ { "trunk", NULL, true, "", NULL, NULL },      /* no instance: on */
	  "ENI", "eni:eni-0123456789abcdef0", "" },
	{ { "branch", NULL, true, "", NULL, NULL },
	  "ECS", "eni:eni-0123456789abcdef0", "" },
	/* 3: descriptions and requester ids */
	{ { NULL, "amazon-elb", true, "ELB my-classic-lb", NULL, NULL },
	  "ELB", "elb:my-classic-lb", "ELB my-classic-lb" },
	{ { NULL, "amazon-elb", true, "ELB app/my-alb/50dc6c495c0c9188",
	    NULL, NULL }, "ELB", "elb:my-alb",
	  "ELB app/my-alb/50dc6c495c0c9188" },
	{ { NULL, "amazon-elb", true, "", NULL, NULL },
	  "ELB", "elb:eni-0123456789abcdef0", "" },
	{ { NULL, NULL, true, "ELB app/broken", NULL, NULL },
	  "ELB", "elb:eni-0123456789abcdef0", "ELB app/broken" },
	{ { NULL, NULL, true, "ELB app//50dc", NULL, NULL },
	  "ELB", "elb:eni-0123456789abcdef0", "ELB app//50dc" },
	{ { NULL, NULL, true, "ELB ", NULL, NULL },
	  "ELB", "elb:eni-0123456789abcdef0", "ELB " },
	{ { NULL, "amazon-rds", true, "RDSNetworkInterface", NULL, NULL },
	  "RDS", "rds:eni-0123456789abcdef0", "RDSNetworkInterface" },
	{ { NULL, "amazon-rds", true, "", NULL, NULL },
	  "RDS", "rds:eni-0123456789abcdef0", "" },
	{ { NULL, NULL, true, "Interface for NAT Gateway nat-0f1e", NULL,
	    NULL }, "NAT", "nat:nat-0f1e", "Interface for NAT Gateway nat-0f1e" },
	{ { NULL, NULL, true, "AWS Lambda VPC ENI-f-1a2b3c4d-5e6f-7a8b-9c0d-"
	    "1e2f3a4b5c6d", NULL, NULL }, "LAMBDA", "lambda:f",
	  "AWS Lambda VPC ENI-f-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d" },
	{ { NULL, NULL, true, "VPC Endpoint Interface vpce-0e1d", NULL, NULL },
	  "VPCE", "vpce:vpce-0e1d", "VPC Endpoint Interface vpce-0e1d" },
	{ { NULL, NULL, true, "EFS mount target for fs-01 (fsmt-01)", NULL,
	    NULL }, "EFS", "eni:eni-0123456789abcdef0",
	  "EFS mount target for fs-01 (fsmt-01)" },
	{ { NULL, NULL, true, "arn:aws:ecs:us-east-1:123456789012:attachment/"
	    "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "i-0host", "task" },
	  "ECS", "eni:eni-0123456789abcdef0", "task" },
	{ { NULL, NULL, true, "arn:aws-cn:ecs:cn-north-1:123456789012:"
	    "attachment/x", NULL, NULL }, "ECS", "eni:eni-0123456789abcdef0",
	  "arn:aws-cn:ecs:cn-north-1:123456789012:attachment/x" },
	{ { NULL, NULL, true, "ElastiCache my-redis-0001-001", NULL, NULL },
	  "ELASTICACHE", "eni:eni-0123456789abcdef0",
	  "ElastiCache my-redis-0001-001" },
	{ { NULL, "amazon-elasticache", true, "", NULL, NULL },
	  "ELASTICACHE", "eni:eni-0123456789abcdef0", "" },
	{ { NULL, "amazon-redshift", true, "", NULL, NULL },
	  "REDSHIFT", "eni:eni-0123456789abcdef0", "" },
	{ { NULL, NULL, true, "Route 53 Resolver: rslvr-in-1:rni-1", NULL,
	    NULL }, "ROUTE53RESOLVER", "eni:eni-0123456789abcdef0",
	  "Route 53 Resolver: rslvr-in-1:rni-1" },
	{ { NULL, NULL, true, "ES logs", NULL, NULL },
	  "OPENSEARCH", "eni:eni-0123456789abcdef0", "ES logs" },
	{ { NULL, NULL, true, "Amazon MQ network interface for broker b-1",
	    NULL, NULL }, "MQ", "eni:eni-0123456789abcdef0",
	  "Amazon MQ network interface for broker b-1" },
	{ { NULL, NULL, true, "AWS created network interface for directory "
	    "d-1", NULL, NULL }, "DIRECTORY", "eni:eni-0123456789abcdef0",
	  "AWS created network interface for directory d-1" },
	/* 2 before 3: the type wins over a description */
	{ { "vpc_endpoint", NULL, true, "ELB my-lb", NULL, NULL },
	  "VPCE", "vpce:eni-0123456789abcdef0", "ELB my-lb" },
	/* 4: managed, attached, unknown service */
	{ { NULL, "123456789012", true, "", "i-0managed", NULL },
	  "EC2", "ec2:i-0managed", "" },
	{ { NULL, NULL, true, "", "i-", NULL },
	  "ENI", "eni:eni-0123456789abcdef0", "" },
	/* 5 */
	{ { NULL, NULL, false, "spare", NULL, "failover" },
	  "ENI", "eni:eni-0123456789abcdef0", "failover" },
	{ { NULL, NULL, false, "ELB looks-like-one", NULL, NULL },
	  "ELB", "elb:looks-like-one", "ELB looks-like-one" },
	{ { "efa", NULL, false, "", NULL, NULL },
	  "ENI", "eni:eni-0123456789abcdef0", "" },
	{ { NULL, NULL, false, "ESX host", NULL, NULL },
	  "ENI", "eni:eni-0123456789abcdef0", "ESX host" },
};

static void test_classify_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct rule_case *c = &rule_cases[i];
		struct vf_eni_info eni;
		struct vf_entity e;

		mk_eni(&c->eni, &eni);
		memset(&e, 0x5a, sizeof(e));
		vf_entity_classify(&eni, &e);
		if (strcmp(e.aws_type, c->type) != 0 ||
		    strcmp(e.entity, c->entity) != 0 ||
		    strcmp(e.description, c->description) != 0)
			fail_msg("case %zu (%s / %s): got %s %s \"%s\", want "
				"%s %s \"%s\"", i, eni.interface_type,
				eni.description, e.aws_type, e.entity,
				e.description, c->type, c->entity,
				c->description);
		assert_string_equal(e.eni_id, "eni-0123456789abcdef0");
		assert_string_equal(e.vpc_id, "vpc-11112222");
		assert_string_equal(e.subnet_id, "subnet-33334444");
		if (strcmp(e.aws_type, "EC2") == 0)
			assert_string_equal(e.instance_id, eni.instance_id);
		else
			assert_string_equal(e.instance_id, "");
	}
}

static void test_classify_unknown_is_eni(void **state)
{
	struct vf_eni_info eni;
	struct vf_entity e;

	(void)state;
	memset(&eni, 0, sizeof(eni));
	vf_entity_classify(&eni, &e);
	assert_string_equal(e.aws_type, "ENI");
	assert_string_equal(e.entity, "eni:");
	assert_string_equal(e.description, "");
}

/* ---- the list ---- */

static void test_entity_list(void **state)
{
	struct vf_entity_list l;
	struct vf_entity e = { .aws_type = "ENI" };
	struct vf_addr a = { .v6 = true };

	(void)state;
	vf_entity_list_init(&l);
	assert_false(vf_entity_list_add_addr(&l, &a));   /* no entity yet */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(e.entity, sizeof(e.entity), "eni:%u", i);
		assert_true(vf_entity_list_add(&l, &e));
		for (unsigned k = 0; k < i % 3; k++) {
			a.b[15] = (uint8_t)k;
			a.b[14] = (uint8_t)i;
			assert_true(vf_entity_list_add_addr(&l, &a));
		}
	}
	assert_int_equal(l.n_entities, 5000);
	assert_true(l.cap_entities >= 5000);
	assert_int_equal(l.n_addrs, 4999);      /* 0+1+2 per three */
	for (size_t i = 0; i < l.n_addrs; i++) {
		const struct vf_entity_addr *ea = &l.addrs[i];
		char want[32];

		snprintf(want, sizeof(want), "eni:%u", ea->entity);
		assert_string_equal(l.entities[ea->entity].entity, want);
		assert_int_equal(ea->addr.b[14], (uint8_t)ea->entity);
	}
	vf_entity_list_finish(&l);
	assert_null(l.entities);
	assert_int_equal(l.n_entities, 0);
	vf_entity_list_finish(&l);    /* twice is fine */
}

/* ---- DescribeNetworkInterfaces ---- */

static void test_parse_botocore(void **state)
{
	struct vf_entity_list l;
	char token[64] = "stale";
	const struct vf_entity *e;

	(void)state;
	vf_entity_list_init(&l);
	parse_fixture("botocore-ec2-describe-network-interfaces.xml", &l, token,
		sizeof(token));
	assert_string_equal(token, "");
	assert_int_equal(l.n_entities, 2);
	e = find(&l, "eni-0f62d866");
	assert_string_equal(e->aws_type, "EC2");
	assert_string_equal(e->entity, "ec2:i-22197876");
	assert_string_equal(e->instance_id, "i-22197876");
	assert_string_equal(e->description, "");
	assert_string_equal(e->vpc_id, "vpc-cc3c87a5");
	assert_string_equal(e->subnet_id, "subnet-c53c87ac");
	/* the interface-level privateIpAddress repeats the primary one */
	assert_string_equal(addrs_of(&l, e), "10.0.0.146 10.0.0.148 10.0.0.150");
	e = find(&l, "eni-a66ed5cf");
	assert_string_equal(e->entity, "ec2:i-886401dc");
	assert_string_equal(e->description, "Primary network interface");
	assert_string_equal(addrs_of(&l, e), "10.0.1.233 10.0.1.20");
	assert_int_equal(l.n_addrs, 5);
	vf_entity_list_finish(&l);
}

static void test_parse_shared_synthetic(void **state)
{
	struct vf_entity_list l;
	char token[128];

	(void)state;
	vf_entity_list_init(&l);
	parse_fixture("synthetic-managed-enis.xml", &l, token, sizeof(token));
	assert_string_equal(token, "eyJ2IjoiMiIsImMiOiJzeW50aGV0aWMifQ==");
	assert_int_equal(l.n_entities, 6);
	assert_string_equal(find(&l, "eni-0a1b2c3d4e5f60001")->entity,
		"ec2:i-0a1b2c3d4e5f60001");
	assert_string_equal(find(&l, "eni-0a1b2c3d4e5f60001")->description,
		"web-1");
	assert_string_equal(addrs_of(&l, find(&l, "eni-0a1b2c3d4e5f60001")),
		"10.0.1.10 203.0.113.10 10.0.1.11 2600:1f18:1234:5600::10");
	assert_string_equal(find(&l, "eni-0a1b2c3d4e5f60002")->entity,
		"elb:my-alb");
	assert_string_equal(addrs_of(&l, find(&l, "eni-0a1b2c3d4e5f60002")),
		"10.0.1.20 198.51.100.20");
	assert_string_equal(find(&l, "eni-0a1b2c3d4e5f60003")->aws_type, "RDS");
	assert_string_equal(find(&l, "eni-0a1b2c3d4e5f60004")->entity,
		"nat:nat-0a8b0e0d28266841f");
	assert_string_equal(find(&l, "eni-0a1b2c3d4e5f60005")->entity,
		"lambda:my-function");
	assert_string_equal(find(&l, "eni-0d11e3ccd2c0e6c57")->entity,
		"vpce:vpce-089f2123488812123");
	vf_entity_list_finish(&l);
}

struct fixture_case {
	const char *eni, *type, *entity, *description, *addrs;
};

static const struct fixture_case all_types[] = {
	{ "eni-0f000000000000001", "EC2", "ec2:i-0f000000000000001",
	  "web-1 eth0", "10.0.1.10 203.0.113.10 10.0.1.11 "
	  "2001:db8:1234:5600::10 2001:db8:1234:5600::11" },
	{ "eni-0f000000000000002", "EC2", "ec2:i-0f000000000000002",
	  "Primary network interface", "10.0.1.20" },
	{ "eni-0f000000000000003", "ELB", "elb:my-classic-lb",
	  "ELB my-classic-lb", "10.0.1.30 198.51.100.30" },
	{ "eni-0f000000000000004", "ELB", "elb:my-alb",
	  "ELB app/my-alb/50dc6c495c0c9188", "10.0.1.40 198.51.100.40" },
	{ "eni-0f000000000000005", "ELB", "elb:my-nlb",
	  "ELB net/my-nlb/7e2f8a9b0c1d2e3f", "10.0.1.50" },
	{ "eni-0f000000000000006", "ELB", "elb:my-gwlb",
	  "ELB gwy/my-gwlb/1f2e3d4c5b6a7980", "10.0.1.60" },
	{ "eni-0f000000000000007", "RDS", "rds:eni-0f000000000000007",
	  "RDSNetworkInterface", "10.0.2.70" },
	{ "eni-0f000000000000008", "NAT", "nat:nat-0f1e2d3c4b5a69788",
	  "Interface for NAT Gateway nat-0f1e2d3c4b5a69788",
	  "10.0.0.80 198.51.100.80" },
	{ "eni-0f000000000000009", "LAMBDA", "lambda:my-function",
	  "AWS Lambda VPC ENI-my-function-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
	  "10.0.2.90" },
	{ "eni-0f000000000000010", "VPCE", "vpce:vpce-089f2123488812123",
	  "VPC Endpoint Interface vpce-089f2123488812123", "10.0.2.100" },
	{ "eni-0f000000000000011", "VPCE", "vpce:vpce-0e1d2c3b4a5968778",
	  "VPC Endpoint Interface vpce-0e1d2c3b4a5968778", "10.0.1.110" },
	{ "eni-0f000000000000012", "EFS", "eni:eni-0f000000000000012",
	  "EFS mount target for fs-0a1b2c3d4e5f60012 (fsmt-0a1b2c3d4e5f60012)",
	  "10.0.2.120" },
	{ "eni-0f000000000000013", "ECS", "eni:eni-0f000000000000013",
	  "arn:aws:ecs:us-east-1:123456789012:attachment/"
	  "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "10.0.1.130" },
	{ "eni-0f000000000000014", "ECS", "eni:eni-0f000000000000014",
	  "arn:aws:ecs:us-east-1:123456789012:attachment/"
	  "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "10.0.1.140" },
	{ "eni-0f000000000000015", "ELASTICACHE", "eni:eni-0f000000000000015",
	  "ElastiCache my-redis-0001-001", "10.0.2.150" },
	{ "eni-0f000000000000016", "TGW", "eni:eni-0f000000000000016",
	  "Network Interface for Transit Gateway Attachment "
	  "tgw-attach-0a1b2c3d4e5f60016", "10.0.0.160" },
	{ "eni-0f000000000000017", "ENI", "eni:eni-0f000000000000017",
	  "failover-spare", "10.0.1.170" },
};

static const struct fixture_case more_types[] = {
	{ "eni-0f000000000000018", "ROUTE53RESOLVER", "eni:eni-0f000000000000018",
	  "Route 53 Resolver: rslvr-in-0a1b2c3d4e5f60018:rni-0a1b2c3d4e5f60018",
	  "10.0.2.180" },
	{ "eni-0f000000000000019", "OPENSEARCH", "eni:eni-0f000000000000019",
	  "ES logs-domain", "10.0.2.190" },
	{ "eni-0f000000000000020", "MQ", "eni:eni-0f000000000000020",
	  "Amazon MQ network interface for broker "
	  "b-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "10.0.2.200" },
	{ "eni-0f000000000000021", "DIRECTORY", "eni:eni-0f000000000000021",
	  "AWS created network interface for directory d-906712345a",
	  "10.0.2.210" },
	{ "eni-0f000000000000022", "REDSHIFT", "eni:eni-0f000000000000022", "",
	  "10.0.2.220" },
	{ "eni-0f000000000000023", "APIGATEWAY", "eni:eni-0f000000000000023",
	  "VPC Link ENI for API Gateway", "10.0.1.230" },
	{ "eni-0f000000000000024", "GLOBALACCELERATOR",
	  "eni:eni-0f000000000000024", "Global Accelerator ENI", "10.0.1.240" },
	{ "eni-0f000000000000025", "QUICKSIGHT", "eni:eni-0f000000000000025",
	  "QuickSight VPC connection", "10.0.1.250" },
	{ "eni-0f000000000000026", "EICE", "eni:eni-0f000000000000026",
	  "EC2 Instance Connect Endpoint eice-0a1b2c3d4e5f60026", "10.0.1.26" },
	{ "eni-0f000000000000027", "EFS", "eni:eni-0f000000000000027",
	  "EFS mount target for fs-0a1b2c3d4e5f60027 (fsmt-0a1b2c3d4e5f60027)",
	  "10.0.1.27" },
	{ "eni-0f000000000000028", "EC2", "ec2:i-0f000000000000028",
	  "trunk interface", "10.0.1.28" },
	{ "eni-0f000000000000029", "ECS", "eni:eni-0f000000000000029",
	  "arn:aws:ecs:us-east-1:123456789012:attachment/"
	  "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", "10.0.1.29" },
	{ "eni-0f000000000000030", "EC2", "ec2:i-0f000000000000030", "",
	  "10.0.1.31" },
	{ "eni-0f000000000000031", "EC2", "ec2:i-0f000000000000031",
	  "ELB not-really-a-load-balancer", "10.0.1.32" },
	{ "eni-0f000000000000032", "NAT", "nat:eni-0f000000000000032",
	  "NAT gateway interface", "10.0.0.33" },
};

static void check_cases(const struct vf_entity_list *l,
	const struct fixture_case *c, size_t n)
{
	assert_int_equal(l->n_entities, n);
	for (size_t i = 0; i < n; i++) {
		const struct vf_entity *e = &l->entities[i];

		if (strcmp(e->eni_id, c[i].eni) != 0 ||
		    strcmp(e->aws_type, c[i].type) != 0 ||
		    strcmp(e->entity, c[i].entity) != 0 ||
		    strcmp(e->description, c[i].description) != 0 ||
		    strcmp(addrs_of(l, e), c[i].addrs) != 0)
			fail_msg("%s: got %s %s %s \"%s\" [%s], want %s %s "
				"\"%s\" [%s]", c[i].eni, e->eni_id, e->aws_type,
				e->entity, e->description, addrs_of(l, e),
				c[i].type, c[i].entity, c[i].description,
				c[i].addrs);
		assert_string_equal(e->vpc_id, "vpc-0a1b2c3d4e5f60001");
		assert_true(strncmp(e->subnet_id, "subnet-", 7) == 0);
	}
}

static void test_parse_all_types(void **state)
{
	struct vf_entity_list l;
	char token[128];

	(void)state;
	vf_entity_list_init(&l);
	parse_fixture("synthetic-all-types.xml", &l, token, sizeof(token));
	assert_string_equal(token, "AAEAAbY2VyRkXm8pN/ZH+synthetic+page2==");
	check_cases(&l, all_types, sizeof(all_types) / sizeof(all_types[0]));
	assert_string_equal(l.entities[0].instance_id, "i-0f000000000000001");
	assert_string_equal(l.entities[2].instance_id, "");
	vf_entity_list_finish(&l);

	vf_entity_list_init(&l);
	parse_fixture("synthetic-more-types.xml", &l, token, sizeof(token));
	assert_string_equal(token, "");
	check_cases(&l, more_types, sizeof(more_types) / sizeof(more_types[0]));
	vf_entity_list_finish(&l);
}

/* Pages append: the second page's addresses point at its own entities. */
static void test_parse_appends(void **state)
{
	struct vf_entity_list l;
	char token[128];
	size_t n1;

	(void)state;
	vf_entity_list_init(&l);
	parse_fixture("synthetic-all-types.xml", &l, token, sizeof(token));
	n1 = l.n_entities;
	parse_fixture("synthetic-more-types.xml", &l, token, sizeof(token));
	assert_int_equal(l.n_entities, n1 + sizeof(more_types) /
		sizeof(more_types[0]));
	assert_string_equal(addrs_of(&l, find(&l, "eni-0f000000000000029")),
		"10.0.1.29");
	assert_string_equal(addrs_of(&l, find(&l, "eni-0f000000000000001")),
		"10.0.1.10 203.0.113.10 10.0.1.11 2001:db8:1234:5600::10 "
		"2001:db8:1234:5600::11");
	vf_entity_list_finish(&l);
}

/* Nested items, namespaces, unknown elements, entities and CDATA. */
static void test_parse_paths(void **state)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?>\n"
		"<ec2:DescribeNetworkInterfacesResponse "
		"xmlns:ec2=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
		"<ec2:networkInterfaceSet>"
		"<ec2:item>"
		"<ec2:groupSet><ec2:item><ec2:groupId>sg-1</ec2:groupId>"
		"<ec2:networkInterfaceId>eni-WRONG</ec2:networkInterfaceId>"
		"<ec2:key>Name</ec2:key><ec2:value>group</ec2:value>"
		"</ec2:item></ec2:groupSet>"
		"<ec2:networkInterfaceId> eni-first\n</ec2:networkInterfaceId>"
		"<ec2:futureThing><ec2:item><ec2:description>no</ec2:description>"
		"<ec2:privateIpAddress>192.0.2.99</ec2:privateIpAddress>"
		"</ec2:item></ec2:futureThing>"
		"<ec2:description>a &amp; b <![CDATA[<c>]]></ec2:description>"
		"<ec2:requesterManaged>TRUE</ec2:requesterManaged>"
		"<ec2:interfaceType>Network_Load_Balancer</ec2:interfaceType>"
		"<ec2:attachment><ec2:tagSet><ec2:item><ec2:key>Name</ec2:key>"
		"<ec2:value>not the interface's</ec2:value></ec2:item>"
		"</ec2:tagSet></ec2:attachment>"
		"<ec2:privateIpAddress>192.0.2.1</ec2:privateIpAddress>"
		"<ec2:privateIpAddressesSet>"
		"<ec2:item><ec2:privateIpAddress>192.0.2.1</ec2:privateIpAddress>"
		"<ec2:association><ec2:publicIp>198.51.100.1</ec2:publicIp>"
		"</ec2:association></ec2:item>"
		"<ec2:item><ec2:privateIpAddress>192.0.2.2</ec2:privateIpAddress>"
		"</ec2:item></ec2:privateIpAddressesSet>"
		"<ec2:association><ec2:publicIp>198.51.100.1</ec2:publicIp>"
		"</ec2:association>"
		"<ec2:ipv6Address>2001:DB8::0001</ec2:ipv6Address>"
		"<ec2:ipv6AddressesSet><ec2:item>"
		"<ec2:ipv6Address>2001:db8::1</ec2:ipv6Address></ec2:item>"
		"<ec2:item><ec2:ipv6Address>::ffff:192.0.2.3</ec2:ipv6Address>"
		"</ec2:item></ec2:ipv6AddressesSet>"
		"<ec2:operator><ec2:managed>true</ec2:managed>"
		"<ec2:principal>elasticloadbalancing.amazonaws.com</ec2:principal>"
		"</ec2:operator>"
		"</ec2:item>"
		"<ec2:item>"
		"<ec2:tagSet><ec2:item><ec2:value>db-1</ec2:value>"
		"<ec2:key>Name</ec2:key></ec2:item>"
		"<ec2:item><ec2:key>Owner</ec2:key><ec2:value>x</ec2:value>"
		"</ec2:item></ec2:tagSet>"
		"<ec2:networkInterfaceId>eni-second</ec2:networkInterfaceId>"
		"<ec2:requesterId>amazon-rds</ec2:requesterId>"
		"<ec2:requesterManaged>tRuE</ec2:requesterManaged>"
		"<ec2:description/>"
		"</ec2:item>"
		"</ec2:networkInterfaceSet>"
		"<ec2:item><ec2:networkInterfaceId>eni-stray</ec2:networkInterfaceId>"
		"</ec2:item>"
		"<ec2:nextToken>\n  tok+/=  \n</ec2:nextToken>"
		"</ec2:DescribeNetworkInterfacesResponse>";
	struct vf_entity_list l;
	char token[64];
	const struct vf_entity *e;

	(void)state;
	vf_entity_list_init(&l);
	parse_ok(xml, sizeof(xml) - 1, &l, token, sizeof(token));
	assert_string_equal(token, "tok+/=");
	assert_int_equal(l.n_entities, 2);
	e = &l.entities[0];
	assert_string_equal(e->eni_id, "eni-first");
	assert_string_equal(e->aws_type, "ELB");
	assert_string_equal(e->entity, "elb:eni-first");
	assert_string_equal(e->description, "a & b <c>");
	assert_string_equal(addrs_of(&l, e), "192.0.2.1 198.51.100.1 192.0.2.2 "
		"2001:db8::1 192.0.2.3");
	e = &l.entities[1];
	assert_string_equal(e->eni_id, "eni-second");
	assert_string_equal(e->entity, "rds:eni-second");
	assert_string_equal(e->description, "db-1");
	assert_string_equal(addrs_of(&l, e), "");
	vf_entity_list_finish(&l);
}

struct seen {
	char ids[8][64];
	char principals[8][128];
	bool managed[8];
	size_t index[8];
	size_t n;
	size_t fail_at;          /* 0: never */
};

static bool on_eni(void *ctx, const struct vf_eni_info *eni, size_t index)
{
	struct seen *s = ctx;

	if (s->fail_at != 0 && s->n + 1 == s->fail_at)
		return false;
	assert_true(s->n < 8);
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", eni->id);
	snprintf(s->principals[s->n], sizeof(s->principals[0]), "%s",
		eni->operator_principal);
	s->managed[s->n] = eni->requester_managed;
	s->index[s->n] = index;
	s->n++;
	return true;
}

static void test_parse_callback(void **state)
{
	static const char xml[] = HEAD
		"<item><networkInterfaceId>eni-a</networkInterfaceId>"
		"<requesterManaged>false</requesterManaged>"
		"<operator><managed>true</managed><principal>p.amazonaws.com"
		"</principal></operator></item>"
		"<item><networkInterfaceId>eni-b</networkInterfaceId>"
		"<requesterManaged>True</requesterManaged></item>"
		"<item><networkInterfaceId>eni-c</networkInterfaceId></item>"
		TAIL;
	struct vf_entity_list l;
	struct vf_entity pre = { .entity = "eni:pre" };
	struct seen s = { .n = 0 };
	char token[16], err[256];

	(void)state;
	vf_entity_list_init(&l);
	assert_true(vf_entity_list_add(&l, &pre));
	assert_true(vf_ec2_parse_interfaces_cb(xml, sizeof(xml) - 1, &l, on_eni,
		&s, token, sizeof(token), err, sizeof(err)));
	assert_int_equal(s.n, 3);
	assert_string_equal(s.ids[0], "eni-a");
	assert_string_equal(s.principals[0], "p.amazonaws.com");
	assert_false(s.managed[0]);
	assert_true(s.managed[1]);
	assert_int_equal(s.index[0], 1);
	assert_int_equal(s.index[2], 3);
	assert_string_equal(l.entities[s.index[1]].eni_id, "eni-b");

	/* the callback runs out of memory: everything is taken back */
	memset(&s, 0, sizeof(s));
	s.fail_at = 2;
	assert_false(vf_ec2_parse_interfaces_cb(xml, sizeof(xml) - 1, &l, on_eni,
		&s, token, sizeof(token), err, sizeof(err)));
	assert_string_equal(err, "out of memory");
	assert_int_equal(l.n_entities, 4);
	vf_entity_list_finish(&l);
}

static void test_parse_bad_addresses(void **state)
{
	static const char xml[] = HEAD
		"<item><networkInterfaceId>eni-x</networkInterfaceId>"
		"<privateIpAddress>10.0.0.300</privateIpAddress>"
		"<privateIpAddressesSet>"
		"<item><privateIpAddress>10.0.0.5</privateIpAddress></item>"
		"<item><privateIpAddress>not-an-address</privateIpAddress></item>"
		"<item><privateIpAddress/></item>"
		"<item><privateIpAddress>10.0.0.6/32</privateIpAddress></item>"
		"</privateIpAddressesSet>"
		"<ipv6AddressesSet><item><ipv6Address>fe80::1%eth0</ipv6Address>"
		"</item><item><ipv6Address>2001:db8::7</ipv6Address></item>"
		"</ipv6AddressesSet></item>"
		"<item><privateIpAddress>10.0.0.8</privateIpAddress></item>"
		TAIL;
	struct vf_entity_list l;
	char token[16];

	(void)state;
	vf_entity_list_init(&l);
	parse_ok(xml, sizeof(xml) - 1, &l, token, sizeof(token));
	/* the second item has no id: skipped with its address */
	assert_int_equal(l.n_entities, 1);
	assert_string_equal(addrs_of(&l, &l.entities[0]), "10.0.0.5 2001:db8::7");
	vf_entity_list_finish(&l);
}

/* Long values are cut to the fields, never inside a UTF-8 sequence. */
static void test_parse_truncates(void **state)
{
	char xml[4096], desc[300], name[400], id[120];
	struct vf_entity_list l;
	const struct vf_entity *e;
	char token[16];
	int n;

	(void)state;
	memset(desc, 'd', 250);
	snprintf(desc + 250, sizeof(desc) - 250, "\xe2\x82\xac\xe2\x82\xac");
	memset(name, 'n', 300);
	name[300] = '\0';
	memset(id, 'e', 100);
	id[100] = '\0';
	n = snprintf(xml, sizeof(xml), HEAD "<item><networkInterfaceId>%s"
		"</networkInterfaceId><description>%s</description>"
		"<interfaceType>lambda</interfaceType></item>"
		"<item><networkInterfaceId>eni-2</networkInterfaceId>"
		"<description>%s</description><tagSet><item><key>Name</key>"
		"<value>%s</value></item></tagSet></item>" TAIL, id, desc, desc,
		name);
	assert_true(n > 0 && (size_t)n < sizeof(xml));
	vf_entity_list_init(&l);
	parse_ok(xml, (size_t)n, &l, token, sizeof(token));
	assert_int_equal(l.n_entities, 2);
	e = &l.entities[0];
	assert_int_equal(strlen(e->eni_id), sizeof(e->eni_id) - 1);
	assert_int_equal(strlen(e->description), 253);   /* one euro sign */
	assert_true(valid_utf8(e->description));
	assert_memory_equal(e->entity, "lambda:eee", 10);
	assert_int_equal(strlen(e->entity), 7 + sizeof(e->eni_id) - 1);
	e = &l.entities[1];
	assert_int_equal(strlen(e->description), sizeof(e->description) - 1);
	assert_int_equal(e->description[0], 'n');
	vf_entity_list_finish(&l);
}

/* A page of n generated interfaces, two addresses each. */
static char *big_page(unsigned n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 512, off = 0;
	char *xml = malloc(cap);

	assert_non_null(xml);
	off += (size_t)snprintf(xml + off, cap - off, "%s", HEAD);
	for (unsigned i = 0; i < n; i++)
		off += (size_t)snprintf(xml + off, cap - off,
			"<item><networkInterfaceId>eni-%08x</networkInterfaceId>"
			"<description>Primary network interface</description>"
			"<requesterManaged>false</requesterManaged>"
			"<attachment><instanceId>i-%08x</instanceId></attachment>"
			"<privateIpAddressesSet><item><privateIpAddress>10.%u.%u.%u"
			"</privateIpAddress></item></privateIpAddressesSet>"
			"<ipv6AddressesSet><item><ipv6Address>2001:db8::%x"
			"</ipv6Address></item></ipv6AddressesSet></item>",
			i, i, (i >> 16) & 255, (i >> 8) & 255, i & 255, i);
	off += (size_t)snprintf(xml + off, cap - off, "%s", TAIL);
	assert_true(off < cap);
	*len = off;
	return xml;
}

static void test_parse_large_page(void **state)
{
	struct vf_entity_list l;
	size_t len;
	char *xml = big_page(2500, &len);
	char token[16];

	(void)state;
	vf_entity_list_init(&l);
	parse_ok(xml, len, &l, token, sizeof(token));
	assert_int_equal(l.n_entities, 2500);
	assert_int_equal(l.n_addrs, 5000);
	assert_string_equal(l.entities[2499].entity, "ec2:i-000009c3");
	assert_int_equal(l.addrs[4999].entity, 2499);
	vf_entity_list_finish(&l);
	free(xml);
}

static void test_parse_error_documents(void **state)
{
	size_t len;
	char *xml;

	(void)state;
	xml = fixture("synthetic-error-authfailure.xml", &len);
	parse_fails(xml, len, "AuthFailure: AWS was not able to validate the "
		"provided access credentials");
	free(xml);
	xml = fixture("synthetic-error-request-limit.xml", &len);
	parse_fails(xml, len, "RequestLimitExceeded: Request limit exceeded.");
	free(xml);
	parse_str_fails("<ErrorResponse><Error><Type>Sender</Type><Code>Bad"
		"</Code><Message>line\none</Message></Error></ErrorResponse>",
		"Bad: line one");
	parse_str_fails("<Response><Errors><Error><Code>OnlyCode</Code></Error>"
		"</Errors></Response>", "OnlyCode");
	parse_str_fails("<Response><Errors/></Response>",
		"an error answer without a code");
}

static void test_parse_malformed(void **state)
{
	static const char *const docs[][2] = {
		{ "", "malformed XML" },
		{ "   ", "malformed XML" },
		{ "not xml at all", "malformed XML" },
		{ HEAD "<item><networkInterfaceId>eni-1</networkInterfaceId>"
		  "</item>", "malformed XML" },             /* truncated */
		{ HEAD "<item></itme>" TAIL, "malformed XML" },
		{ HEAD TAIL "<extra/>", "malformed XML" },
		{ HEAD "<item><description>&bogus;</description></item>" TAIL,
		  "malformed XML" },
		{ "<DescribeInstancesResponse/>",
		  "not a DescribeNetworkInterfacesResponse: the root element is "
		  "<DescribeInstancesResponse>" },
		{ "<html><body>502 Bad Gateway</body></html>",
		  "the root element is <html>" },
		{ "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		  "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
		  "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>"
		  "<description>&lol2;</description></item></networkInterfaceSet>"
		  "</DescribeNetworkInterfacesResponse>", "DOCTYPE" },
		{ "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\">"
		  "<DescribeNetworkInterfacesResponse/>", "DOCTYPE" },
	};
	/* a broken page after good interfaces takes them all back */
	static const char partial[] = HEAD
		"<item><networkInterfaceId>eni-1</networkInterfaceId>"
		"<privateIpAddress>10.0.0.1</privateIpAddress></item>"
		"<item><networkInterfaceId>eni-2</networkInterfaceId>"
		"<privateIpAddress>10.0.0.2</privateIpAddress></item>"
		"<item><networkInterfaceId>eni-3</networkInterfaceId>"
		"<privateIpAddress>10.0.0.3</privateIpAddress></item"
		TAIL;
	static const char nul[] = HEAD "<item><description>a\0b</description>"
		"</item>" TAIL;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		parse_fails(docs[i][0], strlen(docs[i][0]), docs[i][1]);
	parse_fails(partial, sizeof(partial) - 1, "malformed XML");
	parse_fails(nul, sizeof(nul) - 1, "malformed XML");
}

static void test_parse_token(void **state)
{
	static const char doc[] = "<DescribeNetworkInterfacesResponse>"
		"<networkInterfaceSet><item><networkInterfaceId>eni-1"
		"</networkInterfaceId><nextToken>inner</nextToken></item>"
		"</networkInterfaceSet><nextToken>0123456789abcdef</nextToken>"
		"</DescribeNetworkInterfacesResponse>";
	struct vf_entity_list l;
	char token[17], small[16], err[256];

	(void)state;
	vf_entity_list_init(&l);
	/* exactly fits; the item's own nextToken is not the page's */
	parse_ok(doc, sizeof(doc) - 1, &l, token, sizeof(token));
	assert_string_equal(token, "0123456789abcdef");
	assert_false(vf_ec2_parse_interfaces(doc, sizeof(doc) - 1, &l, small,
		sizeof(small), err, sizeof(err)));
	assert_non_null(strstr(err, "nextToken longer than 15 bytes"));
	assert_string_equal(small, "");
	assert_int_equal(l.n_entities, 1);
	vf_entity_list_finish(&l);
}

/* ---- DescribeInstances ---- */

struct names {
	char id[8][64];
	char name[8][1024];
	size_t n;
};

static void on_name(void *ctx, const char *id, const char *name)
{
	struct names *nm = ctx;

	assert_true(nm->n < 8);
	snprintf(nm->id[nm->n], sizeof(nm->id[0]), "%s", id);
	snprintf(nm->name[nm->n], sizeof(nm->name[0]), "%s", name);
	nm->n++;
}

static void test_parse_instance_names(void **state)
{
	struct names nm = { .n = 0 };
	char token[64], err[256];
	size_t len;
	char *xml = fixture("synthetic-describe-instances.xml", &len);

	(void)state;
	assert_true(vf_ec2_parse_instance_names(xml, len, on_name, &nm, token,
		sizeof(token), err, sizeof(err)));
	assert_string_equal(token, "eyJ2IjoxLCJzeW50aGV0aWMiOnRydWV9");
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.id[0], "i-0f000000000000001");
	assert_string_equal(nm.name[0], "web-1 & friends");
	assert_string_equal(nm.id[1], "i-0f000000000000028");
	assert_string_equal(nm.name[1], "ecs-host-1");
	free(xml);
}

static void test_parse_instance_names_paths(void **state)
{
	static const char xml[] = "<DescribeInstancesResponse>"
		"<reservationSet><item><instancesSet>"
		"<item><networkInterfaceSet><item><tagSet><item><key>Name</key>"
		"<value>an interface</value></item></tagSet>"
		"<instanceId>i-wrong</instanceId></item></networkInterfaceSet>"
		"<instanceId>i-1</instanceId></item>"
		"<item><instanceId>i-2</instanceId><tagSet><item><key>Name</key>"
		"<value/></item></tagSet></item>"
		"<item><instanceId>i-3</instanceId><tagSet><item><key>Name</key>"
		"<value>three</value></item></tagSet></item>"
		"</instancesSet><tagSet><item><key>Name</key><value>reservation"
		"</value></item></tagSet></item></reservationSet>"
		"</DescribeInstancesResponse>";
	struct names nm = { .n = 0 };
	char token[64] = "x", err[256];
	size_t len;
	char *doc;

	(void)state;
	assert_true(vf_ec2_parse_instance_names(xml, sizeof(xml) - 1, on_name,
		&nm, token, sizeof(token), err, sizeof(err)));
	assert_string_equal(token, "");
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.id[0], "i-3");
	assert_string_equal(nm.name[0], "three");

	doc = fixture("synthetic-error-authfailure.xml", &len);
	nm.n = 0;
	assert_false(vf_ec2_parse_instance_names(doc, len, on_name, &nm, token,
		sizeof(token), err, sizeof(err)));
	assert_string_equal(err, "AuthFailure: AWS was not able to validate "
		"the provided access credentials");
	free(doc);
	doc = fixture("synthetic-all-types.xml", &len);
	assert_false(vf_ec2_parse_instance_names(doc, len, on_name, &nm, token,
		sizeof(token), err, sizeof(err)));
	assert_non_null(strstr(err, "not a DescribeInstancesResponse"));
	assert_int_equal(nm.n, 0);
	free(doc);
	assert_false(vf_ec2_parse_instance_names("<DescribeInstancesResponse>",
		strlen("<DescribeInstancesResponse>"), on_name, &nm, token, sizeof(token), err, sizeof(err)));
	assert_non_null(strstr(err, "malformed XML"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_rules),
		cmocka_unit_test(test_classify_unknown_is_eni),
		cmocka_unit_test(test_entity_list),
		cmocka_unit_test(test_parse_botocore),
		cmocka_unit_test(test_parse_shared_synthetic),
		cmocka_unit_test(test_parse_all_types),
		cmocka_unit_test(test_parse_appends),
		cmocka_unit_test(test_parse_paths),
		cmocka_unit_test(test_parse_callback),
		cmocka_unit_test(test_parse_bad_addresses),
		cmocka_unit_test(test_parse_truncates),
		cmocka_unit_test(test_parse_large_page),
		cmocka_unit_test(test_parse_error_documents),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_token),
		cmocka_unit_test(test_parse_instance_names),
		cmocka_unit_test(test_parse_instance_names_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
