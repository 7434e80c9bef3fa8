/*
 * EC2 Query API answers, read with expat as they stream past (no tree is
 * built): DescribeNetworkInterfaces pages become classified entities and
 * their addresses, DescribeInstances pages the instances' Name tags.
 *
 * An element is recognised by its whole path from the root, so the item
 * of a groupSet, tagSet or privateIpAddressesSet is never taken for an
 * interface. Namespaces are dropped (EC2 changes the xmlns with every API
 * version), unknown elements are skipped, and a DOCTYPE is refused: EC2
 * sends none, and without one no entity can be declared.
 */
#include "vpcflowd/entity.h"

#include <ctype.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/log.h"

#define MAX_DEPTH 32
#define MAX_TEXT (64u << 10)     /* kept of one element's text */
#define CHUNK (1u << 20)         /* XML_Parse takes an int length */
#define MAX_ENI_ADDRS 8192       /* of one interface; far above AWS limits */

/* The elements that matter; every other one is E_OTHER. */
enum el {
	E_END,                   /* ends a path */
	E_OTHER,
	E_DNI_RESPONSE,
	E_DI_RESPONSE,
	E_RESPONSE,
	E_ERROR_RESPONSE,
	E_ERRORS,
	E_ERROR,
	E_CODE,
	E_MESSAGE,
	E_NEXT_TOKEN,
	E_NETWORK_INTERFACE_SET,
	E_ITEM,
	E_NETWORK_INTERFACE_ID,
	E_INTERFACE_TYPE,
	E_REQUESTER_ID,
	E_REQUESTER_MANAGED,
	E_DESCRIPTION,
	E_VPC_ID,
	E_SUBNET_ID,
	E_PRIVATE_IP_ADDRESS,
	E_PRIVATE_IP_ADDRESSES_SET,
	E_ASSOCIATION,
	E_PUBLIC_IP,
	E_IPV6_ADDRESSES_SET,
	E_IPV6_ADDRESS,
	E_ATTACHMENT,
	E_INSTANCE_ID,
	E_INSTANCE_OWNER_ID,
	E_TAG_SET,
	E_KEY,
	E_VALUE,
	E_OPERATOR,
	E_PRINCIPAL,
	E_RESERVATION_SET,
	E_INSTANCES_SET,
	E_COUNT
};

static const char *const el_names[E_COUNT] = {
	[E_DNI_RESPONSE] = "DescribeNetworkInterfacesResponse",
	[E_DI_RESPONSE] = "DescribeInstancesResponse",
	[E_RESPONSE] = "Response",
	[E_ERROR_RESPONSE] = "ErrorResponse",
	[E_ERRORS] = "Errors",
	[E_ERROR] = "Error",
	[E_CODE] = "Code",
	[E_MESSAGE] = "Message",
	[E_NEXT_TOKEN] = "nextToken",
	[E_NETWORK_INTERFACE_SET] = "networkInterfaceSet",
	[E_ITEM] = "item",
	[E_NETWORK_INTERFACE_ID] = "networkInterfaceId",
	[E_INTERFACE_TYPE] = "interfaceType",
	[E_REQUESTER_ID] = "requesterId",
	[E_REQUESTER_MANAGED] = "requesterManaged",
	[E_DESCRIPTION] = "description",
	[E_VPC_ID] = "vpcId",
	[E_SUBNET_ID] = "subnetId",
	[E_PRIVATE_IP_ADDRESS] = "privateIpAddress",
	[E_PRIVATE_IP_ADDRESSES_SET] = "privateIpAddressesSet",
	[E_ASSOCIATION] = "association",
	[E_PUBLIC_IP] = "publicIp",
	[E_IPV6_ADDRESSES_SET] = "ipv6AddressesSet",
	[E_IPV6_ADDRESS] = "ipv6Address",
	[E_ATTACHMENT] = "attachment",
	[E_INSTANCE_ID] = "instanceId",
	[E_INSTANCE_OWNER_ID] = "instanceOwnerId",
	[E_TAG_SET] = "tagSet",
	[E_KEY] = "key",
	[E_VALUE] = "value",
	[E_OPERATOR] = "operator",
	[E_PRINCIPAL] = "principal",
	[E_RESERVATION_SET] = "reservationSet",
	[E_INSTANCES_SET] = "instancesSet",
};

