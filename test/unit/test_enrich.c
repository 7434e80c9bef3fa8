/*
 * The enrichment stage end to end, without AWS: internal networks, GeoIP
 * and ASN from MaxMind's test databases, threat lists from files (reloaded
 * while readers run), the entity table's VPC preference, and the
 * snapshot swap under concurrent readers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"

#include "vpcflowd/config.h"
#include "vpcflowd/enrich.h"
#include "vpcflowd/flow.h"
#include "vpcflowd/log.h"

#include "../../src/enrich/enrich_internal.h"

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A config from YAML text; %D in it stands for the temporary directory
 * and %T for the test data directory. */
static void load_config(struct vf_config *cfg, const char *yaml)
{
	char text[4096], err[512];
	size_t n = 0;

	for (const char *p = yaml; *p && n < sizeof(text) - 300; p++) {
		if (p[0] == '%' && (p[1] == 'D' || p[1] == 'T')) {
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
				p[1] == 'D' ? tmpdir : VF_TEST_DATA);
			p++;
		} else {
			text[n++] = *p;
		}
	}
	text[n] = '\0';
	vf_config_init(cfg);
	if (!vf_config_load_string(cfg, "test.yml", text, n, err, sizeof(err)))
		fail_msg("config: %s", err);
}

/* The enrichment fields of one flow line (default format), as JSON. */
static json_t *enrich_line(struct vf_enrich_reader *r, const char *line,
	const struct vf_format *fmt)
{
	struct vf_flow flow;
	struct vf_buf b;
	json_error_t jerr;
	json_t *doc;

	assert_int_equal(vf_flow_parse(&flow, fmt ? fmt : vf_format_default(),
		line, strlen(line)), VF_FLOW_OK);
	vf_buf_init(&b, 1 << 20);
	assert_true(vf_buf_append(&b, "{\"x\":1", 6));
	assert_true(vf_enrich_flow(r, &flow, &b));
	assert_true(vf_buf_append(&b, "}", 1));
	doc = json_loadb(b.data, b.len, 0, &jerr);
	if (doc == NULL)
		fail_msg("not JSON (%s): %.*s", jerr.text, (int)b.len, b.data);
	vf_buf_finish(&b);
	return doc;
}

static const char *str(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void assert_field(json_t *doc, const char *key, const char *want)
{
	const char *got = str(doc, key);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: want \"%s\", got %s%s%s\n%s", key, want,
			got ? "\"" : "", got ? got : "(none)", got ? "\"" : "",
			json_dumps(doc, JSON_SORT_KEYS));
}

static void assert_no_field(json_t *doc, const char *key)
{
	if (json_object_get(doc, key) != NULL)
		fail_msg("%s should be absent: %s", key,
			json_dumps(doc, JSON_SORT_KEYS));
}

