/*
 * KPL de-aggregation: checks the MD5 trailer, validates the whole protobuf
 * in one pass, indexes the key tables in a second and hands out the user
 * records in a third. Only proto2 wire format is read here, by hand: the
 * message is three levels deep and fixed, so no protobuf library is needed.
 */
#include "vpcflowd/kpl.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t kpl_magic[VF_KPL_MAGIC_LEN] = { 0xf3, 0x89, 0x9a, 0xc2 };

/* Wire types. 3 and 4 (groups) and 6, 7 are refused. */
enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

/* Field numbers. */
enum { AGG_PK_TABLE = 1, AGG_EHK_TABLE = 2, AGG_RECORDS = 3 };
enum { REC_PK_INDEX = 1, REC_EHK_INDEX = 2, REC_DATA = 3, REC_TAGS = 4 };
enum { TAG_KEY = 1, TAG_VALUE = 2 };

/* Reads [p, end) of one message. */
struct pb_reader {
	const uint8_t *p;
	const uint8_t *end;
};

/*
 * One field as read; data and len cover the value for every wire type but
 * PB_VARINT, whose value is in varint.
 */
struct pb_field {
	uint32_t num;
	unsigned wire;
	uint64_t varint;
	const uint8_t *data;
	size_t len;
};

/* A record's fields; pointers into the input. */
struct kpl_raw {
	uint64_t pk_index;
	uint64_t ehk_index;
	bool has_pk, has_ehk, has_data;
	const uint8_t *data;
	size_t len;
};

/* What the validating pass learns. */
struct kpl_scan {
	size_t n_pk, n_ehk, n_rec;
	uint64_t max_pk, max_ehk;   /* largest index any record uses */
	bool any_ehk;               /* some record has an ehk index */
};

/* A key table entry. */
struct kpl_key {
	const char *p;
	size_t len;
};

/*
 * Both key tables: keys holds n_pk partition keys, then the explicit hash
 * keys; keys NULL means look entries up by walking the message.
 */
struct kpl_tables {
	const uint8_t *msg;
	size_t len;
	size_t n_pk;
	const struct kpl_key *keys;
};

/* Base 128 varint: at most 10 bytes, and the 10th may only hold bit 63. */
static bool pb_varint(struct pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 10 && r->p < r->end; i++) {
		uint8_t b = *r->p++;

		if (i == 9 && b > 1)
			return false;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* Reads the next field, whatever its number; false when it is malformed. */
static bool pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t key, n;

	if (!pb_varint(r, &key) || key > UINT32_MAX || (key >> 3) == 0)
		return false;
	f->num = (uint32_t)(key >> 3);
	f->wire = (unsigned)(key & 7);
	switch (f->wire) {
	case PB_VARINT:
		f->data = NULL;
		f->len = 0;
		return pb_varint(r, &f->varint);
	case PB_I64:
		n = 8;
		break;
	case PB_I32:
		n = 4;
		break;
	case PB_LEN:
		if (!pb_varint(r, &n))
			return false;
		break;
	default:
		return false;
	}
	if (n > (uint64_t)(r->end - r->p))
		return false;
	f->varint = 0;
	f->data = r->p;
	f->len = (size_t)n;
	r->p += n;
	return true;
}

static bool kpl_tag_valid(const uint8_t *p, size_t len)
{
	struct pb_reader r = { p, p + len };
	struct pb_field f;
	bool has_key = false;

	while (r.p < r.end) {
		if (!pb_next(&r, &f))
			return false;
		if (f.num != TAG_KEY && f.num != TAG_VALUE)
			continue;
		if (f.wire != PB_LEN)
			return false;
		if (f.num == TAG_KEY)
			has_key = true;
	}
	return has_key;
}

