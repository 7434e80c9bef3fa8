/*
 * The credential provider chain against a scripted HTTP server on
 * 127.0.0.1 that stands in for IMDS, the container endpoint and STS.
 * Every endpoint is pointed at loopback; HOME is a temporary directory.
 */
#include "testutil.h"
#include "scripted_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vpcflowd/aws.h"
#include "../../src/aws/credentials_internal.h"

/* Every value that must never show in an error. */
#define ENV_ID "AKIAENVEXAMPLE0000001"
#define ENV_SECRET "envSecretEXAMPLEkey/0123456789abcdefghij"
#define ENV_TOKEN "envSessionTokenEXAMPLE0123456789"
#define FILE_ID "AKIAFILEEXAMPLE000001"
#define FILE_SECRET "fileSecretEXAMPLEkey/0123456789abcdefgh"
#define DEV_ID "AKIADEVEXAMPLE0000001"
#define DEV_SECRET "devSecretEXAMPLEkey/0123456789abcdefghi"
#define CFG_ID "AKIACFGEXAMPLE0000001"
#define CFG_SECRET "cfgSecretEXAMPLEkey/0123456789abcdefghi"
#define IMDS_ID "ASIAIMDSEXAMPLE000001"
#define IMDS_SECRET "imdsSecretEXAMPLEkey/0123456789abcdefgh"
#define IMDS_TOKEN "imdsSessionTokenEXAMPLE0123456789"
#define IMDS_V2 "imdsV2TokenSECRET-AQAEAExample=="
#define ECS_ID "ASIAECSEXAMPLE0000001"
#define ECS_SECRET "ecsSecretEXAMPLEkey/0123456789abcdefghi"
#define ECS_TOKEN "ecsSessionTokenEXAMPLE0123456789"
#define ECS_AUTH "ecsAuthorizationSECRET-0123"
#define STS_ID "ASIASTSEXAMPLE0000001"
#define STS_SECRET "stsSecretEXAMPLEkey/0123456789abcdefghi"
#define STS_TOKEN "stsSessionTokenEXAMPLE0123456789+/="
#define WEB_TOKEN "eyJwebIdentityTokenSECRET.payload.signature"
#define EXT_ID "ext-SECRET-4711"

static const char *const all_secrets[] = {
	ENV_ID, ENV_SECRET, ENV_TOKEN, FILE_ID, FILE_SECRET, DEV_ID, DEV_SECRET,
	CFG_ID, CFG_SECRET, IMDS_ID, IMDS_SECRET, IMDS_TOKEN, IMDS_V2, ECS_ID,
	ECS_SECRET, ECS_TOKEN, ECS_AUTH, STS_ID, STS_SECRET, STS_TOKEN,
	WEB_TOKEN, EXT_ID,
};

#define APP_ROLE "arn:aws:iam::123456789012:role/app"
#define APP_ROLE_ENC "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fapp"
#define CREDS_PATH "/latest/meta-data/iam/security-credentials/"

/* ---- the scripted server ---- */

#define MAX_ROUTES 16

/* What the server answers to method path (the query string ignored). */
struct route {
	char method[8];
	char path[256];
	int status;
	char *body;
};

static struct vf_test_http srv;
static struct {
	struct route routes[MAX_ROUTES];
	int n_routes;
} rts;

static char base_url[80];        /* http://127.0.0.1:PORT */
static char home[256];
static int64_t fake_now;

static int64_t test_clock(void)
{
	return fake_now;
}

/* The route of r, else 404. */
static void route_answer(const struct vf_test_req *r, struct vf_test_answer *a)
{
	a->status = 404;
	a->body = "no route";
	for (int i = 0; i < rts.n_routes; i++) {
		if (strcmp(rts.routes[i].method, r->method) == 0 &&
		    strcmp(rts.routes[i].path, r->path) == 0) {
			a->status = rts.routes[i].status;
			a->body = rts.routes[i].body;
			break;
		}
	}
}

static void server_start(void)
{
	vf_test_http_start(&srv, route_answer);
	snprintf(base_url, sizeof(base_url), "%s", srv.url);
}

static void server_stop(void)
{
	vf_test_http_stop(&srv);
}

static void routes_clear(void)
{
	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < rts.n_routes; i++)
		free(rts.routes[i].body);
	rts.n_routes = 0;
	vf_test_http_forget(&srv);
	pthread_mutex_unlock(&srv.mu);
}

/* Adds a route, or replaces the one with the same method and path. */
__attribute__((format(printf, 4, 5)))
static void route(const char *method, const char *path, int status,
	const char *fmt, ...)
{
	struct route *rt = NULL;
	va_list ap;
	char *body;

	va_start(ap, fmt);
	assert_true(vasprintf(&body, fmt, ap) >= 0);
	va_end(ap);
	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < rts.n_routes; i++)
		if (strcmp(rts.routes[i].method, method) == 0 &&
		    strcmp(rts.routes[i].path, path) == 0)
			rt = &rts.routes[i];
	if (rt == NULL) {
		assert_true(rts.n_routes < MAX_ROUTES);
		rt = &rts.routes[rts.n_routes++];
		snprintf(rt->method, sizeof(rt->method), "%s", method);
		snprintf(rt->path, sizeof(rt->path), "%s", path);
	} else {
		free(rt->body);
	}
	rt->status = status;
	rt->body = body;
	pthread_mutex_unlock(&srv.mu);
}

static int hits(const char *method, const char *path)
{
	int n = 0;

	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.n_reqs; i++)
		if ((method == NULL || strcmp(srv.reqs[i].method, method) == 0) &&
		    (path == NULL || strcmp(srv.reqs[i].path, path) == 0))
			n++;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/* The nth (0: first) recorded request to method path; the test fails without. */
static const struct vf_test_req *req_at(const char *method, const char *path, int nth)
{
	const struct vf_test_req *r = NULL;

	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.n_reqs; i++) {
		if (strcmp(srv.reqs[i].method, method) == 0 &&
		    strcmp(srv.reqs[i].path, path) == 0 && nth-- == 0) {
			r = &srv.reqs[i];
			break;
		}
	}
	pthread_mutex_unlock(&srv.mu);
	if (r == NULL)
		fail_msg("no request %d to %s %s", nth, method, path);
	return r;
}


/* ---- fixtures ---- */

