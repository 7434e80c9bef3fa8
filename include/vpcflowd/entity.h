/*
 * AWS entities: what owns an address. EC2 DescribeNetworkInterfaces gives
 * every network interface with its addresses; each interface is classified
 * (EC2 instance, load balancer, RDS, NAT gateway, Lambda, endpoint...) and
 * its addresses point at it.
 */
#ifndef VPCFLOWD_ENTITY_H
#define VPCFLOWD_ENTITY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/aws.h"
#include "vpcflowd/ipset.h"

/* One network interface as DescribeNetworkInterfaces describes it; the
 * strings are "" when the answer had no value. */
struct vf_eni_info {
	char id[64];                 /* networkInterfaceId: eni-... */
	char interface_type[64];     /* interfaceType: interface, lambda, ... */
	char requester_id[64];
	bool requester_managed;
	char description[256];
	char vpc_id[64];
	char subnet_id[64];
	char instance_id[64];        /* attachment/instanceId */
	char instance_owner_id[64];  /* attachment/instanceOwnerId */
	char name_tag[256];          /* tagSet: the value of key Name */
	char operator_principal[128];/* operator/principal, newer answers */
};

/* What an interface is. The strings are the GELF values of spec section 3. */
struct vf_entity {
	char entity[320];            /* ec2:i-..., elb:NAME, rds:ID, nat:nat-...,
					lambda:FUNCTION, vpce:vpce-..., eni:eni-... */
	char aws_type[24];           /* EC2, ELB, RDS, NAT, LAMBDA, VPCE, EFS,
					ECS, ..., ENI when unknown */
	char description[256];       /* the Name tag, else the interface's
					description; "" for none */
	char vpc_id[64];
	char subnet_id[64];
	char eni_id[64];
	char instance_id[64];        /* EC2: for the Name tag from
					DescribeInstances; "" otherwise */
};

/* Classifies one interface (rules: docs/enrichment.md). Never fails:
 * an interface nothing matches is ENI, eni:<id>. */
void vf_entity_classify(const struct vf_eni_info *eni, struct vf_entity *out);

/* One address of an interface: index into the list's entities. */
struct vf_entity_addr {
	struct vf_addr addr;
	uint32_t entity;
};

/* What one refresh found: every interface of every region, classified. */
struct vf_entity_list {
	struct vf_entity *entities;
	size_t n_entities, cap_entities;
	struct vf_entity_addr *addrs;
	size_t n_addrs, cap_addrs;
};

void vf_entity_list_init(struct vf_entity_list *l);
void vf_entity_list_finish(struct vf_entity_list *l);
/* Appends; the address overload points at the last entity added. False
 * on out of memory. */
bool vf_entity_list_add(struct vf_entity_list *l, const struct vf_entity *e);
bool vf_entity_list_add_addr(struct vf_entity_list *l,
	const struct vf_addr *a);

/* ---- EC2 Query API (XML) ---- */

/*
 * Parses one DescribeNetworkInterfaces answer page: appends every interface
 * (classified) and each of its private IPv4, public IPv4 (association) and
 * IPv6 addresses to out, and copies nextToken ("" on the last page). False
 * with a reason in err for XML that is not such an answer (an EC2 error
 * document included: err then holds its Code and Message).
 */
bool vf_ec2_parse_interfaces(const char *xml, size_t len,
	struct vf_entity_list *out, char *next_token, size_t tokenlen,
	char *err, size_t errlen);

/* Told about each interface once its entity (out->entities[index]) and
 * addresses are appended; false stops the parse (out of memory). */
typedef bool (*vf_ec2_eni_cb)(void *ctx, const struct vf_eni_info *eni,
	size_t index);

/* vf_ec2_parse_interfaces, calling cb (may be NULL) for each interface.
 * Both take back what they appended when they fail, including interfaces
 * cb was already told about. */
bool vf_ec2_parse_interfaces_cb(const char *xml, size_t len,
	struct vf_entity_list *out, vf_ec2_eni_cb cb, void *ctx,
	char *next_token, size_t tokenlen, char *err, size_t errlen);

/* A Name tag found by DescribeInstances. */
typedef void (*vf_ec2_name_cb)(void *ctx, const char *instance_id,
	const char *name);

/* Parses one DescribeInstances page: calls cb for each instance with a Name
 * tag; nextToken as above. */
bool vf_ec2_parse_instance_names(const char *xml, size_t len,
	vf_ec2_name_cb cb, void *ctx, char *next_token, size_t tokenlen,
	char *err, size_t errlen);

struct vf_ec2_opts {
	const char *region;
	const char *endpoint;        /* NULL: https://ec2.REGION.amazonaws.com/ */
	struct vf_aws_creds_provider *creds;   /* not owned */
	const atomic_int *stop;      /* set: give up between pages and retries,
					and abandon a request in flight */
	const atomic_int *stop2;     /* a second flag that does the same */
};

struct vf_ec2;

struct vf_ec2 *vf_ec2_create(const struct vf_ec2_opts *opts);
void vf_ec2_destroy(struct vf_ec2 *c);

/*
 * Every network interface of the region, all pages (MaxResults 1000,
 * NextToken), appended to out; then the Name tags of EC2 instances whose
 * interface carries none (DescribeInstances by InstanceId, in batches),
 * written into those entities' descriptions. Throttling
 * (RequestLimitExceeded), 5xx and network errors are retried with backoff
 * a few times. False with a reason (the EC2 error code and message) when
 * the region's interfaces could not be read completely, or when stopped;
 * out then holds a partial list the caller must not use. Failing to read
 * Name tags (no ec2:DescribeInstances permission, say) is logged and only
 * leaves those descriptions as the interfaces have them.
 */
bool vf_ec2_load_entities(struct vf_ec2 *c, struct vf_entity_list *out,
	char *err, size_t errlen);

#endif