static bool kpl_record_parse(const uint8_t *p, size_t len, struct kpl_raw *rec)
{
	struct pb_reader r = { p, p + len };
	struct pb_field f;

	memset(rec, 0, sizeof(*rec));
	while (r.p < r.end) {
		if (!pb_next(&r, &f))
			return false;
		switch (f.num) {
		case REC_PK_INDEX:
			if (f.wire != PB_VARINT)
				return false;
			rec->pk_index = f.varint;
			rec->has_pk = true;
			break;
		case REC_EHK_INDEX:
			if (f.wire != PB_VARINT)
				return false;
			rec->ehk_index = f.varint;
			rec->has_ehk = true;
			break;
		case REC_DATA:
			if (f.wire != PB_LEN)
				return false;
			rec->data = f.data;
			rec->len = f.len;
			rec->has_data = true;
			break;
		case REC_TAGS:
			if (f.wire != PB_LEN || !kpl_tag_valid(f.data, f.len))
				return false;
			break;
		default:
			break;
		}
	}
	return rec->has_pk && rec->has_data;
}

/* The validating pass: the whole message, before anything is handed out. */
static bool kpl_scan(const uint8_t *msg, size_t len, struct kpl_scan *s)
{
	struct pb_reader r = { msg, msg + len };
	struct pb_field f;
	struct kpl_raw rec;

	memset(s, 0, sizeof(*s));
	while (r.p < r.end) {
		if (!pb_next(&r, &f))
			return false;
		switch (f.num) {
		case AGG_PK_TABLE:
			if (f.wire != PB_LEN || ++s->n_pk > VF_KPL_MAX_KEYS)
				return false;
			break;
		case AGG_EHK_TABLE:
			if (f.wire != PB_LEN || ++s->n_ehk > VF_KPL_MAX_KEYS)
				return false;
			break;
		case AGG_RECORDS:
			if (f.wire != PB_LEN || !kpl_record_parse(f.data, f.len, &rec))
				return false;
			s->n_rec++;
			if (rec.pk_index > s->max_pk)
				s->max_pk = rec.pk_index;
			if (rec.has_ehk) {
				s->any_ehk = true;
				if (rec.ehk_index > s->max_ehk)
					s->max_ehk = rec.ehk_index;
			}
			break;
		default:
			break;
		}
	}
	/* Tables may come after the records that use them: check at the end. */
	if (s->n_rec > 0 && s->max_pk >= s->n_pk)
		return false;
	if (s->any_ehk && s->max_ehk >= s->n_ehk)
		return false;
	return true;
}

/* Indexes both tables of a validated message into keys (n_pk + n_ehk). */
static void kpl_tables_fill(const uint8_t *msg, size_t len,
	struct kpl_key *keys, size_t n_pk)
{
	struct pb_reader r = { msg, msg + len };
	struct pb_field f;
	size_t pk = 0, ehk = n_pk;

	while (r.p < r.end && pb_next(&r, &f)) {
		if (f.num == AGG_PK_TABLE)
			keys[pk++] = (struct kpl_key){ (const char *)f.data, f.len };
		else if (f.num == AGG_EHK_TABLE)
			keys[ehk++] = (struct kpl_key){ (const char *)f.data, f.len };
	}
}

/* Entry index of table field (AGG_PK_TABLE or AGG_EHK_TABLE); validated. */
static struct kpl_key kpl_key_get(const struct kpl_tables *t, unsigned field,
	uint64_t index)
{
	struct pb_reader r = { t->msg, t->msg + t->len };
	struct pb_field f;
	uint64_t i = 0;

	if (t->keys != NULL)
		return t->keys[(field == AGG_PK_TABLE ? 0 : t->n_pk) + index];
	while (r.p < r.end && pb_next(&r, &f)) {
		if (f.num == field && i++ == index)
			return (struct kpl_key){ (const char *)f.data, f.len };
	}
	return (struct kpl_key){ "", 0 };	/* not reached: validated */
}

