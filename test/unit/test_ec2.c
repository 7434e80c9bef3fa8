/*
 * The EC2 client against a scripted HTTP server on 127.0.0.1: each request
 * is recorded and answered with the next scripted answer, so the tests see
 * exactly what was sent (signed, form-encoded, paginated) and decide what
 * EC2 says back (pages, throttling, 5xx, errors).
 */
#include "testutil.h"
#include "scripted_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vpcflowd/aws.h"
#include "vpcflowd/entity.h"
#include "vpcflowd/http.h"

#define KEY_ID "AKIDEC2TESTEXAMPLE01"
#define SECRET "ec2SecretEXAMPLEkey/0123456789abcdefghij"

/* ---- the scripted server ---- */

#define MAX_SCRIPT 64

struct answer {
	int status;
	char *body;
	bool stop;               /* sets the stop flag when served */
};

static struct vf_test_http srv;
static struct {
	struct answer script[MAX_SCRIPT];
	int n_script, next;
} scr;

static char base_url[80];        /* http://127.0.0.1:PORT/ */
static atomic_int stop_flag;

/* Each request gets the next scripted answer. */
static void next_answer(const struct vf_test_req *r, struct vf_test_answer *a)
{
	(void)r;
	a->content_type = "text/xml;charset=UTF-8";
	a->status = 400;
	a->body = "<Response><Errors><Error><Code>TestScriptEnded</Code>"
		"<Message>no answer scripted</Message></Error></Errors>"
		"</Response>";
	if (scr.next < scr.n_script) {
		const struct answer *s = &scr.script[scr.next++];

		a->status = s->status;
		a->body = s->body;
		if (s->stop)
			atomic_store(&stop_flag, 1);
	}
}

static void server_start(void)
{
	vf_test_http_start(&srv, next_answer);
	snprintf(base_url, sizeof(base_url), "%s/", srv.url);
}

static void server_stop(void)
{
	vf_test_http_stop(&srv);
}

static void script_clear(void)
{
	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < scr.n_script; i++)
		free(scr.script[i].body);
	scr.n_script = scr.next = 0;
	vf_test_http_forget(&srv);
	pthread_mutex_unlock(&srv.mu);
}

static void script_add(int status, bool stop, char *body)
{
	pthread_mutex_lock(&srv.mu);
	assert_true(scr.n_script < MAX_SCRIPT);
	scr.script[scr.n_script++] = (struct answer){ status, body, stop };
	pthread_mutex_unlock(&srv.mu);
}

/* The next answer. */
__attribute__((format(printf, 2, 3)))
static void answer(int status, const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	assert_true(vasprintf(&body, fmt, ap) >= 0);
	va_end(ap);
	script_add(status, false, body);
}

static void answer_fixture(int status, const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "ec2/%s", name);
	script_add(status, false, vf_test_read(rel, NULL));
}

static void answer_error(int status, const char *code, const char *msg)
{
	answer(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Response><Errors><Error><Code>%s</Code><Message>%s</Message>"
		"</Error></Errors><RequestID>b1d2c3e4-0000-4000-8000-"
		"000000000001</RequestID></Response>", code, msg);
}