/* What the text of a kept element is for. */
enum field {
	F_NONE,
	F_CODE,                  /* error documents */
	F_MESSAGE,
	F_NEXT_TOKEN,
	F_STR,                   /* an interface's string, at eni_field.off */
	F_MANAGED,               /* requesterManaged */
	F_ADDR,                  /* one of the interface's addresses */
	F_TAG_KEY,
	F_TAG_VALUE,
	F_INSTANCE_ID,           /* DescribeInstances */
};

/* ---- the path-tracking core ---- */

struct xp {
	XML_Parser p;
	enum el stack[MAX_DEPTH];
	unsigned depth;          /* elements open */
	enum el want;            /* the root element of an answer */
	enum el root;
	unsigned keep_depth;     /* the element whose text is kept; 0: none */
	enum field keep;
	const void *keep_arg;
	struct vf_buf text;
	bool text_cut;
	bool failed;             /* err holds why */
	char *err;
	size_t errlen;
	char code[128];
	char message[512];
	char *token;
	size_t tokenlen;
	char tag_key[64];        /* a tagSet item's */
	char tag_value[1024];
	bool tag_is_name;
	/* the answer's own part */
	void (*start)(struct xp *x);
	void (*end)(struct xp *x, const char *text, size_t n);
};

/* Control characters out of text that goes into an error message. */
static void printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

__attribute__((format(printf, 2, 3)))
static void xp_fail(struct xp *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failed)
		return;
	x->failed = true;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	XML_StopParser(x->p, XML_FALSE);
}

static enum el lookup(const char *name)
{
	const char *local = strrchr(name, '|');

	local = local ? local + 1 : name;
	for (int i = E_OTHER + 1; i < E_COUNT; i++)
		if (strcmp(el_names[i], local) == 0)
			return (enum el)i;
	return E_OTHER;
}

/* The open elements from depth from on are exactly path. */
static bool xp_at(const struct xp *x, unsigned from, const enum el *path)
{
	unsigned d = from;

	if (x->depth > MAX_DEPTH)
		return false;
	for (; *path != E_END; path++, d++)
		if (d >= x->depth || x->stack[d] != *path)
			return false;
	return d == x->depth;
}

/* The text of the element just opened is kept for field. */
static void xp_keep(struct xp *x, enum field f, const void *arg)
{
	x->keep_depth = x->depth;
	x->keep = f;
	x->keep_arg = arg;
	x->text_cut = false;
	vf_buf_reset(&x->text);
}

static const enum el p_error_code[] = { E_RESPONSE, E_ERRORS, E_ERROR,
	E_CODE, E_END };
static const enum el p_error_message[] = { E_RESPONSE, E_ERRORS, E_ERROR,
	E_MESSAGE, E_END };
static const enum el p_error_code2[] = { E_ERROR_RESPONSE, E_ERROR, E_CODE,
	E_END };
static const enum el p_error_message2[] = { E_ERROR_RESPONSE, E_ERROR,
	E_MESSAGE, E_END };
static const enum el p_tag[] = { E_TAG_SET, E_ITEM, E_END };
static const enum el p_tag_key[] = { E_TAG_SET, E_ITEM, E_KEY, E_END };
static const enum el p_tag_value[] = { E_TAG_SET, E_ITEM, E_VALUE, E_END };