static const char *iso(int64_t t)
{
	static char bufs[4][32];
	static int i;
	time_t tt = (time_t)t;
	struct tm tm;
	char *b = bufs[i++ % 4];

	gmtime_r(&tt, &tm);
	strftime(b, sizeof(bufs[0]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static const char *home_path(const char *rel)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", home, rel);
	return b;
}

static void imds_routes(int64_t exp)
{
	route("PUT", "/latest/api/token", 200, IMDS_V2);
	route("GET", CREDS_PATH, 200, "flow-reader\n");
	route("GET", CREDS_PATH "flow-reader", 200, "{\"Code\": \"Success\", "
		"\"LastUpdated\": \"%s\", \"Type\": \"AWS-HMAC\", "
		"\"AccessKeyId\": \"" IMDS_ID "\", \"SecretAccessKey\": \""
		IMDS_SECRET "\", \"Token\": \"" IMDS_TOKEN "\", "
		"\"Expiration\": \"%s\"}", iso(fake_now), iso(exp));
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", base_url, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
}

static void container_route(int64_t exp)
{
	route("GET", "/ecs/creds", 200, "{\"AccessKeyId\": \"" ECS_ID "\", "
		"\"SecretAccessKey\": \"" ECS_SECRET "\", \"Token\": \""
		ECS_TOKEN "\", \"Expiration\": \"%s\", \"AccountId\": "
		"\"123456789012\"}", iso(exp));
}

static void container_full_uri(void)
{
	char url[128];

	snprintf(url, sizeof(url), "%s/ecs/creds", base_url);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
}

static void sts_route(const char *action, int64_t exp)
{
	route("POST", "/", 200, "<%sResponse xmlns=\"https://sts.amazonaws.com/"
		"doc/2011-06-15/\">\n  <%sResult>\n    <AssumedRoleUser>"
		"<Arn>arn:aws:sts::123456789012:assumed-role/app/s</Arn>"
		"<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>\n"
		"    <Credentials>\n      <AccessKeyId>" STS_ID "</AccessKeyId>\n"
		"      <SecretAccessKey>" STS_SECRET "</SecretAccessKey>\n"
		"      <SessionToken>" STS_TOKEN "</SessionToken>\n"
		"      <Expiration>%s</Expiration>\n    </Credentials>\n"
		"  </%sResult>\n  <ResponseMetadata><RequestId>r-1</RequestId>"
		"</ResponseMetadata>\n</%sResponse>\n", action, action, iso(exp),
		action, action);
}

static void env_keys(bool token)
{
	setenv("AWS_ACCESS_KEY_ID", ENV_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET, 1);
	if (token)
		setenv("AWS_SESSION_TOKEN", ENV_TOKEN, 1);
}

static void files_default(void)
{
	write_file(home_path(".aws/credentials"), "[default]\n"
		"aws_access_key_id = " FILE_ID "\n"
		"aws_secret_access_key = " FILE_SECRET "\n");
}

/* No AWS_* variable but those a test sets; nothing reaches out of loopback. */
static void env_reset(void)
{
	char names[64][128];
	int n = 0;
	char sts[128];

	for (char **e = environ; *e != NULL && n < 64; e++) {
		const char *eq = strchr(*e, '=');
		if (strncmp(*e, "AWS_", 4) == 0 && eq != NULL &&
		    (size_t)(eq - *e) < sizeof(names[0]))
			snprintf(names[n++], sizeof(names[0]), "%.*s",
				(int)(eq - *e), *e);
	}
	for (int i = 0; i < n; i++)
		unsetenv(names[i]);
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	snprintf(sts, sizeof(sts), "%s/", base_url);
	setenv("AWS_ENDPOINT_URL_STS", sts, 1);
	setenv("AWS_REGION", "eu-west-1", 1);
}

static void reset_all(void)
{
	env_reset();
	routes_clear();
	unlink(home_path(".aws/credentials"));
	unlink(home_path(".aws/config"));
	unlink(home_path("token"));
	unlink(home_path("web-token"));
	unlink(home_path("alt-config"));
	fake_now = (int64_t)time(NULL);
}

static int group_setup(void **state)
{
	static const char *const proxies[] = { "http_proxy", "HTTP_PROXY",
		"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	char tmpl[] = "/tmp/vf-creds-XXXXXX";

	(void)state;
	/* curl would send the loopback requests to a proxy */
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	assert_non_null(mkdtemp(tmpl));
	snprintf(home, sizeof(home), "%s", tmpl);
	assert_int_equal(mkdir(home_path(".aws"), 0700), 0);
	server_start();
	vf_creds_test_set_clock(test_clock);
	vf_creds_test_set_container_base(base_url);
	vf_creds_test_set_container_pause(0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	reset_all();
	server_stop();
	rmdir(home_path(".aws"));
	rmdir(home);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	reset_all();
	return 0;
}

/* The error names something and quotes no key, secret or token. */
static void assert_clean(const char *err)
{
	assert_true(err[0] != '\0');
	for (size_t i = 0; i < sizeof(all_secrets) / sizeof(all_secrets[0]); i++)
		if (strstr(err, all_secrets[i]) != NULL)
			fail_msg("error quotes a secret (%s): %s", all_secrets[i],
				err);
	for (const char *p = err; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static struct vf_aws_creds_provider *mk(const struct vf_aws_creds_opts *o)
{
	struct vf_aws_creds_provider *p;
	char err[1024];

	err[0] = '\0';
	p = vf_aws_creds_create(o, err, sizeof(err));
	if (p == NULL)
		fail_msg("create: %s", err);
	return p;
}

static void get_ok(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *c)
{
	char err[2048];

	err[0] = '\0';
	if (!vf_aws_creds_get(p, c, err, sizeof(err)))
		fail_msg("get: %s", err);
}

/* Gets from a provider made with o (NULL: none) and expects a failure. */
static void fail_with(const struct vf_aws_creds_opts *o, const char *expect)
{
	struct vf_aws_creds_provider *p = mk(o);
	struct vf_aws_credentials c;
	char err[2048];

	err[0] = '\0';
	if (vf_aws_creds_get(p, &c, err, sizeof(err)))
		fail_msg("got credentials, expected an error with \"%s\"", expect);
	if (getenv("VF_TEST_VERBOSE") != NULL)
		print_message("  error: %s\n", err);
	assert_clean(err);
	if (strstr(err, expect) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, expect);
	vf_aws_creds_destroy(p);
}

static void expect_creds(const struct vf_aws_credentials *c, const char *id,
	const char *secret, const char *token)
{
	assert_string_equal(c->access_key_id, id);
	assert_string_equal(c->secret_access_key, secret);
	assert_string_equal(c->session_token, token);
}

/* Gets once from a fresh provider and checks the keys. */
static void expect_source(const struct vf_aws_creds_opts *o, const char *id,
	const char *secret, const char *token)
{
	struct vf_aws_creds_provider *p = mk(o);
	struct vf_aws_credentials c;

	get_ok(p, &c);
	expect_creds(&c, id, secret, token);
	vf_aws_creds_destroy(p);
}

/* ---- environment ---- */

static void test_env_static(void **state)
{
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;

	env_keys(false);
	p = mk(NULL);
	get_ok(p, &c);
	expect_creds(&c, ENV_ID, ENV_SECRET, "");
	assert_int_equal(c.expiration, 0);
	fake_now += 86400 * 30;
	get_ok(p, &c);
	expect_creds(&c, ENV_ID, ENV_SECRET, "");
	vf_aws_creds_destroy(p);
	assert_int_equal(hits(NULL, NULL), 0);
}

static void test_env_session_token(void **state)
{
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;

	env_keys(true);
	expect_source(NULL, ENV_ID, ENV_SECRET, ENV_TOKEN);

	/* the legacy name */
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_SECURITY_TOKEN", ENV_TOKEN, 1);
	expect_source(NULL, ENV_ID, ENV_SECRET, ENV_TOKEN);

	/* with an expiration: temporary, read again when due */
	setenv("AWS_CREDENTIAL_EXPIRATION", iso(fake_now + 3600), 1);
	p = mk(NULL);
	get_ok(p, &c);
	assert_int_equal(c.expiration, fake_now + 3600);
	setenv("AWS_SECRET_ACCESS_KEY", DEV_SECRET, 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", iso(fake_now + 7200), 1);
	get_ok(p, &c);
	assert_string_equal(c.secret_access_key, ENV_SECRET);
	fake_now += 3600 - 800;          /* inside the 15-minute window */
	get_ok(p, &c);
	assert_string_equal(c.secret_access_key, DEV_SECRET);
	assert_int_equal(c.expiration, fake_now - 3600 + 800 + 7200);
	vf_aws_creds_destroy(p);
}

/* ---- files and profiles ---- */

static void test_file_default(void **state)
{
	files_default();
	expect_source(NULL, FILE_ID, FILE_SECRET, "");
}

static void test_file_named_profile(void **state)
{
	struct vf_aws_creds_opts o = { .profile = "dev" };

	write_file(home_path(".aws/credentials"),
		"# a comment\n"
		"; another\n"
		"[default]\n"
		"aws_access_key_id = " FILE_ID "\n"
		"aws_secret_access_key = " FILE_SECRET "\n"
		"\n"
		"[dev]\r\n"
		"AWS_ACCESS_KEY_ID=" DEV_ID "   ; inline comment\r\n"
		"aws_secret_access_key: " DEV_SECRET "\r\n"
		"aws_session_token = " ENV_TOKEN " # a comment\r\n"
		"s3 =\n"
		"  aws_access_key_id = " CFG_ID "\n");
	expect_source(&o, DEV_ID, DEV_SECRET, ENV_TOKEN);
	setenv("AWS_PROFILE", "dev", 1);
	expect_source(NULL, DEV_ID, DEV_SECRET, ENV_TOKEN);
	unsetenv("AWS_PROFILE");
	setenv("AWS_DEFAULT_PROFILE", "dev", 1);
	expect_source(NULL, DEV_ID, DEV_SECRET, ENV_TOKEN);
	unsetenv("AWS_DEFAULT_PROFILE");
	expect_source(NULL, FILE_ID, FILE_SECRET, "");

	/* a profile named explicitly must exist */
	setenv("AWS_PROFILE", "nope", 1);
	fail_with(NULL, "profile \"nope\"");
}

static void test_config_profile(void **state)
{
	write_file(home_path("alt-config"),
		"[default]\n"
		"region = eu-west-1\n"
		"[profile   ops ]\n"
		"aws_access_key_id = " CFG_ID "\n"
		"aws_secret_access_key = " CFG_SECRET "\n"
		"[plain]\n"
		"aws_access_key_id = " DEV_ID "\n"
		"aws_secret_access_key = " DEV_SECRET "\n");
	setenv("AWS_CONFIG_FILE", home_path("alt-config"), 1);
	setenv("AWS_PROFILE", "ops", 1);
	expect_source(NULL, CFG_ID, CFG_SECRET, "");

	/* the credentials file's section wins over the config file's */
	write_file(home_path(".aws/credentials"), "[ops]\n"
		"aws_access_key_id = " FILE_ID "\n"
		"aws_secret_access_key = " FILE_SECRET "\n");
	expect_source(NULL, FILE_ID, FILE_SECRET, "");

	/* [plain] in the config file is not a profile */
	setenv("AWS_PROFILE", "plain", 1);
	fail_with(NULL, "profile \"plain\"");

	/* the default profile without keys: the chain goes on (to nothing) */
	unsetenv("AWS_PROFILE");
	fail_with(NULL, "no AWS credentials found");
}

static void test_profile_assume_role(void **state)
{
	struct vf_aws_creds_opts o = { .profile = "app" };
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;
	const struct vf_test_req *r;

	write_file(home_path(".aws/config"),
		"[profile app]\n"
		"role_arn = " APP_ROLE "\n"
		"source_profile = base\n"
		"external_id = " EXT_ID "\n"
		"role_session_name = app-session\n"
		"[profile chained]\n"
		"role_arn = arn:aws:iam::123456789012:role/second\n"
		"source_profile = app\n");
	write_file(home_path(".aws/credentials"), "[base]\n"
		"aws_access_key_id = " FILE_ID "\n"
		"aws_secret_access_key = " FILE_SECRET "\n");
	sts_route("AssumeRole", fake_now + 3600);
	p = mk(&o);
	get_ok(p, &c);
	expect_creds(&c, STS_ID, STS_SECRET, STS_TOKEN);
	assert_int_equal(c.expiration, fake_now + 3600);
	assert_int_equal(hits("POST", "/"), 1);
	r = req_at("POST", "/", 0);
	assert_non_null(strstr(r->body, "Action=AssumeRole&"));
	assert_non_null(strstr(r->body, "Version=2011-06-15"));
	assert_non_null(strstr(r->body, "RoleArn=" APP_ROLE_ENC));
	assert_non_null(strstr(r->body, "ExternalId=" EXT_ID));
	assert_non_null(strstr(r->body, "RoleSessionName=app-session"));
	assert_non_null(strstr(r->body, "DurationSeconds=3600"));
	assert_string_equal(vf_test_header(r, "Content-Type"),
		"application/x-www-form-urlencoded; charset=utf-8");
	assert_non_null(strstr(vf_test_header(r, "Authorization"),
		"AWS4-HMAC-SHA256 Credential=" FILE_ID "/"));
	assert_non_null(strstr(vf_test_header(r, "Authorization"),
		"/eu-west-1/sts/aws4_request"));
	assert_string_equal(vf_test_header(r, "X-Amz-Security-Token"), "");
	/* not due: no second call */
	fake_now += 60;
	get_ok(p, &c);
	assert_int_equal(hits("POST", "/"), 1);
	vf_aws_creds_destroy(p);

	/* a role from a role: the second call is signed with the first's */
	o.profile = "chained";
	expect_source(&o, STS_ID, STS_SECRET, STS_TOKEN);
	assert_int_equal(hits("POST", "/"), 3);
	r = req_at("POST", "/", 2);
	assert_non_null(strstr(r->body, "RoleArn=arn%3Aaws%3Aiam%3A%3A"
		"123456789012%3Arole%2Fsecond"));
	assert_null(strstr(r->body, "ExternalId="));
	assert_non_null(strstr(vf_test_header(r, "Authorization"),
		"Credential=" STS_ID "/"));
	assert_string_equal(vf_test_header(r, "X-Amz-Security-Token"), STS_TOKEN);
}

static void test_profile_cycle(void **state)
{
	struct vf_aws_creds_opts o = { .profile = "a" };

	write_file(home_path(".aws/config"),
		"[profile a]\nrole_arn = arn:aws:iam::1:role/a\n"
		"source_profile = b\n"
		"[profile b]\nrole_arn = arn:aws:iam::1:role/b\n"
		"source_profile = c\n"
		"[profile c]\nrole_arn = arn:aws:iam::1:role/c\n"
		"source_profile = a\n"
		"[profile self]\nrole_arn = arn:aws:iam::1:role/self\n"
		"source_profile = self\n"
		"aws_access_key_id = " DEV_ID "\n"
		"aws_secret_access_key = " DEV_SECRET "\n");
	sts_route("AssumeRole", fake_now + 3600);
	fail_with(&o, "cycle: a -> b -> c -> a");
	assert_int_equal(hits(NULL, NULL), 0);

	/* a profile that is its own source uses its own keys */
	o.profile = "self";
	expect_source(&o, STS_ID, STS_SECRET, STS_TOKEN);
	assert_non_null(strstr(vf_test_header(req_at("POST", "/", 0), "Authorization"),
		"Credential=" DEV_ID "/"));
}

static void test_profile_credential_source(void **state)
{
	struct vf_aws_creds_opts o = { .profile = "ce" };

	write_file(home_path(".aws/config"),
		"[profile ce]\nrole_arn = " APP_ROLE "\n"
		"credential_source = Environment\n"
		"[profile ci]\nrole_arn = " APP_ROLE "\n"
		"credential_source = Ec2InstanceMetadata\n"
		"[profile cc]\nrole_arn = " APP_ROLE "\n"
		"credential_source = EcsContainer\n");
	sts_route("AssumeRole", fake_now + 3600);

	/* an explicit profile skips the environment's keys as a source... */
	env_keys(true);
	expect_source(&o, STS_ID, STS_SECRET, STS_TOKEN);
	/* ...but credential_source = Environment uses them */
	assert_non_null(strstr(vf_test_header(req_at("POST", "/", 0), "Authorization"),
		"Credential=" ENV_ID "/"));
	assert_string_equal(vf_test_header(req_at("POST", "/", 0),
		"X-Amz-Security-Token"), ENV_TOKEN);

	o.profile = "ci";
	imds_routes(fake_now + 3600);
	expect_source(&o, STS_ID, STS_SECRET, STS_TOKEN);
	assert_non_null(strstr(vf_test_header(req_at("POST", "/", 1), "Authorization"),
		"Credential=" IMDS_ID "/"));

	o.profile = "cc";
	container_route(fake_now + 3600);
	container_full_uri();
	expect_source(&o, STS_ID, STS_SECRET, STS_TOKEN);
	assert_non_null(strstr(vf_test_header(req_at("POST", "/", 2), "Authorization"),
		"Credential=" ECS_ID "/"));
}

/* ---- web identity ---- */

static void test_web_identity_env(void **state)
{
	const struct vf_test_req *r;

	write_file(home_path("web-token"), WEB_TOKEN "\n");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", home_path("web-token"), 1);
	setenv("AWS_ROLE_ARN", APP_ROLE, 1);
	setenv("AWS_ROLE_SESSION_NAME", "irsa-session", 1);
	sts_route("AssumeRoleWithWebIdentity", fake_now + 3600);
	expect_source(NULL, STS_ID, STS_SECRET, STS_TOKEN);
	r = req_at("POST", "/", 0);
	assert_non_null(strstr(r->body, "Action=AssumeRoleWithWebIdentity&"));
	assert_non_null(strstr(r->body, "RoleArn=" APP_ROLE_ENC));
	assert_non_null(strstr(r->body, "RoleSessionName=irsa-session"));
	assert_non_null(strstr(r->body, "WebIdentityToken=" WEB_TOKEN "&"));
	assert_string_equal(vf_test_header(r, "Authorization"), "");
	assert_string_equal(vf_test_header(r, "X-Amz-Security-Token"), "");

	/* without a session name, one is made up */
	unsetenv("AWS_ROLE_SESSION_NAME");
	expect_source(NULL, STS_ID, STS_SECRET, STS_TOKEN);
	assert_non_null(strstr(req_at("POST", "/", 1)->body,
		"RoleSessionName=vpcflowd-"));
}

static void test_web_identity_profile(void **state)
{
	struct vf_aws_creds_opts o = { .profile = "irsa" };
	const struct vf_test_req *r;

	write_file(home_path("web-token"), WEB_TOKEN);
	write_file(home_path(".aws/config"),
		"[profile irsa]\nrole_arn = " APP_ROLE "\n"
		"web_identity_token_file = ~/web-token\n"
		"role_session_name = from-profile\n");
	sts_route("AssumeRoleWithWebIdentity", fake_now + 3600);
	expect_source(&o, STS_ID, STS_SECRET, STS_TOKEN);
	r = req_at("POST", "/", 0);
	assert_non_null(strstr(r->body, "WebIdentityToken=" WEB_TOKEN "&"));
	assert_non_null(strstr(r->body, "RoleSessionName=from-profile"));
	assert_string_equal(vf_test_header(r, "Authorization"), "");
}

/* ---- container ---- */

static void test_container_full_uri(void **state)
{
	const struct vf_test_req *r;

	container_route(fake_now + 3600);
	container_full_uri();
	write_file(home_path("token"), ECS_AUTH "\n");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", home_path("token"), 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env-not-used", 1);
	expect_source(NULL, ECS_ID, ECS_SECRET, ECS_TOKEN);
	r = req_at("GET", "/ecs/creds", 0);
	assert_string_equal(vf_test_header(r, "Authorization"), ECS_AUTH);

	/* the variable, when there is no file */
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECS_AUTH "-env", 1);
	expect_source(NULL, ECS_ID, ECS_SECRET, ECS_TOKEN);
	assert_string_equal(vf_test_header(req_at("GET", "/ecs/creds", 1),
		"Authorization"), ECS_AUTH "-env");

	/* none at all */
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	expect_source(NULL, ECS_ID, ECS_SECRET, ECS_TOKEN);
	assert_string_equal(vf_test_header(req_at("GET", "/ecs/creds", 2),
		"Authorization"), "");

	/* localhost is allowed too */
	{
		char url[128];
		snprintf(url, sizeof(url), "http://localhost:%d/ecs/creds",
			srv.port);
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
		expect_source(NULL, ECS_ID, ECS_SECRET, ECS_TOKEN);
	}
}

static void test_container_relative_uri(void **state)
{
	struct vf_aws_credentials c;
	struct vf_aws_creds_provider *p;

	container_route(fake_now + 3600);
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds", 1);
	/* a token is for the full URI only */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECS_AUTH, 1);
	p = mk(NULL);
	get_ok(p, &c);
	expect_creds(&c, ECS_ID, ECS_SECRET, ECS_TOKEN);
	assert_int_equal(c.expiration, fake_now + 3600);
	assert_string_equal(vf_test_header(req_at("GET", "/ecs/creds", 0),
		"Authorization"), "");
	vf_aws_creds_destroy(p);
}

static void test_container_token_line_break(void **state)
{
	container_route(fake_now + 3600);
	container_full_uri();
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECS_AUTH "\r\nX-Evil: 1", 1);
	fail_with(NULL, "line break");
	write_file(home_path("token"), ECS_AUTH "\nX-Evil: 1\n");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", home_path("token"), 1);
	fail_with(NULL, "line break");
	assert_int_equal(hits(NULL, NULL), 0);
}

static void test_container_full_uri_refused(void **state)
{
	/* each followed by the server's port: a wrong "yes" would show as a hit */
	static const char *const refused[] = {
		"http://0.0.0.0:",
		"http://127.0.0.1@0.0.0.0:",
		"ftp://127.0.0.1:",
		"http://169.254.169.254:",
		"http://10.1.2.3:",
		"http://[fd00:ec2::254]:",
		"not a url ",
	};
	static const char *const allowed[] = {
		"https://creds.example.com/x",
		"http://127.0.0.1:1/x",
		"http://127.9.8.7/",
		"http://localhost/",
		"http://LOCALHOST:8080/",
		"http://169.254.170.2/v2/credentials",
		"http://169.254.170.23/v1/credentials",
		"http://[fd00:ec2::23]/v1/credentials",
		"http://[fd00:ec2:0::23]/",
		"http://[::1]:8080/",
	};
	char url[128];

	container_route(fake_now + 3600);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(url, sizeof(url), "%s%d/ecs/creds", refused[i],
			srv.port);
		assert_false(vf_creds_container_url_allowed(url));
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
		fail_with(NULL, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	}
	assert_int_equal(hits(NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!vf_creds_container_url_allowed(allowed[i]))
			fail_msg("%s refused", allowed[i]);
}

/* ---- instance metadata ---- */

static void test_imds(void **state)
{
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;
	const struct vf_test_req *r;

	imds_routes(fake_now + 6 * 3600);
	p = mk(NULL);
	get_ok(p, &c);
	expect_creds(&c, IMDS_ID, IMDS_SECRET, IMDS_TOKEN);
	assert_int_equal(c.expiration, fake_now + 6 * 3600);
	r = req_at("PUT", "/latest/api/token", 0);
	assert_string_equal(vf_test_header(r, "x-aws-ec2-metadata-token-ttl-seconds"),
		"21600");
	r = req_at("GET", CREDS_PATH, 0);
	assert_string_equal(vf_test_header(r, "x-aws-ec2-metadata-token"), IMDS_V2);
	r = req_at("GET", CREDS_PATH "flow-reader", 0);
	assert_string_equal(vf_test_header(r, "x-aws-ec2-metadata-token"), IMDS_V2);
	assert_int_equal(hits(NULL, NULL), 3);
	vf_aws_creds_destroy(p);

	/* a trailing slash on the endpoint */
	{
		char ep[128];
		snprintf(ep, sizeof(ep), "%s/", base_url);
		setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
		expect_source(NULL, IMDS_ID, IMDS_SECRET, IMDS_TOKEN);
	}
}

static void test_imds_error_answer(void **state)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH "flow-reader", 200, "{\"Code\": "
		"\"AssumeRoleUnauthorizedAccess\", \"Message\": \"EC2 cannot "
		"assume the role flow-reader.\", \"LastUpdated\": \"%s\"}",
		iso(fake_now));
	fail_with(NULL, "EC2 instance metadata: AssumeRoleUnauthorizedAccess: "
		"EC2 cannot assume the role flow-reader.");
}

static void test_imds_absent(void **state)
{
	imds_routes(fake_now + 3600);
	route("PUT", "/latest/api/token", 404, "not here");
	fail_with(NULL, "no IMDSv2 token (HTTP 404)");
	fail_with(NULL, "no AWS credentials found");
	route("PUT", "/latest/api/token", 403, "forbidden");
	fail_with(NULL, "no IMDSv2 token (HTTP 403)");
	assert_int_equal(hits("GET", NULL), 0);

	/* disabled: never asked */
	routes_clear();
	imds_routes(fake_now + 3600);
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	fail_with(NULL, "disabled (AWS_EC2_METADATA_DISABLED)");
	assert_int_equal(hits(NULL, NULL), 0);
}

/* ---- precedence ---- */

static void test_precedence(void **state)
{
	env_keys(false);
	files_default();
	container_route(fake_now + 3600);
	container_full_uri();
	imds_routes(fake_now + 3600);

	expect_source(NULL, ENV_ID, ENV_SECRET, "");
	assert_int_equal(hits(NULL, NULL), 0);

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	expect_source(NULL, FILE_ID, FILE_SECRET, "");
	assert_int_equal(hits(NULL, NULL), 0);

	unlink(home_path(".aws/credentials"));
	expect_source(NULL, ECS_ID, ECS_SECRET, ECS_TOKEN);
	assert_int_equal(hits(NULL, NULL), 1);
	assert_int_equal(hits("PUT", "/latest/api/token"), 0);

	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	expect_source(NULL, IMDS_ID, IMDS_SECRET, IMDS_TOKEN);
	assert_int_equal(hits("PUT", "/latest/api/token"), 1);

	/* an explicitly configured profile beats the environment's keys */
	{
		struct vf_aws_creds_opts o = { .profile = "default" };
		env_keys(false);
		files_default();
		expect_source(&o, FILE_ID, FILE_SECRET, "");
		/* AWS_PROFILE does not */
		setenv("AWS_PROFILE", "default", 1);
		expect_source(NULL, ENV_ID, ENV_SECRET, "");
	}

	/* web identity (env) comes after the files, before the container */
	{
		unsetenv("AWS_PROFILE");
		write_file(home_path("web-token"), WEB_TOKEN);
		setenv("AWS_WEB_IDENTITY_TOKEN_FILE", home_path("web-token"), 1);
		setenv("AWS_ROLE_ARN", APP_ROLE, 1);
		sts_route("AssumeRoleWithWebIdentity", fake_now + 3600);
		unsetenv("AWS_ACCESS_KEY_ID");
		unsetenv("AWS_SECRET_ACCESS_KEY");
		expect_source(NULL, FILE_ID, FILE_SECRET, "");
		unlink(home_path(".aws/credentials"));
		container_full_uri();
		expect_source(NULL, STS_ID, STS_SECRET, STS_TOKEN);
		assert_int_equal(hits("GET", "/ecs/creds"), 1);
	}
}

/* ---- refresh ---- */

static void test_refresh_near_expiry(void **state)
{
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;

	/* 5 minutes left: inside the window, so due at every try */
	imds_routes(fake_now + 300);
	p = mk(NULL);
	get_ok(p, &c);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 1);
	/* not more than one try every few seconds */
	get_ok(p, &c);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 1);
	fake_now += 11;
	get_ok(p, &c);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 2);
	/* the refresh brings credentials good for hours: no more calls */
	fake_now += 11;
	imds_routes(fake_now + 6 * 3600);
	get_ok(p, &c);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 3);
	assert_int_equal(c.expiration, fake_now + 6 * 3600);
	fake_now += 3600;
	get_ok(p, &c);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 3);
	/* 14 minutes before expiry: due (15-minute window for IMDS) */
	fake_now = c.expiration - 14 * 60;
	get_ok(p, &c);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 4);
	vf_aws_creds_destroy(p);
}

