/*
 * What owns a network interface, from what DescribeNetworkInterfaces says
 * about it. The first rule that matches wins:
 *
 *  1. requesterManaged false and attachment/instanceId "i-...": EC2,
 *     ec2:<instance-id>. The interface is the user's own and attached to
 *     an instance; its description is the user's too and is trusted for
 *     nothing else.
 *  2. interfaceType, compared ignoring case and underscores (the model's
 *     enum says natGateway, the filter doc and observed data nat_gateway):
 *       nat_gateway                          NAT
 *       lambda                               LAMBDA
 *       vpc_endpoint                         VPCE
 *       gateway_load_balancer_endpoint       VPCE
 *       load_balancer                        ELB
 *       network_load_balancer                ELB
 *       gateway_load_balancer                ELB
 *       efs                                  EFS
 *       transit_gateway                      TGW
 *       api_gateway_managed                  APIGATEWAY
 *       global_accelerator_managed           GLOBALACCELERATOR
 *       quicksight                           QUICKSIGHT
 *       ec2_instance_connect_endpoint        EICE
 *       trunk, attached to "i-..."           EC2
 *       branch                               ECS
 *  3. description prefix or requesterId:
 *       "ELB ", or requesterId amazon-elb    ELB
 *       "RDSNetworkInterface", or amazon-rds RDS
 *       "Interface for NAT Gateway "         NAT
 *       "AWS Lambda VPC ENI-"                LAMBDA
 *       "VPC Endpoint Interface "            VPCE
 *       "EFS mount target for "              EFS
 *       "arn:aws:ecs:" (and aws-cn, aws-us-gov) ECS
 *       "ElastiCache ", or amazon-elasticache ELASTICACHE
 *       requesterId amazon-redshift          REDSHIFT
 *       "Route 53 Resolver"                  ROUTE53RESOLVER
 *       "ES "                                OPENSEARCH
 *       "Amazon MQ"                          MQ
 *       "AWS created network interface for directory"  DIRECTORY
 *  4. attachment/instanceId "i-..." (managed, by a service not known):
 *     EC2, ec2:<instance-id>.
 *  5. Anything else: ENI.
 *
 * Entities: EC2 ec2:<instance-id>; ELB elb:<name>, the name being the
 * middle part of "ELB app/NAME/ID", "ELB net/NAME/ID", "ELB gwy/NAME/ID" or
 * the word after "ELB " (classic), else elb:<eni-id>; RDS rds:<eni-id> (the
 * interface does not name the database); NAT nat:<nat-...> from the
 * description, else nat:<eni-id>; LAMBDA lambda:<function> from "AWS Lambda
 * VPC ENI-<function>-<uuid>" (the trailing "-" and 36-character UUID
 * dropped), else lambda:<eni-id>; VPCE vpce:<vpce-...> from the
 * description, else vpce:<eni-id>; every other type eni:<eni-id>.
 * The description is the interface's Name tag, else its description.
 *
 * Evidence (shared/reference/aws.md section 6.3): the EC2 instance signals
 * and the interfaceType values are in botocore's EC2 model and fixtures
 * (AWS); the VPC endpoint description is in the EC2 User Guide (AWS); the
 * ELB, RDS and NAT descriptions and requester ids are seen in many public
 * describe-network-interfaces dumps (third party, consistent); the Lambda
 * description is seen in public exports (third party); EFS, ECS,
 * ElastiCache, Redshift, Route 53 Resolver, OpenSearch ("ES "), Amazon MQ
 * and Directory Service come from unattributed public scripts: heuristics.
 */
#include "vpcflowd/entity.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum match {
	M_OWN_INSTANCE,     /* requesterManaged false, attached to i-... */
	M_TYPE,             /* interfaceType is pattern, any case */
	M_TYPE_INSTANCE,    /* the same, and attached to i-... */
	M_DESCRIPTION,      /* description starts with pattern */
	M_REQUESTER,        /* requesterId is pattern */
	M_INSTANCE,         /* attached to i-... */
};

enum naming {
	N_EC2,              /* ec2:<instance-id> */
	N_ELB,              /* elb:<name> */
	N_NAT,              /* nat:<nat-id> */
	N_LAMBDA,           /* lambda:<function> */
	N_VPCE,             /* vpce:<vpce-id> */
	N_RDS,              /* rds:<eni-id> */
	N_ENI,              /* eni:<eni-id> */
};

struct rule {
	enum match match;
	const char *pattern;
	const char *type;
	enum naming naming;
};

