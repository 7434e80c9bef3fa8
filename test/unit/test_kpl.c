#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcflowd/kpl.h"

#ifndef VF_TEST_DATA
#define VF_TEST_DATA "test/data"
#endif

static const uint8_t magic[VF_KPL_MAGIC_LEN] = { 0xf3, 0x89, 0x9a, 0xc2 };

/* ---- files ---- */

static const char *data_dir(void)
{
	const char *d = getenv("VF_TEST_DATA");

	return d != NULL && *d != '\0' ? d : VF_TEST_DATA;
}

/* Reads VF_TEST_DATA/kpl/<name>; the caller frees. */
static uint8_t *load(const char *name, size_t *len)
{
	char path[4096];
	uint8_t *buf;
	long size;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kpl/%s", data_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

/* ---- collecting callback ---- */

struct got {
	const uint8_t *lo, *hi;     /* the input: every pointer must be in it */
	size_t stop_after;          /* 0: never stop */
	size_t n, cap;
	struct vf_kpl_record *rec;
};

static void got_init(struct got *g, const uint8_t *buf, size_t len, size_t cap)
{
	memset(g, 0, sizeof(*g));
	g->lo = buf;
	g->hi = buf + len;
	g->cap = cap;
	g->rec = calloc(cap ? cap : 1, sizeof(*g->rec));
	assert_non_null(g->rec);
}

static void got_free(struct got *g)
{
	free(g->rec);
	g->rec = NULL;
}

static bool inside(const struct got *g, const void *p, size_t len)
{
	const uint8_t *b = p;

	return b != NULL && b >= g->lo && b <= g->hi &&
		len <= (size_t)(g->hi - b);
}

static bool collect(void *ctx, const struct vf_kpl_record *rec, size_t index)
{
	struct got *g = ctx;

	assert_int_equal(index, g->n);
	assert_true(g->n < g->cap);
	assert_true(inside(g, rec->data, rec->len));
	assert_true(inside(g, rec->partition_key, rec->partition_key_len));
	if (rec->explicit_hash_key != NULL)
		assert_true(inside(g, rec->explicit_hash_key,
			rec->explicit_hash_key_len));
	else
		assert_int_equal(rec->explicit_hash_key_len, 0);
	g->rec[g->n++] = *rec;
	return g->stop_after == 0 || g->n < g->stop_after;
}

static void assert_mem(const void *p, size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

/* ---- a tiny protobuf writer ---- */

struct pbw {
	uint8_t *p;
	size_t len, cap;
};

static void w_raw(struct pbw *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 64;

		while (cap < w->len + n)
			cap *= 2;
		w->p = realloc(w->p, cap);
		assert_non_null(w->p);
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void w_byte(struct pbw *w, uint8_t b)
{
	w_raw(w, &b, 1);
}

static void w_varint(struct pbw *w, uint64_t v)
{
	while (v >= 0x80) {
		w_byte(w, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	w_byte(w, (uint8_t)v);
}

static void w_key(struct pbw *w, uint32_t field, unsigned wire)
{
	w_varint(w, (uint64_t)field << 3 | wire);
}

static void w_uint(struct pbw *w, uint32_t field, uint64_t v)
{
	w_key(w, field, 0);
	w_varint(w, v);
}

static void w_bytes(struct pbw *w, uint32_t field, const void *p, size_t n)
{
	w_key(w, field, 2);
	w_varint(w, n);
	w_raw(w, p, n);
}

static void w_str(struct pbw *w, uint32_t field, const char *s)
{
	w_bytes(w, field, s, strlen(s));
}

/* Embeds sub as a length-delimited field and frees it. */
static void w_msg(struct pbw *w, uint32_t field, struct pbw *sub)
{
	w_bytes(w, field, sub->p, sub->len);
	free(sub->p);
	memset(sub, 0, sizeof(*sub));
}

/* A Record: ehk < 0 leaves the explicit hash key index out. */
static void w_record(struct pbw *agg, uint64_t pk, int64_t ehk,
	const char *data)
{
	struct pbw r = { 0 };

	w_uint(&r, 1, pk);
	if (ehk >= 0)
		w_uint(&r, 2, (uint64_t)ehk);
	w_str(&r, 3, data);
	w_msg(agg, 3, &r);
}

/* Magic + body + MD5(body); frees the body. */
static uint8_t *wrap(struct pbw *body, size_t *len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct pbw out = { 0 };

	assert_int_equal(EVP_Digest(body->p ? body->p : (uint8_t *)"",
		body->len, md, &mdlen, EVP_md5(), NULL), 1);
	assert_int_equal(mdlen, 16);
	w_raw(&out, magic, sizeof(magic));
	w_raw(&out, body->p, body->len);
	w_raw(&out, md, mdlen);
	free(body->p);
	memset(body, 0, sizeof(*body));
	*len = out.len;
	return out.p;
}

/* Runs a crafted body; returns the status, records land in g (cap 4096). */
static enum vf_kpl_status run(struct pbw *body, struct got *g, uint8_t **buf,
	size_t *count)
{
	size_t len;

	*buf = wrap(body, &len);
	got_init(g, *buf, len, 4096);
	return vf_kpl_deaggregate(*buf, len, collect, g, count);
}

/* The body must be refused with nothing handed out. */
static void expect_bad(struct pbw *body, const char *what)
{
	struct got g;
	uint8_t *buf;
	size_t count = 99;
	enum vf_kpl_status st = run(body, &g, &buf, &count);

	if (st != VF_KPL_BAD_MESSAGE)
		fail_msg("%s: got %s, want bad_message", what,
			vf_kpl_status_name(st));
	assert_int_equal(g.n, 0);
	assert_int_equal(count, 0);
	got_free(&g);
	free(buf);
}

/* Two good records and their tables, so a later bad part must stop them. */
static void good_prefix(struct pbw *w)
{
	w_str(w, 1, "pk0");
	w_str(w, 2, "ehk0");
	w_record(w, 0, 0, "first");
	w_record(w, 0, -1, "second");
}

/* ---- the awslabs vectors ---- */

static uint8_t *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	uint8_t *out = malloc(n / 4 * 3 + 3);
	int r;

	assert_non_null(out);
	assert_int_equal(n % 4, 0);
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	assert_true(r >= 0);
	if (n > 0 && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	*len = (size_t)r - pad;
	return out;
}

static void test_vectors(void **state)
{
	char path[4096];
	json_error_t err;
	json_t *root, *inputs, *expected, *list;
	const char *key;
	size_t vectors = 0, records = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/kpl/kpl_deagg_vectors.json", data_dir());
	root = json_load_file(path, 0, &err);
	if (root == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	inputs = json_object_get(root, "inputs");
	expected = json_object_get(root, "expected");
	assert_true(json_is_object(inputs));
	assert_true(json_is_object(expected));

	json_object_foreach(expected, key, list) {
		char inkey[512], file[512];
		const char *input, *b64;
		json_t *in, *rec;
		uint8_t *buf, *raw;
		size_t len, rawlen, count = 99, i;
		struct got g;
		enum vf_kpl_status st;

		if (strstr(key, "__input") != NULL)
			continue;
		assert_true(json_is_array(list));
		snprintf(inkey, sizeof(inkey), "%s__input", key);
		input = json_string_value(json_object_get(expected, inkey));
		assert_non_null(input);
		snprintf(file, sizeof(file), "%s.bin", input);
		buf = load(file, &len);

		/* the .bin is the event's data, decoded */
		in = json_object_get(inputs, input);
		assert_non_null(in);
		b64 = json_string_value(json_object_get(
			json_object_get(in, "kinesis") ? json_object_get(in, "kinesis")
			: in, "data"));
		assert_non_null(b64);
		raw = b64_decode(b64, &rawlen);
		assert_int_equal(rawlen, len);
		assert_memory_equal(raw, buf, len);
		free(raw);

		got_init(&g, buf, len, 64);
		st = vf_kpl_deaggregate(buf, len, collect, &g, &count);
		if (!vf_kpl_has_magic(buf, len)) {
			/* a plain record: it is its own single user record */
			assert_int_equal(st, VF_KPL_NOT_AGGREGATED);
			assert_int_equal(g.n, 0);
			assert_int_equal(count, 0);
			assert_int_equal(json_array_size(list), 1);
			assert_mem(buf, len, json_string_value(
				json_object_get(json_array_get(list, 0), "data")));
			records++;
		} else {
			if (st != VF_KPL_OK)
				fail_msg("%s: %s", input, vf_kpl_status_name(st));
			assert_int_equal(count, json_array_size(list));
			assert_int_equal(g.n, json_array_size(list));
			json_array_foreach(list, i, rec) {
				const char *ehk = json_string_value(
					json_object_get(rec, "explicitHashKey"));

				assert_mem(g.rec[i].data, g.rec[i].len,
					json_string_value(json_object_get(rec, "data")));
				assert_mem(g.rec[i].partition_key,
					g.rec[i].partition_key_len,
					json_string_value(json_object_get(rec,
					"partitionKey")));
				if (ehk == NULL) {
					assert_null(g.rec[i].explicit_hash_key);
				} else {
					assert_non_null(g.rec[i].explicit_hash_key);
					assert_mem(g.rec[i].explicit_hash_key,
						g.rec[i].explicit_hash_key_len, ehk);
				}
				records++;
			}
		}
		vectors++;
		got_free(&g);
		free(buf);
	}
	assert_int_equal(vectors, 4);
	assert_int_equal(records, 4 + 8 + 4 + 1);
	json_decref(root);
}

/* Any changed byte after the magic is caught by the MD5. */
static void test_bad_checksum(void **state)
{
	static const char *const files[] = {
		"kpl_generated_rec_with_ehks.bin",
		"kpl_generated_rec_no_ehks.bin",
		"kpl_generated_ka_rec.bin",
	};
	size_t f, i, len, count;

	(void)state;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		uint8_t *buf = load(files[f], &len);
		struct got g;

		got_init(&g, buf, len, 64);
		for (i = VF_KPL_MAGIC_LEN; i < len; i++) {
			buf[i] ^= 0x01;
			count = 99;
			assert_int_equal(vf_kpl_deaggregate(buf, len, collect, &g,
				&count), VF_KPL_BAD_CHECKSUM);
			assert_int_equal(g.n, 0);
			assert_int_equal(count, 0);
			buf[i] ^= 0x01;
		}
		/* and the untouched buffer still decodes */
		assert_int_equal(vf_kpl_deaggregate(buf, len, collect, &g,
			&count), VF_KPL_OK);
		assert_true(count > 0);
		got_free(&g);
		free(buf);
	}
}

static void test_not_aggregated(void **state)
{
	uint8_t short_buf[VF_KPL_MAGIC_LEN + VF_KPL_DIGEST_LEN - 1];
	uint8_t *buf;
	size_t len, count = 99;
	struct got g;

	(void)state;
	got_init(&g, magic, sizeof(magic), 4);
	assert_int_equal(vf_kpl_deaggregate(NULL, 0, collect, &g, &count),
		VF_KPL_NOT_AGGREGATED);
	assert_int_equal(count, 0);
	assert_int_equal(vf_kpl_deaggregate(magic, sizeof(magic), collect, &g,
		NULL), VF_KPL_NOT_AGGREGATED);
	/* magic, but one byte short of magic + MD5 */
	memset(short_buf, 0, sizeof(short_buf));
	memcpy(short_buf, magic, sizeof(magic));
	assert_int_equal(vf_kpl_deaggregate(short_buf, sizeof(short_buf),
		collect, &g, NULL), VF_KPL_NOT_AGGREGATED);
	assert_int_equal(g.n, 0);
	got_free(&g);

	/* a valid aggregate whose magic is damaged */
	buf = load("kpl_generated_rec_with_ehks.bin", &len);
	got_init(&g, buf, len, 64);
	buf[3] ^= 0xff;
	count = 99;
	assert_int_equal(vf_kpl_deaggregate(buf, len, collect, &g, &count),
		VF_KPL_NOT_AGGREGATED);
	assert_int_equal(count, 0);
	assert_int_equal(g.n, 0);
	got_free(&g);
	free(buf);
}

static void test_has_magic(void **state)
{
	const uint8_t plain[] = "RECORD 749";
	const uint8_t almost[] = { 0xf3, 0x89, 0x9a, 0xc3 };

	(void)state;
	assert_true(vf_kpl_has_magic(magic, sizeof(magic)));
	assert_false(vf_kpl_has_magic(magic, sizeof(magic) - 1));
	assert_false(vf_kpl_has_magic(NULL, 0));
	assert_false(vf_kpl_has_magic(plain, sizeof(plain) - 1));
	assert_false(vf_kpl_has_magic(almost, sizeof(almost)));
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(vf_kpl_status_name(VF_KPL_OK), "ok");
	assert_string_equal(vf_kpl_status_name(VF_KPL_NOT_AGGREGATED),
		"not_aggregated");
	assert_string_equal(vf_kpl_status_name(VF_KPL_BAD_CHECKSUM),
		"bad_checksum");
	assert_string_equal(vf_kpl_status_name(VF_KPL_BAD_MESSAGE),
		"bad_message");
	assert_string_equal(vf_kpl_status_name((enum vf_kpl_status)42),
		"unknown");
}

/* ---- crafted messages that must be accepted ---- */

static void test_zero_records(void **state)
{
	struct pbw w = { 0 };
	struct got g;
	uint8_t *buf;
	size_t count = 99;

	(void)state;
	/* an empty body: exactly magic + MD5 of nothing */
	assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
	assert_int_equal(count, 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.hi - g.lo, VF_KPL_MAGIC_LEN + VF_KPL_DIGEST_LEN);
	got_free(&g);
	free(buf);

	/* tables, but no records */
	w_str(&w, 1, "pk");
	w_str(&w, 2, "ehk");
	count = 99;
	assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
	assert_int_equal(count, 0);
	assert_int_equal(g.n, 0);
	got_free(&g);
	free(buf);
}

static void test_empty_data_and_keys(void **state)
{
	struct pbw w = { 0 };
	struct got g;
	uint8_t *buf;
	size_t count;

	(void)state;
	w_str(&w, 1, "");
	w_str(&w, 2, "");
	w_record(&w, 0, 0, "");
	w_record(&w, 0, -1, "x");
	assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
	assert_int_equal(count, 2);
	assert_non_null(g.rec[0].data);
	assert_int_equal(g.rec[0].len, 0);
	assert_non_null(g.rec[0].partition_key);
	assert_int_equal(g.rec[0].partition_key_len, 0);
	assert_non_null(g.rec[0].explicit_hash_key);
	assert_int_equal(g.rec[0].explicit_hash_key_len, 0);
	assert_mem(g.rec[1].data, g.rec[1].len, "x");
	assert_null(g.rec[1].explicit_hash_key);
	got_free(&g);
	free(buf);
}

/* Unknown fields of every wire type, at every level, are skipped. */
static void test_unknown_fields(void **state)
{
	static const uint8_t eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pbw w = { 0 }, r = { 0 }, t = { 0 };
	struct got g;
	uint8_t *buf;
	size_t count;
	uint32_t f;

	(void)state;
	for (f = 5; f <= 536870911u; f = f * 7 + 3) {
		w_uint(&w, f, UINT64_MAX);
		w_key(&w, f, 1);
		w_raw(&w, eight, 8);
		w_str(&w, f, "skip me");
		w_key(&w, f, 5);
		w_raw(&w, eight, 4);
		if (f > 536870911u / 7)
			break;
	}
	w_uint(&w, 536870911u, 1);	/* the largest field number */
	w_str(&w, 1, "pk");
	/* a tag with unknown fields of its own */
	w_str(&t, 1, "tagkey");
	w_str(&t, 2, "tagvalue");
	w_uint(&t, 3, 7);
	w_key(&t, 4, 1);
	w_raw(&t, eight, 8);
	w_key(&t, 5, 5);
	w_raw(&t, eight, 4);
	w_str(&t, 6, "x");
	/* a record with unknown fields and tags */
	w_uint(&r, 9, 1);
	w_uint(&r, 1, 0);
	w_key(&r, 10, 1);
	w_raw(&r, eight, 8);
	w_str(&r, 3, "payload");
	w_key(&r, 11, 5);
	w_raw(&r, eight, 4);
	w_msg(&r, 4, &t);
	w_str(&t, 1, "only-a-key");
	w_msg(&r, 4, &t);
	w_str(&r, 12, "more");
	w_msg(&w, 3, &r);
	w_uint(&w, 99, 1);
	assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
	assert_int_equal(count, 1);
	assert_mem(g.rec[0].data, g.rec[0].len, "payload");
	assert_mem(g.rec[0].partition_key, g.rec[0].partition_key_len, "pk");
	assert_null(g.rec[0].explicit_hash_key);
	got_free(&g);
	free(buf);
}

/*
 * Records may come before the tables; a repeated scalar keeps its last
 * value, as protobuf parsers do.
 */
static void test_field_order(void **state)
{
	struct pbw w = { 0 }, r = { 0 };
	struct got g;
	uint8_t *buf;
	size_t count;

	(void)state;
	w_record(&w, 1, 0, "before the tables");
	w_str(&w, 1, "pk-a");
	w_str(&w, 2, "ehk-a");
	w_record(&w, 0, -1, "between");
	w_str(&w, 1, "pk-b");
	w_uint(&r, 1, 0);
	w_str(&r, 3, "old data");
	w_uint(&r, 2, 0);
	w_uint(&r, 1, 1);
	w_str(&r, 3, "new data");
	w_msg(&w, 3, &r);
	assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
	assert_int_equal(count, 3);
	assert_mem(g.rec[0].data, g.rec[0].len, "before the tables");
	assert_mem(g.rec[0].partition_key, g.rec[0].partition_key_len, "pk-b");
	assert_mem(g.rec[0].explicit_hash_key, g.rec[0].explicit_hash_key_len,
		"ehk-a");
	assert_mem(g.rec[1].data, g.rec[1].len, "between");
	assert_mem(g.rec[1].partition_key, g.rec[1].partition_key_len, "pk-a");
	assert_null(g.rec[1].explicit_hash_key);
	assert_mem(g.rec[2].data, g.rec[2].len, "new data");
	assert_mem(g.rec[2].partition_key, g.rec[2].partition_key_len, "pk-b");
	assert_mem(g.rec[2].explicit_hash_key, g.rec[2].explicit_hash_key_len,
		"ehk-a");
	got_free(&g);
	free(buf);
}

static void test_stop_and_count_only(void **state)
{
	struct pbw w = { 0 };
	struct got g;
	uint8_t *buf;
	size_t len, count, i;

	(void)state;
	w_str(&w, 1, "k");
	for (i = 0; i < 5; i++)
		w_record(&w, 0, -1, "d");
	buf = wrap(&w, &len);
	got_init(&g, buf, len, 16);
	g.stop_after = 2;
	count = 99;
	assert_int_equal(vf_kpl_deaggregate(buf, len, collect, &g, &count),
		VF_KPL_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(count, 2);
	count = 99;
	assert_int_equal(vf_kpl_deaggregate(buf, len, NULL, NULL, &count),
		VF_KPL_OK);
	assert_int_equal(count, 5);
	assert_int_equal(vf_kpl_deaggregate(buf, len, NULL, NULL, NULL),
		VF_KPL_OK);
	got_free(&g);
	free(buf);
}

/* Tables larger than the on-stack index, looked up out of order. */
static void test_large_tables(void **state)
{
	enum { NPK = 1000, NEHK = 300, NREC = 1500 };
	struct pbw w = { 0 };
	struct got g;
	uint8_t *buf;
	size_t len, count, i;
	char s[32];

	(void)state;
	for (i = 0; i < NREC; i++) {
		snprintf(s, sizeof(s), "data-%zu", i);
		w_record(&w, (i * 7919) % NPK,
			i % 3 == 0 ? -1 : (int64_t)((i * 31) % NEHK), s);
		if (i == 10) {
			size_t k;

			/* the tables in the middle of the records */
			for (k = 0; k < NPK; k++) {
				snprintf(s, sizeof(s), "pk-%zu", k);
				w_str(&w, 1, s);
				if (k < NEHK) {
					snprintf(s, sizeof(s), "ehk-%zu", k);
					w_str(&w, 2, s);
				}
			}
		}
	}
	buf = wrap(&w, &len);
	got_init(&g, buf, len, NREC);
	assert_int_equal(vf_kpl_deaggregate(buf, len, collect, &g, &count),
		VF_KPL_OK);
	assert_int_equal(count, NREC);
	for (i = 0; i < NREC; i++) {
		snprintf(s, sizeof(s), "data-%zu", i);
		assert_mem(g.rec[i].data, g.rec[i].len, s);
		snprintf(s, sizeof(s), "pk-%zu", (i * 7919) % NPK);
		assert_mem(g.rec[i].partition_key, g.rec[i].partition_key_len, s);
		if (i % 3 == 0) {
			assert_null(g.rec[i].explicit_hash_key);
		} else {
			snprintf(s, sizeof(s), "ehk-%zu", (i * 31) % NEHK);
			assert_mem(g.rec[i].explicit_hash_key,
				g.rec[i].explicit_hash_key_len, s);
		}
	}
	got_free(&g);
	free(buf);
}

/* VF_KPL_MAX_KEYS entries per table are fine, one more is not. */
static void test_key_cap(void **state)
{
	struct pbw w = { 0 };
	struct got g;
	uint8_t *buf;
	size_t count, i;
	unsigned table;

	(void)state;
	for (table = 1; table <= 2; table++) {
		/* table 1: "pk", blanks, "last-pk"; table 2: blanks, "last-ehk" */
		w_str(&w, 1, "pk");
		for (i = 0; i < VF_KPL_MAX_KEYS - 1 - (table == 1); i++)
			w_str(&w, table, "");
		if (table == 1)
			w_str(&w, 1, "last-pk");
		else
			w_str(&w, 2, "last-ehk");
		w_record(&w, table == 1 ? VF_KPL_MAX_KEYS - 1 : 0,
			table == 2 ? VF_KPL_MAX_KEYS - 1 : -1, "d");
		assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
		assert_int_equal(count, 1);
		if (table == 1)
			assert_mem(g.rec[0].partition_key,
				g.rec[0].partition_key_len, "last-pk");
		else
			assert_mem(g.rec[0].explicit_hash_key,
				g.rec[0].explicit_hash_key_len, "last-ehk");
		got_free(&g);
		free(buf);

		/* one entry more: VF_KPL_MAX_KEYS + 1 in the table */
		w_str(&w, 1, "pk");
		for (i = 0; i < VF_KPL_MAX_KEYS + (table == 2); i++)
			w_str(&w, table, "");
		w_record(&w, 0, -1, "d");
		expect_bad(&w, table == 1 ? "too many partition keys"
			: "too many explicit hash keys");
	}
}

/* The largest varint (10 bytes, UINT64_MAX) is read, not refused. */
static void test_max_varint(void **state)
{
	static const uint8_t max[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
	};
	struct pbw w = { 0 };
	struct got g;
	uint8_t *buf;
	size_t count;

	(void)state;
	w_str(&w, 1, "pk");
	w_key(&w, 7, 0);
	w_raw(&w, max, sizeof(max));
	w_record(&w, 0, -1, "d");
	assert_int_equal(run(&w, &g, &buf, &count), VF_KPL_OK);
	assert_int_equal(count, 1);
	got_free(&g);
	free(buf);
}

/* ---- crafted messages that must be refused ---- */

static void test_bad_index(void **state)
{
	struct pbw w = { 0 };

	(void)state;
	good_prefix(&w);
	w_record(&w, 1, -1, "pk index 1 of 1");
	expect_bad(&w, "pk index past the table");

	good_prefix(&w);
	w_record(&w, 0, 1, "ehk index 1 of 1");
	expect_bad(&w, "ehk index past the table");

	w_record(&w, 0, -1, "no pk table at all");
	expect_bad(&w, "empty pk table");

	w_str(&w, 1, "pk");
	w_record(&w, 0, 0, "no ehk table at all");
	expect_bad(&w, "empty ehk table");

	good_prefix(&w);
	w_record(&w, UINT64_MAX, -1, "huge");
	expect_bad(&w, "pk index UINT64_MAX");

	good_prefix(&w);
	w_record(&w, 0, INT64_MAX, "huge");
	expect_bad(&w, "huge ehk index");

	good_prefix(&w);
	w_record(&w, (uint64_t)1 << 32, -1, "2^32");
	expect_bad(&w, "pk index 2^32");
}

static void test_truncated_varint(void **state)
{
	struct pbw w = { 0 }, r = { 0 };

	(void)state;
	good_prefix(&w);
	w_byte(&w, 0x80);
	expect_bad(&w, "truncated top-level key");

	good_prefix(&w);
	w_key(&w, 9, 0);
	w_byte(&w, 0xff);
	w_byte(&w, 0xff);
	expect_bad(&w, "truncated top-level varint value");

	good_prefix(&w);
	w_key(&w, 3, 2);
	expect_bad(&w, "missing length");

	good_prefix(&w);
	w_key(&r, 1, 0);
	w_byte(&r, 0x81);
	w_msg(&w, 3, &r);
	/* the record's own length is right; the bytes after it are valid
	 * varint tails, which must not be read as part of it */
	w_str(&w, 1, "\x01");
	expect_bad(&w, "truncated pk index inside a record");
}

static void test_varint_overflow(void **state)
{
	static const uint8_t eleven[] = {
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
	};
	static const uint8_t past64[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
	};
	struct pbw w = { 0 }, r = { 0 };

	(void)state;
	good_prefix(&w);
	w_key(&w, 9, 0);
	w_raw(&w, eleven, sizeof(eleven));
	expect_bad(&w, "11-byte varint");

	good_prefix(&w);
	w_key(&w, 9, 0);
	w_raw(&w, past64, sizeof(past64));
	expect_bad(&w, "varint past 64 bits");

	good_prefix(&w);
	w_key(&r, 1, 0);
	w_raw(&r, eleven, sizeof(eleven));
	w_str(&r, 3, "d");
	w_msg(&w, 3, &r);
	expect_bad(&w, "11-byte pk index");

	good_prefix(&w);
	w_raw(&w, eleven, sizeof(eleven));
	expect_bad(&w, "11-byte key");

	good_prefix(&w);
	w_varint(&w, (uint64_t)1 << 35 | 2);
	w_byte(&w, 0);
	expect_bad(&w, "field number past 2^29");

	good_prefix(&w);
	w_key(&w, 0, 2);
	w_byte(&w, 0);
	expect_bad(&w, "field number 0");
}

static void test_length_past_end(void **state)
{
	static const uint8_t three[3] = { 0 };
	struct pbw w = { 0 }, r = { 0 };

	(void)state;
	good_prefix(&w);
	w_key(&w, 3, 2);
	w_varint(&w, 100);
	w_raw(&w, "short", 5);
	expect_bad(&w, "record length past the end");

	good_prefix(&w);
	w_key(&w, 1, 2);
	w_varint(&w, UINT64_MAX);
	expect_bad(&w, "pk length UINT64_MAX");

	good_prefix(&w);
	w_key(&w, 17, 2);
	w_varint(&w, 2);
	w_byte(&w, 'x');
	expect_bad(&w, "unknown field length past the end");

	/* data longer than its record, though the message goes on */
	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_key(&r, 3, 2);
	w_varint(&r, 10);
	w_raw(&r, "abc", 3);
	w_msg(&w, 3, &r);
	w_str(&w, 17, "padding that a sloppy reader would use");
	expect_bad(&w, "data past the end of its record");

	good_prefix(&w);
	w_key(&w, 17, 1);
	w_raw(&w, "1234567", 7);
	expect_bad(&w, "truncated fixed64");

	good_prefix(&w);
	w_key(&w, 17, 5);
	w_raw(&w, three, 3);
	expect_bad(&w, "truncated fixed32");
}

static void test_missing_required(void **state)
{
	struct pbw w = { 0 }, r = { 0 }, t = { 0 };

	(void)state;
	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_msg(&w, 3, &r);
	expect_bad(&w, "record without data");

	good_prefix(&w);
	w_str(&r, 3, "data");
	w_msg(&w, 3, &r);
	expect_bad(&w, "record without pk index");

	good_prefix(&w);
	w_msg(&w, 3, &r);
	expect_bad(&w, "empty record");

	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_str(&r, 3, "data");
	w_str(&t, 2, "value without key");
	w_msg(&r, 4, &t);
	w_msg(&w, 3, &r);
	expect_bad(&w, "tag without key");
}

static void test_groups(void **state)
{
	unsigned wire;
	struct pbw w = { 0 }, r = { 0 }, t = { 0 };

	(void)state;
	for (wire = 3; wire <= 7; wire++) {
		if (wire == 5)
			continue;
		good_prefix(&w);
		w_key(&w, 20, wire);
		w_key(&w, 20, 4);
		expect_bad(&w, "group or invalid wire type at the top");

		good_prefix(&w);
		w_uint(&r, 1, 0);
		w_str(&r, 3, "d");
		w_key(&r, 20, wire);
		w_msg(&w, 3, &r);
		expect_bad(&w, "group or invalid wire type in a record");

		good_prefix(&w);
		w_uint(&r, 1, 0);
		w_str(&r, 3, "d");
		w_str(&t, 1, "k");
		w_key(&t, 20, wire);
		w_msg(&r, 4, &t);
		w_msg(&w, 3, &r);
		expect_bad(&w, "group or invalid wire type in a tag");
	}
}

static void test_wrong_wire_type(void **state)
{
	struct pbw w = { 0 }, r = { 0 }, t = { 0 };

	(void)state;
	good_prefix(&w);
	w_uint(&w, 1, 5);
	expect_bad(&w, "pk table entry as varint");

	good_prefix(&w);
	w_key(&w, 2, 5);
	w_raw(&w, "abcd", 4);
	expect_bad(&w, "ehk table entry as fixed32");

	good_prefix(&w);
	w_uint(&w, 3, 1);
	expect_bad(&w, "record as varint");

	good_prefix(&w);
	w_str(&r, 1, "0");
	w_str(&r, 3, "d");
	w_msg(&w, 3, &r);
	expect_bad(&w, "pk index as bytes");

	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_key(&r, 2, 1);
	w_raw(&r, "12345678", 8);
	w_str(&r, 3, "d");
	w_msg(&w, 3, &r);
	expect_bad(&w, "ehk index as fixed64");

	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_uint(&r, 3, 7);
	w_msg(&w, 3, &r);
	expect_bad(&w, "data as varint");

	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_str(&r, 3, "d");
	w_uint(&r, 4, 1);
	w_msg(&w, 3, &r);
	expect_bad(&w, "tag as varint");

	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_str(&r, 3, "d");
	w_uint(&t, 1, 1);
	w_msg(&r, 4, &t);
	w_msg(&w, 3, &r);
	expect_bad(&w, "tag key as varint");

	good_prefix(&w);
	w_uint(&r, 1, 0);
	w_str(&r, 3, "d");
	w_str(&t, 1, "k");
	w_uint(&t, 2, 1);
	w_msg(&r, 4, &t);
	w_msg(&w, 3, &r);
	expect_bad(&w, "tag value as varint");
}

/*
 * Every truncation of a valid message, with a correct MD5, is either
 * refused or a shorter valid message: never a read out of bounds (run this
 * under ASan to make that a real check).
 */
static void test_all_truncations(void **state)
{
	uint8_t *buf, *body;
	size_t len, blen, cut;

	(void)state;
	buf = load("kpl_generated_rec_with_ehks.bin", &len);
	blen = len - VF_KPL_MAGIC_LEN - VF_KPL_DIGEST_LEN;
	body = buf + VF_KPL_MAGIC_LEN;
	for (cut = 0; cut < blen; cut++) {
		struct pbw w = { 0 };
		struct got g;
		uint8_t *b;
		size_t count = 99;
		enum vf_kpl_status st;

		w_raw(&w, body, cut);
		st = run(&w, &g, &b, &count);
		assert_true(st == VF_KPL_OK || st == VF_KPL_BAD_MESSAGE);
		if (st == VF_KPL_BAD_MESSAGE)
			assert_int_equal(g.n, 0);
		else
			assert_int_equal(g.n, count);
		got_free(&g);
		free(b);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_not_aggregated),
		cmocka_unit_test(test_has_magic),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_zero_records),
		cmocka_unit_test(test_empty_data_and_keys),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_field_order),
		cmocka_unit_test(test_stop_and_count_only),
		cmocka_unit_test(test_large_tables),
		cmocka_unit_test(test_key_cap),
		cmocka_unit_test(test_max_varint),
		cmocka_unit_test(test_bad_index),
		cmocka_unit_test(test_truncated_varint),
		cmocka_unit_test(test_varint_overflow),
		cmocka_unit_test(test_length_past_end),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_wrong_wire_type),
		cmocka_unit_test(test_all_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