static size_t kpl_emit(const struct kpl_tables *t, vf_kpl_cb cb, void *ctx)
{
	struct pb_reader r = { t->msg, t->msg + t->len };
	struct pb_field f;
	struct kpl_raw raw;
	struct vf_kpl_record out;
	struct kpl_key k;
	size_t n = 0;

	while (r.p < r.end && pb_next(&r, &f)) {
		if (f.num != AGG_RECORDS || !kpl_record_parse(f.data, f.len, &raw))
			continue;
		out.data = raw.data;
		out.len = raw.len;
		k = kpl_key_get(t, AGG_PK_TABLE, raw.pk_index);
		out.partition_key = k.p;
		out.partition_key_len = k.len;
		if (raw.has_ehk) {
			k = kpl_key_get(t, AGG_EHK_TABLE, raw.ehk_index);
			out.explicit_hash_key = k.p;
			out.explicit_hash_key_len = k.len;
		} else {
			out.explicit_hash_key = NULL;
			out.explicit_hash_key_len = 0;
		}
		if (!cb(ctx, &out, n++))
			break;
	}
	return n;
}

static bool kpl_md5_ok(const uint8_t *msg, size_t len, const uint8_t *want)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(msg, len, md, &mdlen, EVP_md5(), NULL))
		return false;
	return mdlen == VF_KPL_DIGEST_LEN &&
		memcmp(md, want, VF_KPL_DIGEST_LEN) == 0;
}

bool vf_kpl_has_magic(const uint8_t *buf, size_t len)
{
	return len >= VF_KPL_MAGIC_LEN &&
		memcmp(buf, kpl_magic, VF_KPL_MAGIC_LEN) == 0;
}

enum vf_kpl_status vf_kpl_deaggregate(const uint8_t *buf, size_t len,
	vf_kpl_cb cb, void *ctx, size_t *count)
{
	struct kpl_key stack[VF_KPL_STACK_KEYS];
	struct kpl_key *heap = NULL;
	struct kpl_tables t;
	struct kpl_scan s;
	size_t nkeys, n;

	if (count != NULL)
		*count = 0;
	if (len < VF_KPL_MAGIC_LEN + VF_KPL_DIGEST_LEN ||
	    !vf_kpl_has_magic(buf, len))
		return VF_KPL_NOT_AGGREGATED;
	t.msg = buf + VF_KPL_MAGIC_LEN;
	t.len = len - VF_KPL_MAGIC_LEN - VF_KPL_DIGEST_LEN;
	if (!kpl_md5_ok(t.msg, t.len, t.msg + t.len))
		return VF_KPL_BAD_CHECKSUM;
	if (!kpl_scan(t.msg, t.len, &s))
		return VF_KPL_BAD_MESSAGE;
	if (cb == NULL || s.n_rec == 0) {
		if (count != NULL)
			*count = cb == NULL ? s.n_rec : 0;
		return VF_KPL_OK;
	}

	/* Both tables are capped, so this cannot overflow. */
	nkeys = s.n_pk + s.n_ehk;
	if (nkeys <= VF_KPL_STACK_KEYS) {
		t.keys = stack;
		kpl_tables_fill(t.msg, t.len, stack, s.n_pk);
	} else {
		heap = malloc(nkeys * sizeof(*heap));
		if (heap != NULL)
			kpl_tables_fill(t.msg, t.len, heap, s.n_pk);
		t.keys = heap;
	}
	t.n_pk = s.n_pk;
	n = kpl_emit(&t, cb, ctx);
	free(heap);
	if (count != NULL)
		*count = n;
	return VF_KPL_OK;
}

const char *vf_kpl_status_name(enum vf_kpl_status status)
{
	switch (status) {
	case VF_KPL_OK:
		return "ok";
	case VF_KPL_NOT_AGGREGATED:
		return "not_aggregated";
	case VF_KPL_BAD_CHECKSUM:
		return "bad_checksum";
	case VF_KPL_BAD_MESSAGE:
		return "bad_message";
	}
	return "unknown";
}