static const struct rule rules[] = {
	/* 1: the user's own instance (botocore fixture; AWS) */
	{ M_OWN_INSTANCE, NULL, "EC2", N_EC2 },

	/* 2: interfaceType (botocore model enum and filter doc; AWS) */
	{ M_TYPE, "nat_gateway", "NAT", N_NAT },
	{ M_TYPE, "lambda", "LAMBDA", N_LAMBDA },
	{ M_TYPE, "vpc_endpoint", "VPCE", N_VPCE },
	{ M_TYPE, "gateway_load_balancer_endpoint", "VPCE", N_VPCE },
	{ M_TYPE, "load_balancer", "ELB", N_ELB },
	{ M_TYPE, "network_load_balancer", "ELB", N_ELB },
	{ M_TYPE, "gateway_load_balancer", "ELB", N_ELB },
	{ M_TYPE, "efs", "EFS", N_ENI },
	{ M_TYPE, "transit_gateway", "TGW", N_ENI },
	{ M_TYPE, "api_gateway_managed", "APIGATEWAY", N_ENI },
	{ M_TYPE, "global_accelerator_managed", "GLOBALACCELERATOR", N_ENI },
	{ M_TYPE, "quicksight", "QUICKSIGHT", N_ENI },
	{ M_TYPE, "ec2_instance_connect_endpoint", "EICE", N_ENI },
	{ M_TYPE_INSTANCE, "trunk", "EC2", N_EC2 },
	{ M_TYPE, "branch", "ECS", N_ENI },

	/* 3: descriptions and requester ids set by the services */
	/* ELB, RDS, NAT: public dumps (third party, consistent) */
	{ M_DESCRIPTION, "ELB ", "ELB", N_ELB },
	{ M_REQUESTER, "amazon-elb", "ELB", N_ELB },
	{ M_DESCRIPTION, "RDSNetworkInterface", "RDS", N_RDS },
	{ M_REQUESTER, "amazon-rds", "RDS", N_RDS },
	{ M_DESCRIPTION, "Interface for NAT Gateway ", "NAT", N_NAT },
	/* Lambda: public exports (third party) */
	{ M_DESCRIPTION, "AWS Lambda VPC ENI-", "LAMBDA", N_LAMBDA },
	/* VPC endpoint: EC2 User Guide, requester-managed interfaces (AWS) */
	{ M_DESCRIPTION, "VPC Endpoint Interface ", "VPCE", N_VPCE },
	/* the rest: unattributed public scripts (heuristics) */
	{ M_DESCRIPTION, "EFS mount target for ", "EFS", N_ENI },
	{ M_DESCRIPTION, "arn:aws:ecs:", "ECS", N_ENI },
	{ M_DESCRIPTION, "arn:aws-cn:ecs:", "ECS", N_ENI },
	{ M_DESCRIPTION, "arn:aws-us-gov:ecs:", "ECS", N_ENI },
	{ M_DESCRIPTION, "ElastiCache ", "ELASTICACHE", N_ENI },
	{ M_REQUESTER, "amazon-elasticache", "ELASTICACHE", N_ENI },
	{ M_REQUESTER, "amazon-redshift", "REDSHIFT", N_ENI },
	{ M_DESCRIPTION, "Route 53 Resolver", "ROUTE53RESOLVER", N_ENI },
	{ M_DESCRIPTION, "ES ", "OPENSEARCH", N_ENI },
	{ M_DESCRIPTION, "Amazon MQ", "MQ", N_ENI },
	{ M_DESCRIPTION, "AWS created network interface for directory",
	  "DIRECTORY", N_ENI },

	/* 4: attached to an instance by a service not known above */
	{ M_INSTANCE, NULL, "EC2", N_EC2 },
};

