/*
 * The enrichment stage's private parts: GeoIP databases, the entity table,
 * threat lists, and the rendered fragments the readers cache.
 *
 * A fragment is GELF text for one address with VF_FRAG_PREFIX standing
 * where the field's name goes: ,"_\1_internal":"true" becomes
 * ,"_src_addr_internal":"true" for src_addr. JSON escaping never leaves a
 * raw \1, so the marker cannot clash with a value.
 */
#ifndef VPCFLOWD_ENRICH_INTERNAL_H
#define VPCFLOWD_ENRICH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/enrich.h"
#include "vpcflowd/http.h"
#include "vpcflowd/config.h"
#include "vpcflowd/entity.h"
#include "vpcflowd/ipset.h"

#define VF_FRAG_PREFIX '\1'

/* ,"_<f>_suffix": with the marker for <f> */
bool vf_frag_key(struct vf_buf *b, const char *suffix);
/* ,"_<f>_suffix":"value" (escaped) */
bool vf_frag_str(struct vf_buf *b, const char *suffix, const char *s,
	size_t n);

/* ---- GeoIP (libmaxminddb) ---- */

struct vf_geoip;

/* Opens the city and ASN databases of gc (either may be NULL: none).
 * NULL with a reason in err when a database cannot be opened. */
struct vf_geoip *vf_geoip_open(const struct vf_config_geoip *gc, char *err,
	size_t errlen);
void vf_geoip_close(struct vf_geoip *g);
/* Appends the fragments of what the databases know about a: geolocation,
 * country_code, city_name, as_number, as_organization. Missing values give
 * no field. False when b's cap would be passed. */
bool vf_geoip_render(const struct vf_geoip *g, const struct vf_addr *a,
	struct vf_buf *b);

/* ---- the entity table ---- */

struct vf_entity_table;

/* Takes the entities and addresses of l (l is left empty). NULL on out of
 * memory. */
struct vf_entity_table *vf_entity_table_create(struct vf_entity_list *l);
void vf_entity_table_destroy(struct vf_entity_table *t);
size_t vf_entity_table_size(const struct vf_entity_table *t);

/*
 * The entity that owns a, NULL when none. When interfaces in several VPCs
 * hold a (overlapping private ranges), *ambiguous is set and the one in vpc
 * (a VPC id, may be NULL) is preferred, else the first.
 */
const struct vf_entity *vf_entity_table_lookup(const struct vf_entity_table *t,
	const struct vf_addr *a, const char *vpc, size_t vpclen, bool *ambiguous);
/* The VPC of a network interface id (eni-...), NULL when unknown. */
const char *vf_entity_table_eni_vpc(const struct vf_entity_table *t,
	const char *eni, size_t len);
/* The entity's rendered fragment (entity, aws_type, description, vpc_id,
 * subnet_id). */
const char *vf_entity_table_fragment(const struct vf_entity_table *t,
	const struct vf_entity *e, size_t *len);

/* ---- threat lists ---- */

struct vf_threat_list {
	const struct vf_config_threat_list *cfg;
	struct vf_ipset *set;          /* last good contents; NULL: none yet */
	size_t entries;
	unsigned failures;             /* in a row */
	uint64_t due_ms;               /* the next load */
	/* what the last good load saw, for the next conditional load */
	char etag[256], last_modified[128];
	off_t file_size;
	struct timespec file_mtime;
	/* the same, from the load in progress */
	char next_etag[256], next_last_modified[128];
	off_t next_size;
	struct timespec next_mtime;
};

enum vf_threat_load {
	VF_THREAT_CHANGED,             /* l->set is new */
	VF_THREAT_UNCHANGED,           /* 304, or the same file */
	VF_THREAT_FAILED,              /* logged; l->set is the last good */
};

/* Loads l again (force: a file even when it looks unchanged); h fetches
 * URLs. */
enum vf_threat_load vf_threat_list_load(struct vf_threat_list *l,
	struct vf_http *h, bool force);
void vf_threat_list_finish(struct vf_threat_list *l);

/* ---- snapshots and readers ---- */

#define VF_ENRICH_MAX_READERS 1024
#define VF_ENRICH_MAX_LISTS 64

/* internal set bits */
#define VF_NET_INTERNAL 1u    /* enrich.internal_networks */
#define VF_NET_NOT_GLOBAL 2u  /* special-purpose: never looked up in GeoIP */

/* A table shared by several snapshots; only the refresh side counts. */
struct vf_enrich_part {
	unsigned refs;
	void *p;
	void (*destroy)(void *p);
};

/* What a reader uses: immutable once published. */
struct vf_enrich_tables {
	uint64_t gen;                  /* caches rendered before are stale */
	struct vf_enrich_part *entities;   /* struct vf_entity_table */
	struct vf_enrich_part *threats;    /* struct vf_ipset, bit per list */
	struct vf_enrich_part *geoip;      /* struct vf_geoip */
	struct vf_enrich_tables *retired_next;
};

struct vf_enrich {
	const struct vf_config *cfg;
	const atomic_int *stop;
	struct vf_ipset *nets;         /* VF_NET_* bits; never replaced */
	unsigned n_lists;
	const char *list_names[VF_ENRICH_MAX_LISTS];
	size_t list_name_len[VF_ENRICH_MAX_LISTS];
	struct vf_enrich_counters counters;

	_Atomic(struct vf_enrich_tables *) current;
	/* each reader's pinned snapshot; a slot is a reader's for its life */
	_Atomic(struct vf_enrich_tables *) hazard[VF_ENRICH_MAX_READERS];
	atomic_bool slot_used[VF_ENRICH_MAX_READERS];

	/* the refresh side (publish() holds mu) */
	pthread_mutex_t mu;
	struct vf_enrich_tables *retired;
	uint64_t gen;
	struct vf_threat_list lists[VF_ENRICH_MAX_LISTS];
	struct vf_http *http;          /* threat list URLs */
	struct vf_aws_creds_provider *creds;
	bool own_creds;
	struct vf_ec2 **ec2;           /* one a region */
	size_t n_ec2;
	unsigned entity_failures;      /* in a row */
	uint64_t entities_due_ms;
	atomic_bool reload;            /* vf_enrich_reload() */
	atomic_int *hup;               /* opts.reload: SIGHUP */
	bool threats_dirty;            /* a list changed, not yet published */
	atomic_int quit;               /* destroy: the refresh ends, fetches too */
	pthread_t thread;
	bool thread_started;
};

static inline uint64_t vf_hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static inline uint64_t vf_addr_hash(const struct vf_addr *a)
{
	uint64_t hi, lo;
	uint32_t v4;

	if (!a->v6) {
		memcpy(&v4, a->b, 4);
		return vf_hash_mix(v4);
	}
	memcpy(&hi, a->b, 8);
	memcpy(&lo, a->b + 8, 8);
	return vf_hash_mix(hi ^ vf_hash_mix(lo + 1));
}


#endif