static int n_requests(void)
{
	int n;

	pthread_mutex_lock(&srv.mu);
	n = srv.n_reqs;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static const struct vf_test_req *req_at(int i)
{
	if (i >= n_requests())
		fail_msg("no request %d (%d made)", i, n_requests());
	return &srv.reqs[i];
}


/* ---- answers ---- */

static struct vf_buf page;

static void page_begin(void)
{
	vf_buf_finish(&page);
	vf_buf_init(&page, 8 << 20);
	assert_true(vf_buf_printf(&page, "<?xml version=\"1.0\" encoding="
		"\"UTF-8\"?>\n<DescribeNetworkInterfacesResponse xmlns=\"http://"
		"ec2.amazonaws.com/doc/2016-11-15/\"><requestId>0a1b2c3d-0000-"
		"4000-8000-000000000000</requestId><networkInterfaceSet>"));
}

/* An interface; instance NULL: not attached. */
static void page_eni(const char *id, const char *ip, const char *instance,
	const char *description, const char *name_tag)
{
	assert_true(vf_buf_printf(&page, "<item><networkInterfaceId>%s"
		"</networkInterfaceId><subnetId>subnet-1</subnetId><vpcId>vpc-1"
		"</vpcId><description>%s</description><ownerId>123456789012"
		"</ownerId><requesterManaged>false</requesterManaged>"
		"<privateIpAddress>%s</privateIpAddress>", id, description, ip));
	if (instance != NULL)
		assert_true(vf_buf_printf(&page, "<attachment><instanceId>%s"
			"</instanceId><instanceOwnerId>123456789012"
			"</instanceOwnerId></attachment>", instance));
	if (name_tag != NULL)
		assert_true(vf_buf_printf(&page, "<tagSet><item><key>Name</key>"
			"<value>%s</value></item></tagSet>", name_tag));
	else
		assert_true(vf_buf_printf(&page, "<tagSet/>"));
	assert_true(vf_buf_printf(&page, "<privateIpAddressesSet><item>"
		"<privateIpAddress>%s</privateIpAddress><primary>true</primary>"
		"</item></privateIpAddressesSet><interfaceType>interface"
		"</interfaceType></item>", ip));
}

/* Ends the page (token NULL: the last) and scripts it. */
static void page_answer(const char *token)
{
	assert_true(vf_buf_printf(&page, "</networkInterfaceSet>"));
	if (token != NULL)
		assert_true(vf_buf_printf(&page, "<nextToken>%s</nextToken>",
			token));
	assert_true(vf_buf_printf(&page, "</DescribeNetworkInterfacesResponse>"));
	assert_true(vf_buf_append(&page, "", 1));
	answer(200, "%s", page.data);
}

/* A DescribeInstances answer; pairs of id and Name ("" for no tag). */
static void instances_answer(const char *token, size_t n,
	const char *const *pairs)
{
	struct vf_buf b;

	vf_buf_init(&b, 8 << 20);
	assert_true(vf_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\""
		"?>\n<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/"
		"doc/2016-11-15/\"><requestId>x</requestId><reservationSet><item>"
		"<reservationId>r-1</reservationId><instancesSet>"));
	for (size_t i = 0; i < n; i++) {
		assert_true(vf_buf_printf(&b, "<item><instanceId>%s</instanceId>"
			"<instanceState><code>16</code><name>running</name>"
			"</instanceState>", pairs[2 * i]));
		if (pairs[2 * i + 1][0] != '\0')
			assert_true(vf_buf_printf(&b, "<tagSet><item><key>Name"
				"</key><value>%s</value></item></tagSet>",
				pairs[2 * i + 1]));
		assert_true(vf_buf_printf(&b, "</item>"));
	}
	assert_true(vf_buf_printf(&b, "</instancesSet></item></reservationSet>"));
	if (token != NULL)
		assert_true(vf_buf_printf(&b, "<nextToken>%s</nextToken>", token));
	assert_true(vf_buf_printf(&b, "</DescribeInstancesResponse>"));
	assert_true(vf_buf_append(&b, "", 1));
	answer(200, "%s", b.data);
	vf_buf_finish(&b);
}

/* ---- the client ---- */

static struct vf_aws_creds_provider *creds;

static struct vf_ec2 *client(const char *endpoint)
{
	struct vf_ec2_opts o = {
		.region = "us-east-1",
		.endpoint = endpoint ? endpoint : base_url,
		.creds = creds,
		.stop = &stop_flag,
	};
	struct vf_ec2 *c = vf_ec2_create(&o);

	assert_non_null(c);
	return c;
}

static bool load(struct vf_entity_list *l, char *err, size_t errlen)
{
	struct vf_ec2 *c = client(NULL);
	bool ok;

	err[0] = '\0';
	ok = vf_ec2_load_entities(c, l, err, errlen);
	vf_ec2_destroy(c);
	if (err[0] != '\0') {
		assert_null(strstr(err, SECRET));
		for (const char *p = err; *p != '\0'; p++)
			assert_true((unsigned char)*p >= 0x20);
	}
	return ok;
}

