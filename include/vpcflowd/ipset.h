/*
 * Addresses and immutable address sets.
 *
 * A vf_ipset maps every IPv4 and IPv6 address to a 64-bit mask: the union
 * of the masks of every prefix added that covers it (0: none). It is built
 * once by a builder and never changes, so any number of threads may look
 * it up without locks; lookups cost about the same for ten entries and for
 * a million. Threat lists use one bit per list, internal networks one bit.
 */
#ifndef VPCFLOWD_IPSET_H
#define VPCFLOWD_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vpcflowd/config.h"

/* An address: IPv4 in b[0..3] with v6 false, else all 16 bytes; network order. */
struct vf_addr {
	bool v6;
	uint8_t b[16];
};

static inline bool vf_addr_eq(const struct vf_addr *a, const struct vf_addr *b)
{
	return a->v6 == b->v6 && memcmp(a->b, b->b, a->v6 ? 16 : 4) == 0;
}

/* Text to address: dotted IPv4 or any RFC 4291 IPv6 form (no zone, no
 * brackets); an IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4.
 * Allocates nothing; false when it is not exactly one address. */
bool vf_addr_parse(const char *s, size_t n, struct vf_addr *out);

/* "a.b.c.d/p", "x::/p" or a bare address (/32, /128). Host bits may be set;
 * they are ignored by the set. False when it is not one. The length has no
 * leading zero. "::ffff:a.b.c.d/p" is IPv4 /(p - 96) when p >= 96, else it
 * stays IPv6 (and then holds no IPv4 address in a set). */
bool vf_cidr_parse(const char *s, size_t n, struct vf_addr *out,
	unsigned *prefix);

/* Canonical text (inet_ntop's); out needs 46 bytes. Returns out. */
const char *vf_addr_format(const struct vf_addr *a, char *out, size_t outlen);

struct vf_ipset;
struct vf_ipset_builder;

struct vf_ipset_builder *vf_ipset_builder_create(void);
/* Adds a prefix with mask (nonzero). False on out of memory, a zero mask
 * or a prefix longer than the family allows. */
bool vf_ipset_builder_add(struct vf_ipset_builder *b, const struct vf_addr *a,
	unsigned prefix, uint64_t mask);
/* Prefixes added so far. */
size_t vf_ipset_builder_count(const struct vf_ipset_builder *b);
/* The set of what was added; overlapping prefixes OR their masks. The
 * builder may be reused or destroyed after. NULL on out of memory. */
struct vf_ipset *vf_ipset_build(struct vf_ipset_builder *b);
void vf_ipset_builder_destroy(struct vf_ipset_builder *b);

/* The mask of a, 0 when no prefix covers it. NULL set: 0. */
uint64_t vf_ipset_lookup(const struct vf_ipset *s, const struct vf_addr *a);

/* One set from up to 64: in the result, bit i is set where sets[i] has any
 * bit set (sets[i] may be NULL: empty). NULL on out of memory or n > 64. */
struct vf_ipset *vf_ipset_combine(const struct vf_ipset *const *sets,
	size_t n);

/* Distinct address ranges held (for logs and metrics). */
size_t vf_ipset_ranges(const struct vf_ipset *s);
/* Bytes of memory the set uses. */
size_t vf_ipset_bytes(const struct vf_ipset *s);
void vf_ipset_destroy(struct vf_ipset *s);

/* ---- threat list files ---- */

struct vf_threat_parse_result {
	size_t entries;        /* prefixes added */
	size_t bad_lines;      /* lines that are not comments and hold no address */
	size_t first_bad_line; /* 1-based line number of the first bad one, 0: none */
};

/*
 * Parses a list in format (plain, spamhaus, tor, csv with its 1-based
 * column; 0 means 1) and adds each address or prefix to b with mask.
 * Comments and blank lines are skipped; bad lines are counted and skipped
 * (in tor, lines starting with a word of letters are keyword lines, not bad
 * ones; in csv, a bad first record is a header). res may be NULL. False
 * only on out of memory; deciding whether the list is usable is the
 * caller's.
 */
bool vf_threat_parse(enum vf_config_threat_format format, unsigned column,
	const char *data, size_t len, struct vf_ipset_builder *b, uint64_t mask,
	struct vf_threat_parse_result *res);

#endif
