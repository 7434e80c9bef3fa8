/*
 * The flow record model: every field AWS defines (VPC flow logs v2 to v11
 * and the transit gateway set), format strings, and a parsed line.
 *
 * A parsed flow never owns memory: its values point into the line it was
 * parsed from, so parsing allocates nothing.
 */
#ifndef VPCFLOWD_FLOW_H
#define VPCFLOWD_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/buf.h"

/* Known fields, in AWS's table order. */
enum vf_field {
	/* v2: the default format, in its order */
	VF_F_VERSION, VF_F_ACCOUNT_ID, VF_F_INTERFACE_ID, VF_F_SRCADDR,
	VF_F_DSTADDR, VF_F_SRCPORT, VF_F_DSTPORT, VF_F_PROTOCOL, VF_F_PACKETS,
	VF_F_BYTES, VF_F_START, VF_F_END, VF_F_ACTION, VF_F_LOG_STATUS,
	/* v3 */
	VF_F_VPC_ID, VF_F_SUBNET_ID, VF_F_INSTANCE_ID, VF_F_TCP_FLAGS,
	VF_F_TYPE, VF_F_PKT_SRCADDR, VF_F_PKT_DSTADDR,
	/* v4 */
	VF_F_REGION, VF_F_AZ_ID, VF_F_SUBLOCATION_TYPE, VF_F_SUBLOCATION_ID,
	/* v5 */
	VF_F_PKT_SRC_AWS_SERVICE, VF_F_PKT_DST_AWS_SERVICE,
	VF_F_FLOW_DIRECTION, VF_F_TRAFFIC_PATH,
	/* v7 */
	VF_F_ECS_CLUSTER_ARN, VF_F_ECS_CLUSTER_NAME,
	VF_F_ECS_CONTAINER_INSTANCE_ARN, VF_F_ECS_CONTAINER_INSTANCE_ID,
	VF_F_ECS_CONTAINER_ID, VF_F_ECS_SECOND_CONTAINER_ID,
	VF_F_ECS_SERVICE_NAME, VF_F_ECS_TASK_DEFINITION_ARN,
	VF_F_ECS_TASK_ARN, VF_F_ECS_TASK_ID,
	/* v8, v9, v10 */
	VF_F_REJECT_REASON, VF_F_RESOURCE_ID, VF_F_ENCRYPTION_STATUS,
	/* v11 */
	VF_F_INSTANCE_TAG, VF_F_INSTANCE_TAG_2, VF_F_INTERFACE_TAG,
	VF_F_INTERFACE_TAG_2, VF_F_ASG_TAG, VF_F_ASG_TAG_2,
	VF_F_INTERFACE_TYPE, VF_F_NEXT_HOP_INTERFACE_ID,
	VF_F_NEXT_HOP_SUBNET_ID, VF_F_NEXT_HOP_AZ_ID, VF_F_NEXT_HOP_VPC_ID,
	VF_F_NEXT_HOP_INTERFACE_TYPE,
	/* v6: transit gateway flow logs */
	VF_F_RESOURCE_TYPE, VF_F_TGW_ID, VF_F_TGW_ATTACHMENT_ID,
	VF_F_TGW_SRC_VPC_ACCOUNT_ID, VF_F_TGW_DST_VPC_ACCOUNT_ID,
	VF_F_TGW_SRC_VPC_ID, VF_F_TGW_DST_VPC_ID, VF_F_TGW_SRC_SUBNET_ID,
	VF_F_TGW_DST_SUBNET_ID, VF_F_TGW_SRC_ENI, VF_F_TGW_DST_ENI,
	VF_F_TGW_SRC_AZ_ID, VF_F_TGW_DST_AZ_ID, VF_F_TGW_PAIR_ATTACHMENT_ID,
	VF_F_PACKETS_LOST_NO_ROUTE, VF_F_PACKETS_LOST_BLACKHOLE,
	VF_F_PACKETS_LOST_MTU_EXCEEDED, VF_F_PACKETS_LOST_TTL_EXPIRED,
	VF_F_KNOWN
};