static void test_refresh_failure_keeps_old(void **state)
{
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;
	char err[2048];
	int64_t exp = fake_now + 300;

	imds_routes(exp);
	p = mk(NULL);
	get_ok(p, &c);
	expect_creds(&c, IMDS_ID, IMDS_SECRET, IMDS_TOKEN);
	route("GET", CREDS_PATH "flow-reader", 500, "{\"Code\": \"Broken\"}");
	fake_now += 11;
	get_ok(p, &c);                      /* refresh fails: old ones */
	expect_creds(&c, IMDS_ID, IMDS_SECRET, IMDS_TOKEN);
	assert_int_equal(c.expiration, exp);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 2);
	fake_now = exp;                     /* expired now */
	err[0] = '\0';
	assert_false(vf_aws_creds_get(p, &c, err, sizeof(err)));
	assert_clean(err);
	assert_non_null(strstr(err, "EC2 instance metadata"));
	assert_non_null(strstr(err, "HTTP 500"));
	assert_non_null(strstr(err, "expired"));
	/* and it recovers */
	imds_routes(fake_now + 3600);
	get_ok(p, &c);
	assert_int_equal(c.expiration, fake_now + 3600);
	vf_aws_creds_destroy(p);
}

static void test_static_never_refreshes(void **state)
{
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;

	files_default();
	p = mk(NULL);
	get_ok(p, &c);
	expect_creds(&c, FILE_ID, FILE_SECRET, "");
	write_file(home_path(".aws/credentials"), "[default]\n"
		"aws_access_key_id = " DEV_ID "\n"
		"aws_secret_access_key = " DEV_SECRET "\n");
	fake_now += 365 * 86400;
	get_ok(p, &c);
	expect_creds(&c, FILE_ID, FILE_SECRET, "");
	vf_aws_creds_destroy(p);
}