static void load_ok(struct vf_entity_list *l)
{
	char err[1024];

	if (!load(l, err, sizeof(err)))
		fail_msg("load failed: %s", err);
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

/* The request is a signed DescribeNetworkInterfaces POST with body. */
static void assert_signed(const struct vf_test_req *r, const char *body)
{
	static const char pre[] = "AWS4-HMAC-SHA256 Credential=" KEY_ID "/";
	char auth[1024];

	snprintf(auth, sizeof(auth), "%s", vf_test_header(r, "Authorization"));
	assert_string_equal(r->path, "/");
	assert_string_equal(vf_test_header(r, "Content-Type"),
		"application/x-www-form-urlencoded; charset=utf-8");
	if (strncmp(auth, pre, sizeof(pre) - 1) != 0 || strstr(auth,
	    "/us-east-1/ec2/aws4_request, SignedHeaders=") == NULL ||
	    strstr(auth, "Signature=") == NULL)
		fail_msg("bad Authorization: %s", auth);
	assert_true(strlen(vf_test_header(r, "X-Amz-Date")) == 16);
	assert_null(strstr(r->headers, SECRET));
	if (body != NULL)
		assert_string_equal(r->body, body);
}

#define FIRST_PAGE "Action=DescribeNetworkInterfaces&Version=2016-11-15" \
	"&MaxResults=1000"

static int group_setup(void **state)
{
	static const char *const proxies[] = { "http_proxy", "HTTP_PROXY",
		"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	struct vf_aws_creds_opts co = { .region = "us-east-1" };
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_true(vf_http_global_init());
	creds = vf_aws_creds_create(&co, err, sizeof(err));
	if (creds == NULL)
		fail_msg("credentials: %s", err);
	server_start();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	script_clear();
	server_stop();
	vf_aws_creds_destroy(creds);
	vf_buf_finish(&page);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	script_clear();
	atomic_store(&stop_flag, 0);
	return 0;
}

/* ---- tests ---- */

static void test_pagination(void **state)
{
	struct vf_entity_list l;

	(void)state;
	page_begin();
	page_eni("eni-1", "10.0.0.1", NULL, "one", NULL);
	page_eni("eni-2", "10.0.0.2", NULL, "two", NULL);
	page_answer("page+2/==");
	page_begin();
	page_eni("eni-3", "10.0.0.3", NULL, "three", NULL);
	page_answer("p3 &amp; more~_.-");
	page_begin();
	page_eni("eni-4", "10.0.0.4", NULL, "four", NULL);
	page_answer(NULL);

	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 3);
	assert_signed(req_at(0), FIRST_PAGE);
	assert_signed(req_at(1), FIRST_PAGE "&NextToken=page%2B2%2F%3D%3D");
	assert_signed(req_at(2), FIRST_PAGE "&NextToken=p3%20%26%20more~_.-");
	assert_int_equal(l.n_entities, 4);
	assert_int_equal(l.n_addrs, 4);
	for (int i = 0; i < 4; i++) {
		char want[16];

		snprintf(want, sizeof(want), "eni:eni-%d", i + 1);
		assert_string_equal(l.entities[i].entity, want);
		assert_int_equal(l.addrs[i].entity, i);
		assert_int_equal(l.addrs[i].addr.b[3], i + 1);
	}
	assert_string_equal(l.entities[2].description, "three");
	vf_entity_list_finish(&l);
}

static void test_fixture_pages(void **state)
{
	struct vf_entity_list l;

	(void)state;
	answer_fixture(200, "synthetic-all-types.xml");
	answer_fixture(200, "synthetic-more-types.xml");
	answer_fixture(200, "synthetic-describe-instances.xml");
	instances_answer(NULL, 0, NULL);
	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 4);
	assert_signed(req_at(1), FIRST_PAGE "&NextToken="
		"AAEAAbY2VyRkXm8pN%2FZH%2Bsynthetic%2Bpage2%3D%3D");
	/* the unnamed EC2 interfaces, sorted: 2, 14 is ECS, 28, 30, 31 */
	assert_signed(req_at(2), "Action=DescribeInstances&Version=2016-11-15"
		"&InstanceId.1=i-0f000000000000002&InstanceId.2=i-0f000000000000028"
		"&InstanceId.3=i-0f000000000000030&InstanceId.4=i-0f000000000000031");
	assert_signed(req_at(3), "Action=DescribeInstances&Version=2016-11-15"
		"&InstanceId.1=i-0f000000000000002&InstanceId.2=i-0f000000000000028"
		"&InstanceId.3=i-0f000000000000030&InstanceId.4=i-0f000000000000031"
		"&NextToken=eyJ2IjoxLCJzeW50aGV0aWMiOnRydWV9");
	assert_int_equal(l.n_entities, 32);
	/* the interface's own Name tag stays; i-...01 is not even asked */
	assert_string_equal(find(&l, "eni-0f000000000000001")->description,
		"web-1 eth0");
	/* the instance has no Name tag: the interface description stays */
	assert_string_equal(find(&l, "eni-0f000000000000002")->description,
		"Primary network interface");
	assert_string_equal(find(&l, "eni-0f000000000000028")->description,
		"ecs-host-1");
	assert_string_equal(find(&l, "eni-0f000000000000014")->description,
		"arn:aws:ecs:us-east-1:123456789012:attachment/"
		"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
	vf_entity_list_finish(&l);
}

static void test_throttled_then_ok(void **state)
{
	struct vf_entity_list l;

	(void)state;
	answer_fixture(503, "synthetic-error-request-limit.xml");
	answer_error(400, "Throttling", "Rate exceeded");
	page_begin();
	page_eni("eni-1", "10.0.0.1", NULL, "one", NULL);
	page_answer(NULL);
	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 3);
	for (int i = 0; i < 3; i++)
		assert_signed(req_at(i), FIRST_PAGE);
	assert_int_equal(l.n_entities, 1);
	vf_entity_list_finish(&l);
}