static void XMLCALL on_start(void *ud, const XML_Char *name,
	const XML_Char **attrs)
{
	struct xp *x = ud;
	enum el e = lookup(name);

	(void)attrs;
	if (x->failed)
		return;
	if (x->depth < MAX_DEPTH)
		x->stack[x->depth] = e;
	x->depth++;
	if (x->depth == 1) {
		const char *local = strrchr(name, '|');
		char shown[64];

		x->root = e;
		if (e != x->want && e != E_RESPONSE && e != E_ERROR_RESPONSE) {
			snprintf(shown, sizeof(shown), "%s",
				local ? local + 1 : name);
			printable(shown);
			xp_fail(x, "not a %s: the root element is <%s>",
				el_names[x->want], shown);
		}
		return;
	}
	if (x->root != x->want) {
		if (xp_at(x, 0, p_error_code) || xp_at(x, 0, p_error_code2))
			xp_keep(x, F_CODE, NULL);
		else if (xp_at(x, 0, p_error_message) ||
		    xp_at(x, 0, p_error_message2))
			xp_keep(x, F_MESSAGE, NULL);
		return;
	}
	if (x->depth == 2 && e == E_NEXT_TOKEN) {
		xp_keep(x, F_NEXT_TOKEN, NULL);
		return;
	}
	x->start(x);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xp *x = ud;
	size_t n = (size_t)len;

	if (x->keep_depth != x->depth || x->keep_depth == 0 || len <= 0)
		return;
	if (x->text.len + n > MAX_TEXT) {
		n = MAX_TEXT - x->text.len;
		x->text_cut = true;
	}
	if (!vf_buf_append(&x->text, s, n))
		xp_fail(x, "out of memory");
}

/* The kept text without surrounding blanks, NUL-terminated. */
static const char *xp_text(struct xp *x, size_t *n)
{
	char *s;
	size_t len;

	if (!vf_buf_append(&x->text, "", 1)) {
		xp_fail(x, "out of memory");
		*n = 0;
		return "";
	}
	s = x->text.data;
	len = x->text.len - 1;
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	s[len] = '\0';
	*n = len;
	return s;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xp *x = ud;
	const char *text = NULL;
	size_t n = 0;

	(void)name;
	if (x->failed)
		return;
	if (x->keep_depth == x->depth && x->keep_depth != 0)
		text = xp_text(x, &n);
	if (text != NULL) {
		switch (x->keep) {
		case F_CODE:
			if (x->code[0] == '\0')
				vf_copy_utf8(x->code, sizeof(x->code), text, n);
			break;
		case F_MESSAGE:
			if (x->message[0] == '\0')
				vf_copy_utf8(x->message, sizeof(x->message), text, n);
			break;
		case F_NEXT_TOKEN:
			if (x->text_cut || n >= x->tokenlen)
				xp_fail(x, "nextToken longer than %zu bytes",
					x->tokenlen - 1);
			else
				memcpy(x->token, text, n + 1);
			break;
		default:
			break;
		}
	}
	if (x->depth > 1 && x->root == x->want)
		x->end(x, text, n);
	if (x->keep_depth == x->depth)
		x->keep_depth = 0;
	x->depth--;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
	const XML_Char *sysid, const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	xp_fail(ud, "a DOCTYPE in an EC2 answer");
}

/* Tag items under from: keeps key and value, tells whether it is Name. */
static bool tag_start(struct xp *x, unsigned from)
{
	if (xp_at(x, from, p_tag)) {
		x->tag_key[0] = x->tag_value[0] = '\0';
		return true;
	}
	if (xp_at(x, from, p_tag_key)) {
		xp_keep(x, F_TAG_KEY, NULL);
		return true;
	}
	if (xp_at(x, from, p_tag_value)) {
		xp_keep(x, F_TAG_VALUE, NULL);
		return true;
	}
	return false;
}

/* True when the tag item under from just ended with key Name. */
static bool tag_end(struct xp *x, unsigned from, const char *text, size_t n)
{
	if (text != NULL && x->keep == F_TAG_KEY)
		vf_copy_utf8(x->tag_key, sizeof(x->tag_key), text, n);
	else if (text != NULL && x->keep == F_TAG_VALUE)
		vf_copy_utf8(x->tag_value, sizeof(x->tag_value), text, n);
	return xp_at(x, from, p_tag) && strcmp(x->tag_key, "Name") == 0;
}

/*
 * Runs the parser over xml. True for a complete answer with root x->want;
 * false with a reason in x->err otherwise (an error document: its code and
 * message).
 */