/* How a field's value is checked and written to GELF. */
enum vf_field_kind {
	VF_KIND_STRING,  /* any token, written as a JSON string */
	VF_KIND_INT,     /* decimal digits, written as a JSON number */
};

struct vf_field_info {
	const char *aws_name;   /* "pkt-srcaddr" */
	const char *gelf_name;  /* "pkt_src_addr", as stored in Graylog */
	uint8_t kind;           /* enum vf_field_kind */
	uint8_t version;        /* flow log version that introduced it */
	uint64_t max;           /* VF_KIND_INT: largest valid value */
};

extern const struct vf_field_info vf_fields[VF_F_KNOWN];

/* Looks a field up by its AWS name ("pkt-srcaddr"); -1 when unknown. */
int vf_field_lookup(const char *name, size_t len);

#define VF_FORMAT_MAX_FIELDS 128
#define VF_FIELD_NAME_MAX 64

/* One column of a format: what the parser checks and the encoder writes. */
struct vf_column {
	uint16_t field;        /* enum vf_field, or VF_F_KNOWN for an unknown one */
	uint8_t kind;          /* enum vf_field_kind */
	uint8_t keylen;
	uint64_t max;          /* VF_KIND_INT only */
	const char *key;       /* GELF key text: ,"_name": */
};

/*
 * A parsed format string. Immutable once created, so one format may be
 * shared by any number of parsers.
 */
struct vf_format {
	unsigned n;                         /* number of columns */
	int version;                        /* highest field version in it */
	struct vf_column col[VF_FORMAT_MAX_FIELDS];
	int16_t pos[VF_F_KNOWN];            /* column of each known field, -1 */
	char *text;                         /* canonical ${a} ${b} form */
	char keys[VF_FORMAT_MAX_FIELDS][VF_FIELD_NAME_MAX + 8]; /* unknown keys */
};

/*
 * Parses a format: "${version} ${account-id} ...", or bare names as in a
 * header line ("version account-id ..."). Underscores may stand for the
 * hyphens of AWS names. Returns NULL with a reason in err when it is not a
 * valid format (unknown names are valid: future fields, kept as strings).
 */
struct vf_format *vf_format_create(const char *text, size_t len,
	char *err, size_t errlen);
void vf_format_destroy(struct vf_format *fmt);
/* The default (version 2) format; static, never destroyed. */
const struct vf_format *vf_format_default(void);
/*
 * True when the line is a header line (as S3-delivered files start with):
 * every token is a field name and at least one is a known AWS field.
 */
bool vf_format_is_header(const char *line, size_t len);

/* A value: a slice of the line. p == NULL means absent ("-"). */
struct vf_sv {
	const char *p;
	uint32_t n;
};

struct vf_flow {
	const struct vf_format *fmt;
	struct vf_sv val[VF_FORMAT_MAX_FIELDS];  /* by column */
	uint64_t num[VF_FORMAT_MAX_FIELDS];      /* VF_KIND_INT values */
};

enum vf_flow_status {
	VF_FLOW_OK,
	VF_FLOW_BLANK,         /* an empty line: nothing to do, no error */
	VF_FLOW_FIELD_COUNT,   /* more or fewer fields than the format */
	VF_FLOW_BAD_NUMBER,    /* an integer field that is not one */
};

/*
 * Splits one line by runs of spaces, tabs, CR or LF (so a trailing CR does
 * no harm), and checks it against fmt. On VF_FLOW_OK, flow points into line.
 */
enum vf_flow_status vf_flow_parse(struct vf_flow *flow,
	const struct vf_format *fmt, const char *line, size_t len);

static inline const struct vf_sv *vf_flow_get(const struct vf_flow *flow,
	enum vf_field f)
{
	int pos = flow->fmt->pos[f];

	if (pos < 0 || flow->val[pos].p == NULL)
		return NULL;
	return &flow->val[pos];
}

static inline bool vf_flow_num(const struct vf_flow *flow, enum vf_field f,
	uint64_t *out)
{
	int pos = flow->fmt->pos[f];

	if (pos < 0 || flow->val[pos].p == NULL)
		return false;
	*out = flow->num[pos];
	return true;
}

#endif