/* ---- AssumeRole on top of the chain ---- */

static void test_role_arn_option(void **state)
{
	struct vf_aws_creds_opts o = { .role_arn = APP_ROLE,
		.external_id = EXT_ID, .region = "us-west-2" };
	struct vf_aws_creds_provider *p;
	struct vf_aws_credentials c;
	const struct vf_test_req *r;
	char sts[128];

	env_keys(true);
	snprintf(sts, sizeof(sts), "%s/", base_url);
	o.sts_endpoint = sts;
	unsetenv("AWS_ENDPOINT_URL_STS");
	/* 9 minutes: due at every try (10-minute window for STS) */
	sts_route("AssumeRole", fake_now + 540);
	p = mk(&o);
	get_ok(p, &c);
	expect_creds(&c, STS_ID, STS_SECRET, STS_TOKEN);
	r = req_at("POST", "/", 0);
	assert_non_null(strstr(r->body, "Action=AssumeRole&"));
	assert_non_null(strstr(r->body, "RoleArn=" APP_ROLE_ENC));
	assert_non_null(strstr(r->body, "ExternalId=" EXT_ID));
	assert_non_null(strstr(r->body, "RoleSessionName=vpcflowd-"));
	assert_non_null(strstr(vf_test_header(r, "Authorization"),
		"Credential=" ENV_ID "/"));
	assert_non_null(strstr(vf_test_header(r, "Authorization"),
		"/us-west-2/sts/aws4_request"));
	assert_string_equal(vf_test_header(r, "X-Amz-Security-Token"), ENV_TOKEN);
	fake_now += 11;
	get_ok(p, &c);
	fake_now += 11;
	get_ok(p, &c);
	assert_int_equal(hits("POST", "/"), 3);
	/* 11 minutes: not due */
	sts_route("AssumeRole", fake_now + 660);
	fake_now += 11;
	get_ok(p, &c);
	assert_int_equal(hits("POST", "/"), 4);
	fake_now += 30;
	get_ok(p, &c);
	assert_int_equal(hits("POST", "/"), 4);
	vf_aws_creds_destroy(p);

	/* on top of IMDS: both layers are cached */
	routes_clear();
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	imds_routes(fake_now + 6 * 3600);
	sts_route("AssumeRole", fake_now + 3600);
	p = mk(&o);
	get_ok(p, &c);
	expect_creds(&c, STS_ID, STS_SECRET, STS_TOKEN);
	assert_non_null(strstr(vf_test_header(req_at("POST", "/", 0), "Authorization"),
		"Credential=" IMDS_ID "/"));
	fake_now += 3600 - 500;
	get_ok(p, &c);
	assert_int_equal(hits("POST", "/"), 2);
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 1);
	vf_aws_creds_destroy(p);
}