static void test_5xx_then_ok(void **state)
{
	struct vf_entity_list l;

	(void)state;
	answer(500, "%s", "");
	answer_error(503, "Unavailable", "Service unavailable");
	answer(200, "<DescribeNetworkInterfacesResponse><networkInterfaceSet>"
		"<item>");                           /* cut short */
	page_begin();
	page_eni("eni-1", "10.0.0.1", NULL, "one", NULL);
	page_answer(NULL);
	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 4);
	assert_int_equal(l.n_entities, 1);
	vf_entity_list_finish(&l);
}

static void test_gives_up(void **state)
{
	struct vf_entity_list l;
	char err[512];

	(void)state;
	for (int i = 0; i < 8; i++)
		answer_fixture(503, "synthetic-error-request-limit.xml");
	vf_entity_list_init(&l);
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 5);
	assert_string_equal(err, "EC2 DescribeNetworkInterfaces in us-east-1: "
		"RequestLimitExceeded: Request limit exceeded. (given up after "
		"5 attempts)");
	vf_entity_list_finish(&l);
}

static void test_auth_failure(void **state)
{
	struct vf_entity_list l;
	char err[512];

	(void)state;
	answer_fixture(401, "synthetic-error-authfailure.xml");
	vf_entity_list_init(&l);
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 1);
	assert_string_equal(err, "EC2 DescribeNetworkInterfaces in us-east-1: "
		"AuthFailure: AWS was not able to validate the provided access "
		"credentials");
	assert_int_equal(l.n_entities, 0);
	vf_entity_list_finish(&l);
}

static void test_error_without_document(void **state)
{
	struct vf_entity_list l;
	char err[512];

	(void)state;
	answer(403, "<html><body>Forbidden</body></html>");
	vf_entity_list_init(&l);
	assert_false(load(&l, err, sizeof(err)));
	assert_string_equal(err, "EC2 DescribeNetworkInterfaces in us-east-1: "
		"HTTP 403");
	vf_entity_list_finish(&l);
}

static void test_error_on_later_page(void **state)
{
	struct vf_entity_list l;
	char err[512];

	(void)state;
	page_begin();
	page_eni("eni-1", "10.0.0.1", NULL, "one", NULL);
	page_answer("next");
	answer_error(403, "UnauthorizedOperation", "You are not authorized "
		"to perform this operation.");
	vf_entity_list_init(&l);
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 2);
	assert_string_equal(err, "EC2 DescribeNetworkInterfaces in us-east-1: "
		"UnauthorizedOperation: You are not authorized to perform this "
		"operation.");
	vf_entity_list_finish(&l);
}

static void test_repeated_token(void **state)
{
	struct vf_entity_list l;
	char err[512];

	(void)state;
	for (int i = 0; i < 3; i++) {
		page_begin();
		page_eni("eni-1", "10.0.0.1", NULL, "one", NULL);
		page_answer(i == 0 ? "a" : "b");
	}
	vf_entity_list_init(&l);
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 3);
	assert_non_null(strstr(err, "nextToken repeats"));
	vf_entity_list_finish(&l);
}