static bool xp_run(struct xp *x, const char *xml, size_t len)
{
	size_t off = 0;
	bool ok = true;

	x->p = XML_ParserCreateNS(NULL, '|');
	if (x->p == NULL) {
		snprintf(x->err, x->errlen, "out of memory");
		return false;
	}
	vf_buf_init(&x->text, MAX_TEXT + 1);
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	do {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		bool last = off + n == len;

		if (XML_Parse(x->p, xml + off, (int)n, last) != XML_STATUS_OK) {
			ok = false;
			break;
		}
		off += n;
	} while (off < len);
	if (!ok && !x->failed)
		snprintf(x->err, x->errlen, "malformed XML: %s at line %lu",
			XML_ErrorString(XML_GetErrorCode(x->p)),
			(unsigned long)XML_GetCurrentLineNumber(x->p));
	else if (ok && x->root != x->want) {
		ok = false;
		printable(x->code);
		printable(x->message);
		if (x->code[0] == '\0')
			snprintf(x->err, x->errlen, "an error answer without "
				"a code");
		else if (x->message[0] == '\0')
			snprintf(x->err, x->errlen, "%s", x->code);
		else
			snprintf(x->err, x->errlen, "%s: %s", x->code,
				x->message);
	}
	XML_ParserFree(x->p);
	vf_buf_finish(&x->text);
	return ok;
}

/* ---- DescribeNetworkInterfaces ---- */

struct eni_field {
	enum el path[5];         /* under networkInterfaceSet/item */
	enum field field;
	size_t off, size;        /* F_STR: the string in vf_eni_info */
};

#define STR(m) F_STR, offsetof(struct vf_eni_info, m), \
	sizeof(((struct vf_eni_info *)NULL)->m)

static const struct eni_field eni_fields[] = {
	{ { E_NETWORK_INTERFACE_ID }, STR(id) },
	{ { E_INTERFACE_TYPE }, STR(interface_type) },
	{ { E_REQUESTER_ID }, STR(requester_id) },
	{ { E_REQUESTER_MANAGED }, F_MANAGED, 0, 0 },
	{ { E_DESCRIPTION }, STR(description) },
	{ { E_VPC_ID }, STR(vpc_id) },
	{ { E_SUBNET_ID }, STR(subnet_id) },
	{ { E_ATTACHMENT, E_INSTANCE_ID }, STR(instance_id) },
	{ { E_ATTACHMENT, E_INSTANCE_OWNER_ID }, STR(instance_owner_id) },
	{ { E_OPERATOR, E_PRINCIPAL }, STR(operator_principal) },
	{ { E_PRIVATE_IP_ADDRESS }, F_ADDR, 0, 0 },
	{ { E_ASSOCIATION, E_PUBLIC_IP }, F_ADDR, 0, 0 },
	{ { E_PRIVATE_IP_ADDRESSES_SET, E_ITEM, E_PRIVATE_IP_ADDRESS },
	  F_ADDR, 0, 0 },
	{ { E_PRIVATE_IP_ADDRESSES_SET, E_ITEM, E_ASSOCIATION, E_PUBLIC_IP },
	  F_ADDR, 0, 0 },
	{ { E_IPV6_ADDRESSES_SET, E_ITEM, E_IPV6_ADDRESS }, F_ADDR, 0, 0 },
	{ { E_IPV6_ADDRESS }, F_ADDR, 0, 0 },   /* the primary IPv6 one */
};

static const enum el p_interface[] = { E_DNI_RESPONSE,
	E_NETWORK_INTERFACE_SET, E_ITEM, E_END };
#define ENI_DEPTH 3

struct eni_parse {
	struct xp x;             /* first: the hooks get &x */
	struct vf_entity_list *out;
	vf_ec2_eni_cb cb;
	void *ctx;
	struct vf_eni_info eni;
	struct vf_addr *addrs;   /* the interface's, without repeats */
	size_t n_addrs, cap_addrs;
	size_t interfaces, no_id, bad_addrs;
};

/* Inside an interface item, below it. */
static bool in_interface(const struct xp *x)
{
	return x->depth > ENI_DEPTH && x->depth <= MAX_DEPTH &&
		x->stack[0] == E_DNI_RESPONSE &&
		x->stack[1] == E_NETWORK_INTERFACE_SET && x->stack[2] == E_ITEM;
}