static void test_sts_error(void **state)
{
	struct vf_aws_creds_opts o = { .role_arn = APP_ROLE,
		.external_id = EXT_ID };

	env_keys(true);
	/* a server message that quotes what it got is blotted out */
	route("POST", "/", 403, "<ErrorResponse xmlns=\"https://sts.amazonaws"
		".com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>"
		"AccessDenied</Code><Message>User with key " ENV_ID " and token "
		ENV_TOKEN " (external id " EXT_ID ") is not authorized to "
		"perform: sts:AssumeRole</Message></Error><RequestId>r</RequestId>"
		"</ErrorResponse>");
	fail_with(&o, "AssumeRole " APP_ROLE ": HTTP 403 AccessDenied: User "
		"with key *** and token *** (external id ***) is not authorized");
}

/* ---- every failure path: named source, nothing secret ---- */

struct failure {
	const char *name;
	void (*setup)(void);
	struct vf_aws_creds_opts opts;
	const char *expect;
};

static void f_env_id_only(void)
{
	setenv("AWS_ACCESS_KEY_ID", ENV_ID, 1);
}

static void f_env_secret_only(void)
{
	setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET, 1);
}

static void f_env_bad_expiration(void)
{
	env_keys(true);
	setenv("AWS_CREDENTIAL_EXPIRATION", ENV_TOKEN, 1);
}

