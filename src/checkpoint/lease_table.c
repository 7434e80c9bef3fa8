/*
 * The KCL lease table: one DynamoDB call per operation, every update
 * conditional on leaseCounter. Item attributes as DynamoDBLeaseSerializer
 * writes them; expressions rather than the legacy Expected form.
 */
#include "vpcflowd/lease.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcflowd/clock.h"

/* ---- attribute values ---- */

static json_t *attr_s(const char *s)
{
	return json_pack("{s:s}", "S", s);
}

static json_t *attr_n(int64_t n)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, n);
	return json_pack("{s:s}", "N", buf);
}

static json_t *key_of(const char *key)
{
	return json_pack("{s:o}", "leaseKey", attr_s(key));
}

/* A string attribute of item into out; false when absent or too long. */
static bool get_s(json_t *item, const char *name, char *out, size_t size)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(item, name), "S"));

	if (s == NULL || strlen(s) >= size)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

static bool get_n(json_t *item, const char *name, int64_t *out)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(item, name), "N"));
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0')
		return false;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return false;
	*out = v;
	return true;
}

/* An item as a lease; false for rows that are not leases. */
static bool parse_item(json_t *item, struct vf_lease *l)
{
	char type[32];
	json_t *ss;
	size_t i;
	json_t *v;

	memset(l, 0, sizeof(*l));
	if (get_s(item, "entityType", type, sizeof(type)) &&
	    strcmp(type, "LEASE") != 0)
		return false;
	if (json_object_get(item, "entityType") != NULL &&
	    !get_s(item, "entityType", type, sizeof(type)))
		return false;
	if (!get_s(item, "leaseKey", l->key, sizeof(l->key)) ||
	    !get_n(item, "leaseCounter", &l->counter))
		return false;
	if (!get_s(item, "leaseOwner", l->owner, sizeof(l->owner))) {
		const char *o = json_string_value(json_object_get(
			json_object_get(item, "leaseOwner"), "S"));

		/* an owner name too long to keep is still an owner */
		snprintf(l->owner, sizeof(l->owner), "%s", o ? o : "");
	}
	if (!get_s(item, "checkpoint", l->checkpoint, sizeof(l->checkpoint)))
		snprintf(l->checkpoint, sizeof(l->checkpoint), "%s",
			VF_LEASE_TRIM_HORIZON);
	if (!get_n(item, "checkpointSubSequenceNumber", &l->sub_seq))
		l->sub_seq = 0;
	if (!get_n(item, "ownerSwitchesSinceCheckpoint", &l->owner_switches))
		l->owner_switches = 0;
	ss = json_object_get(json_object_get(item, "parentShardId"), "SS");
	json_array_foreach(ss, i, v) {
		const char *p = json_string_value(v);

		if (p == NULL || strlen(p) >= VF_SHARD_ID_MAX ||
		    l->n_parents == VF_LEASE_MAX_PARENTS)
			continue;
		memcpy(l->parents[l->n_parents++], p, strlen(p) + 1);
	}
	return true;
}

/* ---- the table ---- */

static enum vf_ddb_status describe(struct vf_ddb *d, const char *table,
	char status[32], char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s}", "TableName", table), *resp = NULL;
	enum vf_ddb_status s = vf_ddb_call(d, "DescribeTable", req, &resp, err,
		errlen);
	const char *st;

	json_decref(req);
	if (s != VF_DDB_OK)
		return s;
	st = json_string_value(json_object_get(json_object_get(resp, "Table"),
		"TableStatus"));
	snprintf(status, 32, "%s", st ? st : "");
	json_decref(resp);
	return VF_DDB_OK;
}