/* Name tags fill the unnamed EC2 interfaces, also after other regions. */
static void test_instance_names(void **state)
{
	static const char *const names1[] = {
		"i-1", "web-1", "i-2", "not used: the interface has a Name",
	};
	static const char *const names2[] = { "i-3", "" };
	struct vf_entity_list l;
	struct vf_entity other = { .entity = "ec2:i-1", .aws_type = "EC2",
		.description = "another region", .instance_id = "i-1" };

	(void)state;
	page_begin();
	page_eni("eni-a", "10.0.0.1", "i-1", "Primary network interface",
		NULL);
	page_eni("eni-b", "10.0.0.2", "i-3", "Primary network interface",
		NULL);
	page_answer("t1");
	page_begin();
	page_eni("eni-c", "10.0.0.3", "i-2", "Primary network interface",
		"eni-named");
	page_eni("eni-d", "10.0.0.4", "i-1", "second interface", NULL);
	page_eni("eni-e", "10.0.0.5", NULL, "ELB app/my-alb/1", NULL);
	page_answer(NULL);
	instances_answer("n/1", 2, names1);
	instances_answer(NULL, 1, names2);

	vf_entity_list_init(&l);
	assert_true(vf_entity_list_add(&l, &other));
	load_ok(&l);
	assert_int_equal(n_requests(), 4);
	assert_signed(req_at(2), "Action=DescribeInstances&Version=2016-11-15"
		"&InstanceId.1=i-1&InstanceId.2=i-3");
	assert_signed(req_at(3), "Action=DescribeInstances&Version=2016-11-15"
		"&InstanceId.1=i-1&InstanceId.2=i-3&NextToken=n%2F1");
	assert_int_equal(l.n_entities, 6);
	assert_string_equal(l.entities[0].description, "another region");
	assert_string_equal(find(&l, "eni-a")->description, "web-1");
	assert_string_equal(find(&l, "eni-d")->description, "web-1");
	assert_string_equal(find(&l, "eni-b")->description,
		"Primary network interface");
	assert_string_equal(find(&l, "eni-c")->description, "eni-named");
	assert_string_equal(find(&l, "eni-e")->description, "ELB app/my-alb/1");
	vf_entity_list_finish(&l);
}

/* 250 instances: three DescribeInstances calls of 100, 100 and 50 ids. */
static void test_instance_batches(void **state)
{
	const char *pairs[200];
	char ids[250][16], names[250][24];
	struct vf_entity_list l;

	(void)state;
	for (int i = 0; i < 250; i++) {
		snprintf(ids[i], sizeof(ids[i]), "i-%03d", i);
		snprintf(names[i], sizeof(names[i]), "host-%03d", i);
	}
	page_begin();
	for (int i = 0; i < 250; i++) {
		char eni[16], ip[16];

		snprintf(eni, sizeof(eni), "eni-%03d", 249 - i);
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200);
		/* listed in reverse: the client sorts */
		page_eni(eni, ip, ids[249 - i], "Primary network interface",
			NULL);
	}
	page_answer(NULL);
	for (int b = 0; b < 3; b++) {
		int n = b < 2 ? 100 : 50;

		for (int i = 0; i < n; i++) {
			pairs[2 * i] = ids[b * 100 + i];
			pairs[2 * i + 1] = names[b * 100 + i];
		}
		instances_answer(NULL, (size_t)n, pairs);
	}
	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 4);
	for (int b = 0; b < 3; b++) {
		const char *body = req_at(1 + b)->body;
		char want[64];

		snprintf(want, sizeof(want), "&InstanceId.1=i-%03d&", b * 100);
		assert_non_null(strstr(body, want));
		snprintf(want, sizeof(want), "&InstanceId.%d=i-%03d",
			b < 2 ? 100 : 50, b < 2 ? b * 100 + 99 : 249);
		assert_non_null(strstr(body, want));
		assert_null(strstr(body, b < 2 ? "InstanceId.101=" :
			"InstanceId.51="));
	}
	for (size_t i = 0; i < l.n_entities; i++) {
		char want[24];

		snprintf(want, sizeof(want), "host-%s",
			l.entities[i].instance_id + 2);
		assert_string_equal(l.entities[i].description, want);
	}
	vf_entity_list_finish(&l);
}