static void f_env_expired(void)
{
	env_keys(true);
	setenv("AWS_CREDENTIAL_EXPIRATION", iso(fake_now - 10), 1);
}

static void f_env_token_too_long(void)
{
	static char big[5000];

	env_keys(false);
	memset(big, 'A', sizeof(big) - 1);
	setenv("AWS_SESSION_TOKEN", big, 1);
}

static void f_env_secret_space(void)
{
	env_keys(false);
	setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET " x", 1);
}

static void f_profile_partial(void)
{
	write_file(home_path(".aws/credentials"), "[default]\n"
		"aws_access_key_id = " FILE_ID "\n");
}

static void f_profile_secret_only(void)
{
	write_file(home_path(".aws/credentials"), "[default]\n"
		"aws_secret_access_key = " FILE_SECRET "\n");
}

static void f_profile_unreadable(void)
{
	setenv("AWS_SHARED_CREDENTIALS_FILE", home_path(".aws"), 1);
}

static void profile_config(const char *body)
{
	char text[2048];

	snprintf(text, sizeof(text), "[profile p]\n%s", body);
	write_file(home_path(".aws/config"), text);
	write_file(home_path(".aws/credentials"), "[base]\n"
		"aws_access_key_id = " FILE_ID "\n"
		"aws_secret_access_key = " FILE_SECRET "\n"
		"[empty]\nregion = eu-west-1\n");
	setenv("AWS_PROFILE", "p", 1);
	sts_route("AssumeRole", fake_now + 3600);
}

static void f_role_no_source(void)
{
	profile_config("role_arn = " APP_ROLE "\nexternal_id = " EXT_ID "\n");
}

static void f_role_two_sources(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n"
		"credential_source = Environment\n");
}

static void f_role_bad_credential_source(void)
{
	profile_config("role_arn = " APP_ROLE "\ncredential_source = "
		"Ec2Metadata\n");
}

static void f_role_env_source_empty(void)
{
	profile_config("role_arn = " APP_ROLE "\ncredential_source = "
		"Environment\n");
}

static void f_role_imds_source_absent(void)
{
	profile_config("role_arn = " APP_ROLE "\ncredential_source = "
		"Ec2InstanceMetadata\n");
}

static void f_role_ecs_source_absent(void)
{
	profile_config("role_arn = " APP_ROLE "\ncredential_source = "
		"EcsContainer\n");
}

static void f_role_mfa(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n"
		"mfa_serial = arn:aws:iam::1:mfa/me\n");
}

static void f_role_bad_duration(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n"
		"duration_seconds = 60\n");
}

static void f_role_missing_source(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = gone\n");
}

static void f_role_empty_source(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = empty\n");
}

static void f_role_self_without_keys(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = p\n");
}

static void f_web_token_no_role(void)
{
	profile_config("web_identity_token_file = /nonexistent\n");
}

static void f_credential_process(void)
{
	profile_config("credential_process = /bin/echo " EXT_ID "\n");
}

static void f_sso(void)
{
	profile_config("sso_session = corp\n");
}

static void f_sts_denied(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n"
		"external_id = " EXT_ID "\n");
	route("POST", "/", 403, "<ErrorResponse><Error><Code>AccessDenied"
		"</Code><Message>no, " FILE_ID "/" FILE_SECRET "</Message>"
		"</Error></ErrorResponse>");
}

static void f_sts_garbage(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
	route("POST", "/", 200, "{\"AccessKeyId\": \"" STS_ID "\"}");
}

static void f_sts_no_credentials(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
	route("POST", "/", 200, "<AssumeRoleResponse><AssumeRoleResult>"
		"<Credentials><AccessKeyId>" STS_ID "</AccessKeyId>"
		"<SessionToken>" STS_TOKEN "</SessionToken></Credentials>"
		"</AssumeRoleResult></AssumeRoleResponse>");
}

static void f_sts_wrong_action(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
	sts_route("AssumeRoleWithWebIdentity", fake_now + 3600);
}

static void f_sts_bad_expiration(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
	route("POST", "/", 200, "<AssumeRoleResponse><AssumeRoleResult>"
		"<Credentials><AccessKeyId>" STS_ID "</AccessKeyId>"
		"<SecretAccessKey>" STS_SECRET "</SecretAccessKey>"
		"<SessionToken>" STS_TOKEN "</SessionToken>"
		"<Expiration>" STS_TOKEN "</Expiration></Credentials>"
		"</AssumeRoleResult></AssumeRoleResponse>");
}

static void f_sts_expired(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
	sts_route("AssumeRole", fake_now - 1);
}

static void f_sts_doctype(void)
{
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
	route("POST", "/", 200, "<!DOCTYPE x [<!ENTITY a \"" STS_SECRET
		"\">]><AssumeRoleResponse/>");
}

static void f_sts_unreachable(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	char url[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a loopback port nobody listens on */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	profile_config("role_arn = " APP_ROLE "\nsource_profile = base\n");
}

static void f_web_env_no_role(void)
{
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", home_path("web-token"), 1);
}

static void f_web_env_no_file(void)
{
	setenv("AWS_ROLE_ARN", APP_ROLE, 1);
}

static void f_web_env_missing_file(void)
{
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", home_path("web-token"), 1);
	setenv("AWS_ROLE_ARN", APP_ROLE, 1);
}

static void f_web_env_empty_file(void)
{
	write_file(home_path("web-token"), "\n");
	f_web_env_missing_file();
}

static void f_web_env_denied(void)
{
	write_file(home_path("web-token"), WEB_TOKEN);
	f_web_env_missing_file();
	route("POST", "/", 400, "<ErrorResponse><Error><Code>"
		"InvalidIdentityToken</Code><Message>bad token " WEB_TOKEN
		"</Message></Error></ErrorResponse>");
}

static void f_container_relative(void)
{
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "ecs/creds", 1);
}