static void eni_start(struct xp *x)
{
	struct eni_parse *p = (struct eni_parse *)x;

	if (xp_at(x, 0, p_interface)) {
		memset(&p->eni, 0, sizeof(p->eni));
		p->n_addrs = 0;
		return;
	}
	if (!in_interface(x) || tag_start(x, ENI_DEPTH))
		return;
	for (size_t i = 0; i < sizeof(eni_fields) / sizeof(eni_fields[0]); i++) {
		if (xp_at(x, ENI_DEPTH, eni_fields[i].path)) {
			xp_keep(x, eni_fields[i].field, &eni_fields[i]);
			return;
		}
	}
}

static void eni_addr(struct eni_parse *p, const char *text, size_t n)
{
	struct vf_addr a;

	if (n == 0)
		return;
	if (!vf_addr_parse(text, n, &a)) {
		p->bad_addrs++;
		log_debug("EC2: skipping an address that does not parse: "
			"\"%.64s\"", text);
		return;
	}
	for (size_t i = 0; i < p->n_addrs; i++)
		if (vf_addr_eq(&p->addrs[i], &a))
			return;
	if (p->n_addrs == p->cap_addrs) {
		size_t cap = p->cap_addrs ? p->cap_addrs * 2 : 16;
		struct vf_addr *na;

		if (cap > MAX_ENI_ADDRS) {
			xp_fail(&p->x, "more than %d addresses on one "
				"interface", MAX_ENI_ADDRS);
			return;
		}
		na = realloc(p->addrs, cap * sizeof(*na));
		if (na == NULL) {
			xp_fail(&p->x, "out of memory");
			return;
		}
		p->addrs = na;
		p->cap_addrs = cap;
	}
	p->addrs[p->n_addrs++] = a;
}

/* An interface ended: its entity, then its addresses. */
static void eni_done(struct eni_parse *p)
{
	struct vf_entity e;

	if (p->eni.id[0] == '\0') {
		p->no_id++;
		log_debug("EC2: skipping an interface without an id");
		return;
	}
	vf_entity_classify(&p->eni, &e);
	if (!vf_entity_list_add(p->out, &e)) {
		xp_fail(&p->x, "out of memory");
		return;
	}
	for (size_t i = 0; i < p->n_addrs; i++) {
		if (!vf_entity_list_add_addr(p->out, &p->addrs[i])) {
			xp_fail(&p->x, "out of memory");
			return;
		}
	}
	p->interfaces++;
	if (p->cb != NULL && !p->cb(p->ctx, &p->eni, p->out->n_entities - 1))
		xp_fail(&p->x, "out of memory");
}

static void eni_end(struct xp *x, const char *text, size_t n)
{
	struct eni_parse *p = (struct eni_parse *)x;
	const struct eni_field *f = x->keep_arg;

	if (x->depth == ENI_DEPTH) {
		if (xp_at(x, 0, p_interface))
			eni_done(p);
		return;
	}
	if (!in_interface(x))
		return;
	if (tag_end(x, ENI_DEPTH, text, n)) {
		vf_copy_utf8(p->eni.name_tag, sizeof(p->eni.name_tag),
			x->tag_value, strlen(x->tag_value));
		return;
	}
	if (text == NULL)
		return;
	switch (x->keep) {
	case F_STR:
		vf_copy_utf8((char *)&p->eni + f->off, f->size, text, n);
		break;
	case F_MANAGED:
		p->eni.requester_managed = strcasecmp(text, "true") == 0;
		break;
	case F_ADDR:
		eni_addr(p, text, n);
		break;
	default:
		break;
	}
}