/* An instance ended between the calls: the batch is asked by filter. */
static void test_instance_not_found(void **state)
{
	static const char *const names[] = { "i-1", "web-1" };
	struct vf_entity_list l;

	(void)state;
	page_begin();
	page_eni("eni-a", "10.0.0.1", "i-1", "Primary network interface",
		NULL);
	page_eni("eni-b", "10.0.0.2", "i-gone", "Primary network interface",
		NULL);
	page_answer(NULL);
	answer_error(400, "InvalidInstanceID.NotFound", "The instance ID "
		"'i-gone' does not exist");
	instances_answer(NULL, 1, names);
	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 3);
	assert_signed(req_at(2), "Action=DescribeInstances&Version=2016-11-15"
		"&Filter.1.Name=instance-id&Filter.1.Value.1=i-1"
		"&Filter.1.Value.2=i-gone");
	assert_string_equal(find(&l, "eni-a")->description, "web-1");
	assert_string_equal(find(&l, "eni-b")->description,
		"Primary network interface");
	vf_entity_list_finish(&l);
}

/* No DescribeInstances permission: the interfaces still load. */
static void test_instance_names_denied(void **state)
{
	struct vf_entity_list l;

	(void)state;
	page_begin();
	page_eni("eni-a", "10.0.0.1", "i-1", "Primary network interface",
		NULL);
	page_answer(NULL);
	answer_error(403, "UnauthorizedOperation", "You are not authorized "
		"to perform this operation.");
	vf_entity_list_init(&l);
	load_ok(&l);
	assert_int_equal(n_requests(), 2);
	assert_int_equal(l.n_entities, 1);
	assert_string_equal(l.entities[0].entity, "ec2:i-1");
	assert_string_equal(l.entities[0].description,
		"Primary network interface");
	vf_entity_list_finish(&l);
}

static void test_stop(void **state)
{
	struct vf_entity_list l;
	char err[512];

	(void)state;
	/* set while a retry would be due */
	answer_fixture(503, "synthetic-error-request-limit.xml");
	scr.script[0].stop = true;
	answer_fixture(503, "synthetic-error-request-limit.xml");
	vf_entity_list_init(&l);
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 1);
	assert_string_equal(err, "EC2 DescribeNetworkInterfaces in us-east-1: "
		"stopped");

	/* set between pages */
	script_clear();
	atomic_store(&stop_flag, 0);
	page_begin();
	page_eni("eni-1", "10.0.0.1", NULL, "one", NULL);
	page_answer("more");
	scr.script[0].stop = true;
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 1);
	assert_non_null(strstr(err, "stopped"));

	/* set before */
	script_clear();
	assert_false(load(&l, err, sizeof(err)));
	assert_int_equal(n_requests(), 0);
	vf_entity_list_finish(&l);
}

static void test_network_error(void **state)
{
	struct vf_entity_list l;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	char url[64], err[512];
	struct vf_ec2 *c;
	int fd;

	(void)state;
	/* a port nobody listens on */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	c = client(url);
	vf_entity_list_init(&l);
	assert_false(vf_ec2_load_entities(c, &l, err, sizeof(err)));
	close(fd);
	assert_true(strncmp(err, "EC2 DescribeNetworkInterfaces in us-east-1: ",
		44) == 0);
	assert_non_null(strstr(err, "(given up after 5 attempts)"));
	vf_ec2_destroy(c);
	vf_entity_list_finish(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pagination, setup),
		cmocka_unit_test_setup(test_fixture_pages, setup),
		cmocka_unit_test_setup(test_throttled_then_ok, setup),
		cmocka_unit_test_setup(test_5xx_then_ok, setup),
		cmocka_unit_test_setup(test_gives_up, setup),
		cmocka_unit_test_setup(test_auth_failure, setup),
		cmocka_unit_test_setup(test_error_without_document, setup),
		cmocka_unit_test_setup(test_error_on_later_page, setup),
		cmocka_unit_test_setup(test_repeated_token, setup),
		cmocka_unit_test_setup(test_instance_names, setup),
		cmocka_unit_test_setup(test_instance_batches, setup),
		cmocka_unit_test_setup(test_instance_not_found, setup),
		cmocka_unit_test_setup(test_instance_names_denied, setup),
		cmocka_unit_test_setup(test_stop, setup),
		cmocka_unit_test_setup(test_network_error, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