static void f_container_refused(void)
{
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://0.0.0.0:9/x", 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECS_AUTH, 1);
}

static void f_container_token_file_missing(void)
{
	container_full_uri();
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", home_path("token"), 1);
}

static void f_container_token_empty(void)
{
	container_full_uri();
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "\n", 1);
}

static void f_container_500(void)
{
	container_full_uri();
	route("GET", "/ecs/creds", 500, "{\"code\": \"" ECS_AUTH "\"}");
}

static void f_container_not_json(void)
{
	container_full_uri();
	route("GET", "/ecs/creds", 200, "AccessKeyId=" ECS_ID);
}

static void f_container_no_secret(void)
{
	container_full_uri();
	route("GET", "/ecs/creds", 200, "{\"AccessKeyId\": \"" ECS_ID "\", "
		"\"Token\": \"" ECS_TOKEN "\", \"Expiration\": \"%s\"}",
		iso(fake_now + 3600));
}

static void f_container_no_expiration(void)
{
	container_full_uri();
	route("GET", "/ecs/creds", 200, "{\"AccessKeyId\": \"" ECS_ID "\", "
		"\"SecretAccessKey\": \"" ECS_SECRET "\"}");
}

static void f_container_bad_expiration(void)
{
	container_full_uri();
	route("GET", "/ecs/creds", 200, "{\"AccessKeyId\": \"" ECS_ID "\", "
		"\"SecretAccessKey\": \"" ECS_SECRET "\", \"Expiration\": \""
		ECS_TOKEN "\"}");
}

static void f_imds_token_400(void)
{
	imds_routes(fake_now + 3600);
	route("PUT", "/latest/api/token", 400, "bad");
}

static void f_imds_list_500(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH, 500, "oops");
}

static void f_imds_bad_role(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH, 200, "../../" IMDS_SECRET);
}

static void f_imds_no_role(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH, 404, "%s", "");
}

static void f_imds_creds_404(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH "flow-reader", 404, "%s", "");
}

static void f_imds_code(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH "flow-reader", 200, "{\"Code\": \"Failed\", "
		"\"Message\": \"half " IMDS_ID " " IMDS_SECRET "\", "
		"\"AccessKeyId\": \"" IMDS_ID "\", \"SecretAccessKey\": \""
		IMDS_SECRET "\"}");
}

static void f_imds_no_token(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH "flow-reader", 200, "{\"Code\": \"Success\", "
		"\"AccessKeyId\": \"" IMDS_ID "\", \"SecretAccessKey\": \""
		IMDS_SECRET "\", \"Expiration\": \"%s\"}", iso(fake_now + 3600));
}

static void f_imds_not_json(void)
{
	imds_routes(fake_now + 3600);
	route("GET", CREDS_PATH "flow-reader", 200, "{\"AccessKeyId\": \""
		IMDS_ID "\", \"SecretAccessKey\": \"" IMDS_SECRET);
}

static void f_nothing(void)
{
}

static void f_top_no_source(void)
{
}

static void f_top_denied(void)
{
	env_keys(true);
	route("POST", "/", 403, "<ErrorResponse><Error><Code>AccessDenied"
		"</Code><Message>" ENV_SECRET "</Message></Error></ErrorResponse>");
}