enum vf_ddb_status vf_lease_table_ensure(struct vf_ddb *d, const char *table,
	const atomic_int *stop, char *err, size_t errlen)
{
	char status[32];
	enum vf_ddb_status s = describe(d, table, status, err, errlen);
	uint64_t deadline = vf_now_ms() + 120000;

	if (s == VF_DDB_NOT_FOUND) {
		json_t *req = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}",
			"TableName", table,
			"AttributeDefinitions", "AttributeName", "leaseKey",
			"AttributeType", "S",
			"KeySchema", "AttributeName", "leaseKey", "KeyType", "HASH",
			"BillingMode", "PAY_PER_REQUEST");

		s = vf_ddb_call(d, "CreateTable", req, NULL, err, errlen);
		json_decref(req);
		if (s != VF_DDB_OK && s != VF_DDB_IN_USE)
			return s;
		status[0] = '\0';
	} else if (s != VF_DDB_OK) {
		return s;
	}
	/* UPDATING (billing, indexes) serves reads and writes too */
	while (strcmp(status, "ACTIVE") != 0 && strcmp(status, "UPDATING") != 0) {
		if (vf_now_ms() > deadline) {
			snprintf(err, errlen, "table %s is not ACTIVE after 2 "
				"minutes (status %s)", table, status);
			return VF_DDB_RETRY;
		}
		vf_nap(stop, 200);
		if (stop != NULL && atomic_load(stop))
			return VF_DDB_RETRY;
		s = describe(d, table, status, err, errlen);
		if (s != VF_DDB_OK && s != VF_DDB_NOT_FOUND && s != VF_DDB_RETRY)
			return s;
	}
	return VF_DDB_OK;
}

enum vf_ddb_status vf_lease_table_scan(struct vf_ddb *d, const char *table,
	struct vf_lease **out, size_t *n, char *err, size_t errlen)
{
	struct vf_lease *arr = NULL;
	size_t count = 0, cap = 0;
	json_t *start = NULL;

	*out = NULL;
	*n = 0;
	for (;;) {
		json_t *req = json_pack("{s:s, s:b}", "TableName", table,
			"ConsistentRead", 1), *resp = NULL, *items, *item;
		enum vf_ddb_status s;
		size_t i;

		if (start != NULL)
			json_object_set_new(req, "ExclusiveStartKey", start);
		start = NULL;
		s = vf_ddb_call(d, "Scan", req, &resp, err, errlen);
		json_decref(req);
		if (s != VF_DDB_OK) {
			free(arr);
			return s;
		}
		items = json_object_get(resp, "Items");
		json_array_foreach(items, i, item) {
			if (count == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct vf_lease *p = realloc(arr, nc * sizeof(*p));

				if (p == NULL) {
					snprintf(err, errlen, "Scan: out of memory");
					json_decref(resp);
					free(arr);
					return VF_DDB_ERROR;
				}
				arr = p;
				cap = nc;
			}
			if (parse_item(item, &arr[count]))
				count++;
		}
		start = json_object_get(resp, "LastEvaluatedKey");
		if (start != NULL && json_object_size(start) > 0)
			json_incref(start);
		else
			start = NULL;
		json_decref(resp);
		if (start == NULL)
			break;
	}
	*out = arr;
	*n = count;
	return VF_DDB_OK;
}

enum vf_ddb_status vf_lease_create(struct vf_ddb *d, const char *table,
	const struct vf_lease *l, char *err, size_t errlen)
{
	json_t *item = json_pack("{s:o, s:o, s:o, s:o, s:o}",
		"leaseKey", attr_s(l->key),
		"leaseCounter", attr_n(0),
		"checkpoint", attr_s(l->checkpoint),
		"checkpointSubSequenceNumber", attr_n(0),
		"ownerSwitchesSinceCheckpoint", attr_n(0));
	json_t *req;
	enum vf_ddb_status s;

	if (l->n_parents > 0) {
		json_t *ss = json_array();

		for (unsigned i = 0; i < l->n_parents; i++)
			json_array_append_new(ss, json_string(l->parents[i]));
		json_object_set_new(item, "parentShardId",
			json_pack("{s:o}", "SS", ss));
	}
	req = json_pack("{s:s, s:o, s:s}", "TableName", table, "Item", item,
		"ConditionExpression", "attribute_not_exists(leaseKey)");
	s = vf_ddb_call(d, "PutItem", req, NULL, err, errlen);
	json_decref(req);
	return s;
}

/*
 * One conditional UpdateItem; on success l is reread from the new item
 * (ReturnValues ALL_NEW).
 */