static struct vf_enrich *create(const struct vf_config *cfg, atomic_int *stop,
	char *err, size_t errlen)
{
	struct vf_enrich_opts o = { .cfg = cfg, .stop = stop };

	return vf_enrich_create(&o, err, errlen);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vf-test-enrich-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#define LINE(src, dst) \
	"2 123456789012 eni-0a1b2c3d " src " " dst " 443 49152 6 10 840 " \
	"1600000000 1600000060 ACCEPT OK"

static void test_internal_geoip_asn(void **state)
{
	struct vf_config cfg;
	struct vf_enrich *e;
	struct vf_enrich_reader *r;
	atomic_int stop = 0;
	char err[512];
	json_t *doc;

	(void)state;
	load_config(&cfg,
		"enrich:\n"
		"  internal_networks: [10.0.0.0/8, 2001:db8:1::/48]\n"
		"  geoip:\n"
		"    city_db: %T/maxmind/GeoLite2-City-Test.mmdb\n"
		"    asn_db: %T/maxmind/GeoLite2-ASN-Test.mmdb\n");
	e = create(&cfg, &stop, err, sizeof(err));
	if (e == NULL)
		fail_msg("%s", err);
	r = vf_enrich_reader_create(e);
	assert_non_null(r);

	doc = enrich_line(r, LINE("10.1.2.3", "81.2.69.142"), NULL);
	assert_field(doc, "_src_addr_internal", "true");
	assert_field(doc, "_dst_addr_internal", "false");
	assert_field(doc, "_dst_addr_country_code", "GB");
	assert_field(doc, "_dst_addr_city_name", "London");
	assert_field(doc, "_dst_addr_geolocation", "51.5142,-0.0931");
	/* internal addresses are not looked up */
	assert_no_field(doc, "_src_addr_country_code");
	/* no list configured: no threat fields; no entities: none either */
	assert_no_field(doc, "_dst_addr_threat_indicated");
	assert_no_field(doc, "_dst_addr_entity");
	json_decref(doc);

	/* ASN as a number; a city name that is not ASCII; twice (cached) */
	for (int i = 0; i < 2; i++) {
		doc = enrich_line(r, LINE("89.160.20.115", "1.128.0.1"), NULL);
		assert_field(doc, "_src_addr_city_name", "Link\xc3\xb6ping");
		assert_field(doc, "_src_addr_internal", "false");
		assert_int_equal(json_integer_value(json_object_get(doc,
			"_dst_addr_as_number")), 1221);
		assert_field(doc, "_dst_addr_as_organization",
			"Telstra Pty Ltd");
		assert_int_equal(json_integer_value(json_object_get(doc,
			"_src_addr_as_number")), 29518);
		json_decref(doc);
	}
	/* the ASN database knows nothing of 81.2.69.142 */
	doc = enrich_line(r, LINE("81.2.69.142", "10.0.0.1"), NULL);
	assert_field(doc, "_src_addr_country_code", "GB");
	assert_no_field(doc, "_src_addr_as_number");
	assert_no_field(doc, "_src_addr_as_organization");
	json_decref(doc);
	/* RFC 1918 outside internal_networks: external, never in GeoIP */
	doc = enrich_line(r, LINE("192.168.1.1", "2001:db8:1::5"), NULL);
	assert_field(doc, "_src_addr_internal", "false");
	assert_no_field(doc, "_src_addr_country_code");
	assert_field(doc, "_dst_addr_internal", "true");
	json_decref(doc);
	/* absent addresses give nothing */
	doc = enrich_line(r, "2 123456789012 eni-1 - - - - - - - "
		"1600000000 1600000060 - NODATA", NULL);
	assert_int_equal(json_object_size(doc), 1);
	json_decref(doc);

	vf_enrich_reader_destroy(r);
	assert_true(atomic_load(&vf_enrich_counters(e)->cache_hits) >= 2);
	vf_enrich_destroy(e);
	vf_config_finish(&cfg);
}

static void test_pkt_addresses(void **state)
{
	struct vf_config cfg;
	struct vf_enrich *e;
	struct vf_enrich_reader *r;
	struct vf_format *fmt;
	atomic_int stop = 0;
	char err[512];
	const char *ftext = "${srcaddr} ${dstaddr} ${pkt-srcaddr} "
		"${pkt-dstaddr}";
	json_t *doc;

	(void)state;
	load_config(&cfg, "log:\n  level: warn\n");
	e = create(&cfg, &stop, err, sizeof(err));
	assert_non_null(e);
	r = vf_enrich_reader_create(e);
	fmt = vf_format_create(ftext, strlen(ftext), err, sizeof(err));
	assert_non_null(fmt);
	doc = enrich_line(r, "10.0.0.1 10.0.0.2 172.16.0.9 8.8.8.8", fmt);
	/* the default internal networks */
	assert_field(doc, "_src_addr_internal", "true");
	assert_field(doc, "_pkt_src_addr_internal", "true");
	assert_field(doc, "_pkt_dst_addr_internal", "false");
	json_decref(doc);
	/* not an address (a future format's junk): no fields, no failure */
	doc = enrich_line(r, "10.0.0.1 nonsense - 100.64.1.1", fmt);
	assert_no_field(doc, "_dst_addr_internal");
	assert_no_field(doc, "_pkt_src_addr_internal");
	assert_field(doc, "_pkt_dst_addr_internal", "true");
	json_decref(doc);
	vf_format_destroy(fmt);
	vf_enrich_reader_destroy(r);
	vf_enrich_destroy(e);
	vf_config_finish(&cfg);
}

static void wait_for(atomic_uint_fast64_t *v, uint64_t want)
{
	for (int i = 0; i < 500 && atomic_load(v) != want; i++)
		usleep(10000);
	assert_int_equal(atomic_load(v), want);
}

static void test_threat_lists_and_reload(void **state)
{
	struct vf_config cfg;
	struct vf_enrich *e;
	struct vf_enrich_reader *r;
	struct vf_enrich_counters *c;
	atomic_int stop = 0;
	char err[512];
	json_t *doc;

	(void)state;
	write_file("bad.txt", "# a comment\n198.51.100.7\n203.0.113.0/24\n");
	write_file("drop.txt", "; Spamhaus DROP List\n"
		"1.10.16.0/20 ; SBL256894\n2a06:e480::/29 ; SBL301771\n");
	write_file("junk.txt", "<html>not a list</html>\n");
	load_config(&cfg,
		"enrich:\n"
		"  threat_lists:\n"
		"    - name: bad\n"
		"      path: %D/bad.txt\n"
		"    - name: spamhaus\n"
		"      path: %D/drop.txt\n"
		"      format: spamhaus\n"
		"    - name: junk\n"
		"      path: %D/junk.txt\n");
	e = create(&cfg, &stop, err, sizeof(err));
	if (e == NULL)
		fail_msg("%s", err);
	c = (struct vf_enrich_counters *)vf_enrich_counters(e);
	assert_int_equal(vf_enrich_n_lists(e), 3);
	assert_string_equal(vf_enrich_list_name(e, 1), "spamhaus");
	assert_int_equal(atomic_load(&c->list_entries[0]), 2);
	assert_int_equal(atomic_load(&c->list_entries[1]), 2);
	/* a list with no address in it fails, and stays empty */
	assert_int_equal(atomic_load(&c->list_failures[2]), 1);
	r = vf_enrich_reader_create(e);

	doc = enrich_line(r, LINE("203.0.113.77", "1.10.17.1"), NULL);
	assert_field(doc, "_src_addr_threat_indicated", "true");
	assert_field(doc, "_src_addr_threat_indicated_bad", "true");
	assert_no_field(doc, "_src_addr_threat_indicated_spamhaus");
	assert_field(doc, "_dst_addr_threat_indicated", "true");
	assert_field(doc, "_dst_addr_threat_indicated_spamhaus", "true");
	assert_no_field(doc, "_dst_addr_threat_indicated_bad");
	json_decref(doc);
	doc = enrich_line(r, LINE("2a06:e481::1", "10.0.0.1"), NULL);
	assert_field(doc, "_src_addr_threat_indicated_spamhaus", "true");
	assert_field(doc, "_dst_addr_threat_indicated", "false");
	json_decref(doc);

	/* a new version of the list, and SIGHUP's reload: the cache of the
	 * old snapshot must not answer */
	write_file("bad.txt", "10.0.0.1\n");
	vf_enrich_reload(e);
	wait_for(&c->list_entries[0], 1);
	for (int i = 0; i < 100; i++) {
		doc = enrich_line(r, LINE("203.0.113.77", "10.0.0.1"), NULL);
		if (strcmp(str(doc, "_dst_addr_threat_indicated"), "true") == 0)
			break;
		json_decref(doc);
		doc = NULL;
		usleep(10000);
	}
	assert_non_null(doc);
	assert_field(doc, "_src_addr_threat_indicated", "false");
	assert_field(doc, "_dst_addr_threat_indicated_bad", "true");
	json_decref(doc);
	/* the list breaks: the last good contents stay */
	write_file("bad.txt", "garbage\n");
	vf_enrich_reload(e);
	wait_for(&c->list_failures[0], 1);
	doc = enrich_line(r, LINE("10.0.0.1", "203.0.113.77"), NULL);
	assert_field(doc, "_src_addr_threat_indicated_bad", "true");
	json_decref(doc);
	vf_enrich_reader_destroy(r);
	/* hits counted by flow and list */
	assert_int_equal(atomic_load(&c->threat_hits[0]), 3);
	assert_int_equal(atomic_load(&c->threat_hits[1]), 2);
	vf_enrich_destroy(e);
	vf_config_finish(&cfg);
}

static void test_geoip_missing(void **state)
{
	struct vf_config cfg;
	atomic_int stop = 0;
	char err[512] = "";

	(void)state;
	load_config(&cfg, "enrich:\n  geoip:\n    city_db: %D/none.mmdb\n");
	assert_null(create(&cfg, &stop, err, sizeof(err)));
	assert_non_null(strstr(err, "none.mmdb"));
	vf_config_finish(&cfg);
	/* a file that is not MMDB */
	write_file("fake.mmdb", "not a database");
	load_config(&cfg, "enrich:\n  geoip:\n    asn_db: %D/fake.mmdb\n");
	assert_null(create(&cfg, &stop, err, sizeof(err)));
	assert_non_null(strstr(err, "fake.mmdb"));
	vf_config_finish(&cfg);
}

static void add_entity(struct vf_entity_list *l, const char *eni,
	const char *vpc, const char *entity, const char *type,
	const char *const *addrs)
{
	struct vf_entity ent = { 0 };

	snprintf(ent.eni_id, sizeof(ent.eni_id), "%s", eni);
	snprintf(ent.vpc_id, sizeof(ent.vpc_id), "%s", vpc);
	snprintf(ent.subnet_id, sizeof(ent.subnet_id), "subnet-%s", vpc + 4);
	snprintf(ent.entity, sizeof(ent.entity), "%s", entity);
	snprintf(ent.aws_type, sizeof(ent.aws_type), "%s", type);
	snprintf(ent.description, sizeof(ent.description), "\"%s\"", eni);
	assert_true(vf_entity_list_add(l, &ent));
	for (; *addrs; addrs++) {
		struct vf_addr a;

		assert_true(vf_addr_parse(*addrs, strlen(*addrs), &a));
		assert_true(vf_entity_list_add_addr(l, &a));
	}
}

static void test_entity_table(void **state)
{
	struct vf_entity_list l;
	struct vf_entity_table *t;
	const struct vf_entity *ent;
	struct vf_addr a;
	bool amb;
	size_t n;
	const char *frag;

	(void)state;
	vf_entity_list_init(&l);
	add_entity(&l, "eni-a", "vpc-aaa", "ec2:i-a", "EC2",
		(const char *[]){ "10.0.0.5", "54.1.2.3", "2600:1f18::5", NULL });
	add_entity(&l, "eni-b", "vpc-bbb", "rds:eni-b", "RDS",
		(const char *[]){ "10.0.0.5", "10.9.9.9", NULL });
	t = vf_entity_table_create(&l);
	assert_non_null(t);
	assert_int_equal(vf_entity_table_size(t), 2);

	vf_addr_parse("54.1.2.3", 8, &a);
	ent = vf_entity_table_lookup(t, &a, NULL, 0, &amb);
	assert_non_null(ent);
	assert_false(amb);
	assert_string_equal(ent->entity, "ec2:i-a");
	vf_addr_parse("2600:1f18::5", 12, &a);
	assert_non_null(vf_entity_table_lookup(t, &a, NULL, 0, &amb));
	vf_addr_parse("10.0.0.6", 8, &a);
	assert_null(vf_entity_table_lookup(t, &a, NULL, 0, &amb));
	/* the same private address in two VPCs: the flow's VPC wins */
	vf_addr_parse("10.0.0.5", 8, &a);
	ent = vf_entity_table_lookup(t, &a, "vpc-bbb", 7, &amb);
	assert_true(amb);
	assert_string_equal(ent->entity, "rds:eni-b");
	ent = vf_entity_table_lookup(t, &a, "vpc-aaa", 7, &amb);
	assert_string_equal(ent->entity, "ec2:i-a");
	ent = vf_entity_table_lookup(t, &a, "vpc-zzz", 7, &amb);
	assert_string_equal(ent->entity, "ec2:i-a");
	assert_string_equal(vf_entity_table_eni_vpc(t, "eni-b", 5), "vpc-bbb");
	assert_null(vf_entity_table_eni_vpc(t, "eni-c", 5));
	/* the rendered fields, escaped, with the name marker */
	frag = vf_entity_table_fragment(t, ent, &n);
	assert_non_null(memmem(frag, n, "_entity_description\":\"\\\"eni-a\\\"\"",
		32));
	assert_non_null(memchr(frag, VF_FRAG_PREFIX, n));
	vf_entity_table_destroy(t);
}

/* Readers enrich while the refresh side publishes again and again. */
struct stress {
	struct vf_enrich *e;
	atomic_int done;
	atomic_uint flows;
};

static void *reader_thread(void *arg)
{
	struct stress *s = arg;
	struct vf_enrich_reader *r = vf_enrich_reader_create(s->e);
	struct vf_flow flow;
	struct vf_buf b;
	char line[200];

	vf_buf_init(&b, 1 << 16);
	for (unsigned i = 0; !atomic_load(&s->done); i++) {
		snprintf(line, sizeof(line), LINE("10.%u.%u.1", "198.51.100.%u"),
			i % 7, i % 13, i % 200);
		if (vf_flow_parse(&flow, vf_format_default(), line,
		    strlen(line)) != VF_FLOW_OK || !vf_enrich_flow(r, &flow, &b))
			abort();
		if (memmem(b.data, b.len, "threat_indicated", 16) == NULL)
			abort();
		vf_buf_reset(&b);
		atomic_fetch_add(&s->flows, 1);
	}
	vf_buf_finish(&b);
	vf_enrich_reader_destroy(r);
	return NULL;
}

static void test_swap_under_readers(void **state)
{
	struct vf_config cfg;
	struct stress s = { 0 };
	pthread_t th[3];
	atomic_int stop = 0;
	char err[512];
	uint64_t published;

	(void)state;
	write_file("swap.txt", "198.51.100.0/25\n");
	load_config(&cfg, "enrich:\n  threat_lists:\n    - name: swap\n"
		"      path: %D/swap.txt\nlog:\n  level: warn\n");
	s.e = create(&cfg, &stop, err, sizeof(err));
	assert_non_null(s.e);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader_thread,
			&s), 0);
	for (int i = 0; i < 20; i++) {
		char text[64];

		snprintf(text, sizeof(text), "198.51.100.%d/32\n10.0.0.%d\n",
			i, i);
		write_file("swap.txt", text);
		vf_enrich_reload(s.e);
		usleep(30000);
	}
	atomic_store(&s.done, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	published = atomic_load(&vf_enrich_counters(s.e)->list_entries[0]);
	assert_int_equal(published, 2);
	assert_true(atomic_load(&s.flows) > 0);
	vf_enrich_destroy(s.e);
	vf_config_finish(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_internal_geoip_asn),
		cmocka_unit_test(test_pkt_addresses),
		cmocka_unit_test(test_threat_lists_and_reload),
		cmocka_unit_test(test_geoip_missing),
		cmocka_unit_test(test_entity_table),
		cmocka_unit_test(test_swap_under_readers),
	};

	log_init(LOG_LEVEL_WARN, false);
	return cmocka_run_group_tests(tests, setup, teardown);
}