static void test_failures_name_source_and_hide_secrets(void **state)
{
	static const struct failure cases[] = {
		{ "env id only", f_env_id_only, {0},
		  "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY" },
		{ "env secret only", f_env_secret_only, {0},
		  "environment: AWS_SECRET_ACCESS_KEY is set" },
		{ "env bad expiration", f_env_bad_expiration, {0},
		  "environment: AWS_CREDENTIAL_EXPIRATION is not" },
		{ "env expired", f_env_expired, {0},
		  "environment: the credentials it gave have expired" },
		{ "env token too long", f_env_token_too_long, {0},
		  "environment: a key or session token is too long" },
		{ "env secret with space", f_env_secret_space, {0},
		  "environment: a key or session token holds spaces" },
		{ "profile partial", f_profile_partial, {0},
		  "profile \"default\": aws_access_key_id without" },
		{ "profile secret only", f_profile_secret_only, {0},
		  "profile \"default\": aws_secret_access_key without" },
		{ "profile unreadable", f_profile_unreadable, {0},
		  "profile: cannot read" },
		{ "role without source", f_role_no_source, {0},
		  "profile \"p\": role_arn needs source_profile" },
		{ "role two sources", f_role_two_sources, {0},
		  "profile \"p\": both source_profile and credential_source" },
		{ "bad credential_source", f_role_bad_credential_source, {0},
		  "profile \"p\": credential_source \"Ec2Metadata\" is not" },
		{ "env source empty", f_role_env_source_empty, {0},
		  "profile \"p\": credential_source Environment: environment:" },
		{ "imds source absent", f_role_imds_source_absent, {0},
		  "profile \"p\": credential_source Ec2InstanceMetadata: EC2 "
		  "instance metadata: disabled" },
		{ "ecs source absent", f_role_ecs_source_absent, {0},
		  "profile \"p\": credential_source EcsContainer: container" },
		{ "mfa", f_role_mfa, {0}, "profile \"p\": mfa_serial" },
		{ "duration", f_role_bad_duration, {0},
		  "profile \"p\": duration_seconds" },
		{ "missing source profile", f_role_missing_source, {0},
		  "profile \"p\": source_profile: profile \"gone\": not in" },
		{ "empty source profile", f_role_empty_source, {0},
		  "profile \"p\": source_profile: profile \"empty\" has no" },
		{ "self without keys", f_role_self_without_keys, {0},
		  "profile \"p\": source_profile is the profile itself" },
		{ "web token no role", f_web_token_no_role, {0},
		  "profile \"p\": web_identity_token_file needs role_arn" },
		{ "credential_process", f_credential_process, {0},
		  "profile \"p\": credential_process is not supported" },
		{ "sso", f_sso, {0}, "profile \"p\": SSO is not supported" },
		{ "sts denied", f_sts_denied, {0},
		  "profile \"p\": AssumeRole " APP_ROLE ": HTTP 403 AccessDenied: "
		  "no, ***/***" },
		{ "sts garbage", f_sts_garbage, {0},
		  "AssumeRole " APP_ROLE ": the answer is not the XML expected" },
		{ "sts no credentials", f_sts_no_credentials, {0},
		  "AssumeRole " APP_ROLE ": the answer has no Credentials" },
		{ "sts wrong action", f_sts_wrong_action, {0},
		  "the answer has no Credentials" },
		{ "sts bad expiration", f_sts_bad_expiration, {0},
		  "AssumeRole " APP_ROLE ": Expiration is not" },
		{ "sts expired", f_sts_expired, {0},
		  "profile \"p\": the credentials it gave have expired already" },
		{ "sts doctype", f_sts_doctype, {0},
		  "the answer is not the XML expected" },
		{ "sts unreachable", f_sts_unreachable, {0},
		  "profile \"p\": AssumeRole " APP_ROLE ": " },
		{ "web env no role", f_web_env_no_role, {0},
		  "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but "
		  "AWS_ROLE_ARN" },
		{ "web env no file", f_web_env_no_file, {0},
		  "web identity: AWS_ROLE_ARN is set but" },
		{ "web env missing file", f_web_env_missing_file, {0},
		  "web identity: AssumeRoleWithWebIdentity " APP_ROLE ": cannot "
		  "read the token file" },
		{ "web env empty file", f_web_env_empty_file, {0},
		  "is empty or holds more than one line" },
		{ "web env denied", f_web_env_denied, {0},
		  "web identity: AssumeRoleWithWebIdentity " APP_ROLE ": HTTP 400 "
		  "InvalidIdentityToken: bad token ***" },
		{ "container relative", f_container_relative, {0},
		  "container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
		  "does not start" },
		{ "container refused", f_container_refused, {0},
		  "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must" },
		{ "container token file missing", f_container_token_file_missing,
		  {0}, "container credentials: cannot read "
		  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" },
		{ "container token empty", f_container_token_empty, {0},
		  "container credentials: the token in "
		  "AWS_CONTAINER_AUTHORIZATION_TOKEN is empty" },
		{ "container 500", f_container_500, {0},
		  "container credentials: HTTP 500" },
		{ "container not json", f_container_not_json, {0},
		  "container credentials: the answer is not a JSON object" },
		{ "container no secret", f_container_no_secret, {0},
		  "container credentials: the answer has no SecretAccessKey" },
		{ "container no expiration", f_container_no_expiration, {0},
		  "container credentials: the answer has no Expiration" },
		{ "container bad expiration", f_container_bad_expiration, {0},
		  "container credentials: Expiration is not" },
		{ "imds token 400", f_imds_token_400, {0},
		  "EC2 instance metadata: the token request got HTTP 400" },
		{ "imds list 500", f_imds_list_500, {0},
		  "EC2 instance metadata: listing roles got HTTP 500" },
		{ "imds bad role", f_imds_bad_role, {0},
		  "EC2 instance metadata: the role list does not start" },
		{ "imds no role", f_imds_no_role, {0},
		  "no IAM role attached" },
		{ "imds creds 404", f_imds_creds_404, {0},
		  "EC2 instance metadata: role flow-reader: HTTP 404" },
		{ "imds code", f_imds_code, {0},
		  "EC2 instance metadata: Failed: half *** ***" },
		{ "imds no token", f_imds_no_token, {0},
		  "EC2 instance metadata: the answer has no Token" },
		{ "imds not json", f_imds_not_json, {0},
		  "EC2 instance metadata: the answer is not a JSON object" },
		{ "nothing", f_nothing, {0}, "no AWS credentials found: "
		  "environment: AWS_ACCESS_KEY_ID not set; profile \"default\": "
		  "not in" },
		{ "role_arn without source", f_top_no_source,
		  { .role_arn = APP_ROLE, .external_id = EXT_ID },
		  "AssumeRole " APP_ROLE ": no source credentials: no AWS "
		  "credentials found" },
		{ "role_arn denied", f_top_denied,
		  { .role_arn = APP_ROLE, .external_id = EXT_ID },
		  "AssumeRole " APP_ROLE ": HTTP 403 AccessDenied: ***" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("failure: %s\n", cases[i].name);
		reset_all();
		cases[i].setup();
		fail_with(&cases[i].opts, cases[i].expect);
	}
}

static void test_create_errors(void **state)
{
	struct vf_aws_creds_opts o = { .region = "eu-west-1/../x" };
	char err[512];

	err[0] = '\0';
	assert_null(vf_aws_creds_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a region name"));
	o.region = NULL;
	o.external_id = EXT_ID;
	err[0] = '\0';
	assert_null(vf_aws_creds_create(&o, err, sizeof(err)));
	assert_clean(err);
	assert_non_null(strstr(err, "needs a role_arn"));
}

/* ---- threads ---- */

struct worker {
	struct vf_aws_creds_provider *p;
	int bad;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct vf_aws_credentials c;
	char err[512];

	for (int i = 0; i < 200; i++) {
		if (!vf_aws_creds_get(w->p, &c, err, sizeof(err)) ||
		    strcmp(c.access_key_id, STS_ID) != 0 ||
		    strcmp(c.session_token, STS_TOKEN) != 0)
			w->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct vf_aws_creds_opts o = { .role_arn = APP_ROLE };
	struct worker w[8];
	pthread_t t[8];
	struct vf_aws_creds_provider *p;

	imds_routes(fake_now + 6 * 3600);
	sts_route("AssumeRole", fake_now + 3600);
	p = mk(&o);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ p, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	/* one fetch of each, however many callers */
	assert_int_equal(hits("GET", CREDS_PATH "flow-reader"), 1);
	assert_int_equal(hits("POST", "/"), 1);
	vf_aws_creds_destroy(p);
}

/* ---- helpers ---- */

static void test_parse_time(void **state)
{
	int64_t t;

	assert_true(vf_creds_parse_time("2024-01-02T03:04:05Z", &t));
	assert_int_equal(t, 1704164645);
	assert_true(vf_creds_parse_time("2024-01-02T03:04:05.123Z", &t));
	assert_int_equal(t, 1704164645);
	assert_true(vf_creds_parse_time("2024-01-02T05:04:05+02:00", &t));
	assert_int_equal(t, 1704164645);
	assert_true(vf_creds_parse_time("2024-01-02T00:04:05-0300", &t));
	assert_int_equal(t, 1704164645);
	assert_true(vf_creds_parse_time("2024-01-02T03:04:05", &t));
	assert_int_equal(t, 1704164645);
	/* zoneless with a space, as the older parser took it: UTC too */
	assert_true(vf_creds_parse_time("2024-01-02 03:04:05", &t));
	assert_int_equal(t, 1704164645);
	assert_false(vf_creds_parse_time("2024-01-02", &t));
	assert_false(vf_creds_parse_time("2024-13-02T03:04:05Z", &t));
	assert_false(vf_creds_parse_time("2024-01-02T03:04:05Zjunk", &t));
	assert_false(vf_creds_parse_time("", &t));
	assert_false(vf_creds_parse_time(NULL, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_env_static, setup),
		cmocka_unit_test_setup(test_env_session_token, setup),
		cmocka_unit_test_setup(test_file_default, setup),
		cmocka_unit_test_setup(test_file_named_profile, setup),
		cmocka_unit_test_setup(test_config_profile, setup),
		cmocka_unit_test_setup(test_profile_assume_role, setup),
		cmocka_unit_test_setup(test_profile_cycle, setup),
		cmocka_unit_test_setup(test_profile_credential_source, setup),
		cmocka_unit_test_setup(test_web_identity_env, setup),
		cmocka_unit_test_setup(test_web_identity_profile, setup),
		cmocka_unit_test_setup(test_container_full_uri, setup),
		cmocka_unit_test_setup(test_container_relative_uri, setup),
		cmocka_unit_test_setup(test_container_token_line_break, setup),
		cmocka_unit_test_setup(test_container_full_uri_refused, setup),
		cmocka_unit_test_setup(test_imds, setup),
		cmocka_unit_test_setup(test_imds_error_answer, setup),
		cmocka_unit_test_setup(test_imds_absent, setup),
		cmocka_unit_test_setup(test_precedence, setup),
		cmocka_unit_test_setup(test_refresh_near_expiry, setup),
		cmocka_unit_test_setup(test_refresh_failure_keeps_old, setup),
		cmocka_unit_test_setup(test_static_never_refreshes, setup),
		cmocka_unit_test_setup(test_role_arn_option, setup),
		cmocka_unit_test_setup(test_sts_error, setup),
		cmocka_unit_test_setup(test_failures_name_source_and_hide_secrets,
			setup),
		cmocka_unit_test_setup(test_create_errors, setup),
		cmocka_unit_test_setup(test_threads, setup),
		cmocka_unit_test_setup(test_parse_time, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