static enum vf_ddb_status update(struct vf_ddb *d, const char *table,
	struct vf_lease *l, const char *expr, const char *cond, json_t *values,
	char *err, size_t errlen)
{
	json_t *req, *resp = NULL, *attrs;
	enum vf_ddb_status s;
	struct vf_lease nl;

	json_object_set_new(values, ":c", attr_n(l->counter));
	req = json_pack("{s:s, s:o, s:s, s:s, s:o, s:s}", "TableName", table,
		"Key", key_of(l->key), "UpdateExpression", expr,
		"ConditionExpression", cond, "ExpressionAttributeValues", values,
		"ReturnValues", "ALL_NEW");
	s = vf_ddb_call(d, "UpdateItem", req, &resp, err, errlen);
	json_decref(req);
	if (s != VF_DDB_OK)
		return s;
	attrs = json_object_get(resp, "Attributes");
	if (!parse_item(attrs, &nl)) {
		snprintf(err, errlen, "UpdateItem: the answer holds no lease");
		json_decref(resp);
		return VF_DDB_ERROR;
	}
	*l = nl;
	json_decref(resp);
	return VF_DDB_OK;
}

enum vf_ddb_status vf_lease_take(struct vf_ddb *d, const char *table,
	struct vf_lease *l, const char *owner, char *err, size_t errlen)
{
	bool switch_owner = strcmp(l->owner, owner) != 0;

	return update(d, table, l, switch_owner ?
		"SET leaseOwner = :o ADD leaseCounter :one, "
		"ownerSwitchesSinceCheckpoint :one" :
		"SET leaseOwner = :o ADD leaseCounter :one",
		"leaseCounter = :c",
		json_pack("{s:o, s:o}", ":o", attr_s(owner), ":one", attr_n(1)),
		err, errlen);
}

/* An update by the lease's holder: conditional on its counter and owner. */
static enum vf_ddb_status holder_update(struct vf_ddb *d, const char *table,
	struct vf_lease *l, const char *expr, char *err, size_t errlen)
{
	return update(d, table, l, expr, "leaseCounter = :c AND leaseOwner = :o",
		json_pack("{s:o, s:o}", ":o", attr_s(l->owner), ":one", attr_n(1)),
		err, errlen);
}

enum vf_ddb_status vf_lease_renew(struct vf_ddb *d, const char *table,
	struct vf_lease *l, char *err, size_t errlen)
{
	return holder_update(d, table, l, "ADD leaseCounter :one", err, errlen);
}

enum vf_ddb_status vf_lease_checkpoint(struct vf_ddb *d, const char *table,
	struct vf_lease *l, const char *seq, const char (*children)[VF_SHARD_ID_MAX],
	size_t n_children, char *err, size_t errlen)
{
	bool end = strcmp(seq, VF_LEASE_SHARD_END) == 0;
	json_t *values = json_pack("{s:o, s:o, s:o, s:o}", ":o", attr_s(l->owner),
		":one", attr_n(1), ":zero", attr_n(0), ":s", attr_s(seq));
	const char *expr = "SET checkpoint = :s, "
		"checkpointSubSequenceNumber = :zero, "
		"ownerSwitchesSinceCheckpoint = :zero ADD leaseCounter :one";

	if (end && n_children > 0) {
		json_t *ss = json_array();

		for (size_t i = 0; i < n_children; i++)
			json_array_append_new(ss, json_string(children[i]));
		json_object_set_new(values, ":ch", json_pack("{s:o}", "SS", ss));
		expr = "SET checkpoint = :s, checkpointSubSequenceNumber = :zero, "
			"ownerSwitchesSinceCheckpoint = :zero, childShardIds = :ch "
			"ADD leaseCounter :one REMOVE leaseOwner";
	} else if (end) {
		expr = "SET checkpoint = :s, checkpointSubSequenceNumber = :zero, "
			"ownerSwitchesSinceCheckpoint = :zero "
			"ADD leaseCounter :one REMOVE leaseOwner";
	}
	return update(d, table, l, expr, "leaseCounter = :c AND leaseOwner = :o",
		values, err, errlen);
}

enum vf_ddb_status vf_lease_evict(struct vf_ddb *d, const char *table,
	struct vf_lease *l, char *err, size_t errlen)
{
	return holder_update(d, table, l,
		"REMOVE leaseOwner ADD leaseCounter :one", err, errlen);
}