bool vf_ec2_parse_interfaces_cb(const char *xml, size_t len,
	struct vf_entity_list *out, vf_ec2_eni_cb cb, void *ctx,
	char *next_token, size_t tokenlen, char *err, size_t errlen)
{
	struct eni_parse p = {
		.x = {
			.want = E_DNI_RESPONSE,
			.err = err, .errlen = errlen,
			.token = next_token, .tokenlen = tokenlen,
			.start = eni_start, .end = eni_end,
		},
		.out = out, .cb = cb, .ctx = ctx,
	};
	size_t n_entities = out->n_entities, n_addrs = out->n_addrs;
	bool ok;

	if (tokenlen == 0) {
		snprintf(err, errlen, "no room for nextToken");
		return false;
	}
	next_token[0] = '\0';
	ok = xp_run(&p.x, xml, len);
	free(p.addrs);
	if (!ok) {
		out->n_entities = n_entities;
		out->n_addrs = n_addrs;
		next_token[0] = '\0';
		return false;
	}
	if (p.bad_addrs > 0 || p.no_id > 0)
		log_debug("EC2: %zu interfaces read, %zu without an id and "
			"%zu addresses that do not parse skipped",
			p.interfaces, p.no_id, p.bad_addrs);
	return true;
}

bool vf_ec2_parse_interfaces(const char *xml, size_t len,
	struct vf_entity_list *out, char *next_token, size_t tokenlen,
	char *err, size_t errlen)
{
	return vf_ec2_parse_interfaces_cb(xml, len, out, NULL, NULL,
		next_token, tokenlen, err, errlen);
}

/* ---- DescribeInstances ---- */

static const enum el p_instance[] = { E_DI_RESPONSE, E_RESERVATION_SET,
	E_ITEM, E_INSTANCES_SET, E_ITEM, E_END };
static const enum el p_instance_id[] = { E_INSTANCE_ID, E_END };
#define INSTANCE_DEPTH 5

struct names_parse {
	struct xp x;             /* first: the hooks get &x */
	vf_ec2_name_cb cb;
	void *ctx;
	char id[64];
	char name[1024];
};

static bool in_instance(const struct xp *x)
{
	return x->depth > INSTANCE_DEPTH && x->depth <= MAX_DEPTH &&
		x->stack[0] == E_DI_RESPONSE &&
		x->stack[1] == E_RESERVATION_SET && x->stack[2] == E_ITEM &&
		x->stack[3] == E_INSTANCES_SET && x->stack[4] == E_ITEM;
}

static void names_start(struct xp *x)
{
	struct names_parse *p = (struct names_parse *)x;

	if (xp_at(x, 0, p_instance)) {
		p->id[0] = p->name[0] = '\0';
		return;
	}
	if (!in_instance(x) || tag_start(x, INSTANCE_DEPTH))
		return;
	if (xp_at(x, INSTANCE_DEPTH, p_instance_id))
		xp_keep(x, F_INSTANCE_ID, NULL);
}

static void names_end(struct xp *x, const char *text, size_t n)
{
	struct names_parse *p = (struct names_parse *)x;

	if (x->depth == INSTANCE_DEPTH) {
		if (xp_at(x, 0, p_instance) && p->id[0] != '\0' &&
		    p->name[0] != '\0' && p->cb != NULL)
			p->cb(p->ctx, p->id, p->name);
		return;
	}
	if (!in_instance(x))
		return;
	if (tag_end(x, INSTANCE_DEPTH, text, n)) {
		vf_copy_utf8(p->name, sizeof(p->name), x->tag_value,
			strlen(x->tag_value));
		return;
	}
	if (text != NULL && x->keep == F_INSTANCE_ID)
		vf_copy_utf8(p->id, sizeof(p->id), text, n);
}

bool vf_ec2_parse_instance_names(const char *xml, size_t len,
	vf_ec2_name_cb cb, void *ctx, char *next_token, size_t tokenlen,
	char *err, size_t errlen)
{
	struct names_parse p = {
		.x = {
			.want = E_DI_RESPONSE,
			.err = err, .errlen = errlen,
			.token = next_token, .tokenlen = tokenlen,
			.start = names_start, .end = names_end,
		},
		.cb = cb, .ctx = ctx,
	};

	if (tokenlen == 0) {
		snprintf(err, errlen, "no room for nextToken");
		return false;
	}
	next_token[0] = '\0';
	if (!xp_run(&p.x, xml, len)) {
		next_token[0] = '\0';
		return false;
	}
	return true;
}