static void copy_str(char *dst, size_t size, const char *src)
{
	vf_copy_utf8(dst, size, src, strlen(src));
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool on_instance(const struct vf_eni_info *eni)
{
	return has_prefix(eni->instance_id, "i-") && eni->instance_id[2] != '\0';
}

/* interfaceType is pattern, ignoring case and '_' (natGateway) */
static bool type_is(const char *type, const char *pattern)
{
	for (;;) {
		while (*type == '_')
			type++;
		while (*pattern == '_')
			pattern++;
		if (*type == '\0' || *pattern == '\0')
			return *type == *pattern;
		if (tolower((unsigned char)*type) !=
		    tolower((unsigned char)*pattern))
			return false;
		type++;
		pattern++;
	}
}

static bool matches(const struct rule *r, const struct vf_eni_info *eni)
{
	switch (r->match) {
	case M_OWN_INSTANCE:
		return !eni->requester_managed && on_instance(eni);
	case M_TYPE:
		return type_is(eni->interface_type, r->pattern);
	case M_TYPE_INSTANCE:
		return type_is(eni->interface_type, r->pattern) &&
			on_instance(eni);
	case M_DESCRIPTION:
		return has_prefix(eni->description, r->pattern);
	case M_REQUESTER:
		return strcmp(eni->requester_id, r->pattern) == 0;
	case M_INSTANCE:
		return on_instance(eni);
	}
	return false;
}

/* The first word of s starting with prefix: its start and length, else 0. */
static size_t find_word(const char *s, const char *prefix, const char **word)
{
	size_t pl = strlen(prefix);

	for (const char *p = s; *p != '\0'; p++) {
		if ((p == s || isspace((unsigned char)p[-1])) &&
		    strncmp(p, prefix, pl) == 0 && p[pl] != '\0' &&
		    !isspace((unsigned char)p[pl])) {
			*word = p;
			return strcspn(p, " \t\r\n");
		}
	}
	return 0;
}

/* The load balancer's name in "ELB app/NAME/ID" or "ELB NAME"; 0: none. */
static size_t elb_name(const char *desc, const char **name)
{
	static const char *const kinds[] = { "app/", "net/", "gwy/" };
	const char *p, *slash;
	size_t n;

	if (!has_prefix(desc, "ELB "))
		return 0;
	p = desc + 4;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!has_prefix(p, kinds[i]))
			continue;
		p += 4;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : 0;
		if (n == 0 || memchr(p, ' ', n) != NULL)
			return 0;
		*name = p;
		return n;
	}
	n = strcspn(p, " \t\r\n");
	if (memchr(p, '/', n) != NULL)
		return 0;
	*name = p;
	return n;
}

static bool is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[36] == '\0';
}

/* The function in "AWS Lambda VPC ENI-<function>-<uuid>"; 0: none. */
static size_t lambda_function(const char *desc, const char **name)
{
	static const char prefix[] = "AWS Lambda VPC ENI-";
	const char *p;
	size_t n;

	if (!has_prefix(desc, prefix))
		return 0;
	p = desc + sizeof(prefix) - 1;
	n = strlen(p);
	if (n >= 37 && p[n - 37] == '-' && is_uuid(p + n - 36))
		n -= 37;
	*name = p;
	return n;
}

static void name_entity(struct vf_entity *out, const char *scheme,
	const char *name, size_t n, const char *eni_id)
{
	size_t sl = strlen(scheme);

	if (n == 0) {
		name = eni_id;
		n = strlen(eni_id);
	}
	vf_copy_utf8(out->entity, sizeof(out->entity), scheme, sl);
	vf_copy_utf8(out->entity + sl, sizeof(out->entity) - sl, name, n);
}

void vf_entity_classify(const struct vf_eni_info *eni, struct vf_entity *out)
{
	const struct rule *r = NULL;
	const char *name = NULL;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (matches(&rules[i], eni)) {
			r = &rules[i];
			break;
		}
	}
	copy_str(out->aws_type, sizeof(out->aws_type), r ? r->type : "ENI");
	switch (r ? r->naming : N_ENI) {
	case N_EC2:
		name_entity(out, "ec2:", eni->instance_id,
			strlen(eni->instance_id), eni->id);
		copy_str(out->instance_id, sizeof(out->instance_id),
			eni->instance_id);
		break;
	case N_ELB:
		n = elb_name(eni->description, &name);
		name_entity(out, "elb:", name, n, eni->id);
		break;
	case N_NAT:
		n = find_word(eni->description, "nat-", &name);
		name_entity(out, "nat:", name, n, eni->id);
		break;
	case N_LAMBDA:
		n = lambda_function(eni->description, &name);
		name_entity(out, "lambda:", name, n, eni->id);
		break;
	case N_VPCE:
		n = find_word(eni->description, "vpce-", &name);
		name_entity(out, "vpce:", name, n, eni->id);
		break;
	case N_RDS:
		name_entity(out, "rds:", NULL, 0, eni->id);
		break;
	case N_ENI:
		name_entity(out, "eni:", NULL, 0, eni->id);
		break;
	}
	copy_str(out->description, sizeof(out->description),
		eni->name_tag[0] != '\0' ? eni->name_tag : eni->description);
	copy_str(out->vpc_id, sizeof(out->vpc_id), eni->vpc_id);
	copy_str(out->subnet_id, sizeof(out->subnet_id), eni->subnet_id);
	copy_str(out->eni_id, sizeof(out->eni_id), eni->id);
}
