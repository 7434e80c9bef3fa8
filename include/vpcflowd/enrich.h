/*
 * Enrichment: for each address of a flow (src_addr, dst_addr, pkt_src_addr,
 * pkt_dst_addr) the GELF fields <f>_internal, <f>_entity*, <f>_threat_*,
 * <f>_geolocation, <f>_country_code, <f>_city_name, <f>_as_* (interface
 * spec section 3).
 *
 * One vf_enrich per process holds the tables (internal networks, AWS
 * entities, threat lists, GeoIP databases). A background thread refreshes
 * them and publishes a new immutable snapshot by pointer; readers never
 * lock or wait. Each worker has its own vf_enrich_reader, with a bounded
 * cache of rendered results per address that a new snapshot invalidates.
 */
#ifndef VPCFLOWD_ENRICH_H
#define VPCFLOWD_ENRICH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/config.h"
#include "vpcflowd/flow.h"

struct vf_enrich;
struct vf_enrich_reader;

/* Counters, for logs and /metrics. */
struct vf_enrich_counters {
	atomic_uint_fast64_t threat_hits[64];     /* by list: flows with a hit */
	atomic_uint_fast64_t list_failures[64];   /* failed loads, by list */
	atomic_uint_fast64_t list_entries[64];    /* prefixes in the list now */
	atomic_uint_fast64_t entity_refreshes;    /* tables published */
	atomic_uint_fast64_t entity_failures;     /* region loads that failed */
	atomic_uint_fast64_t entities;            /* interfaces known now */
	atomic_uint_fast64_t cache_hits, cache_misses;
};

struct vf_aws_creds_provider;

struct vf_enrich_opts {
	const struct vf_config *cfg;   /* must outlive the vf_enrich */
	/* signs the EC2 calls (must outlive it); NULL: made from cfg's aws
	 * section when aws_entities is on */
	struct vf_aws_creds_provider *creds;
	const atomic_int *stop;        /* the process is stopping: loads in
					  progress give up, at start too */
	atomic_int *reload;            /* set (by a SIGHUP handler): everything
					  is reloaded soon; cleared here. NULL:
					  none */
};

/*
 * Loads every table once (entities from EC2, threat lists, GeoIP), so that
 * the first flows are enriched too, then starts the refresh thread. A
 * table that fails to load is logged and counted, and retried; only what
 * cannot work at all (a GeoIP database that is missing or not MMDB, no
 * region for aws_entities) fails the create, with a reason in err.
 */
struct vf_enrich *vf_enrich_create(const struct vf_enrich_opts *opts,
	char *err, size_t errlen);
void vf_enrich_destroy(struct vf_enrich *e);

/* Reloads every list, database and the entity table soon, as a SIGHUP
 * does through opts.reload. */
void vf_enrich_reload(struct vf_enrich *e);

const struct vf_enrich_counters *vf_enrich_counters(const struct vf_enrich *e);
/* Threat list i's name (the field suffix). */
const char *vf_enrich_list_name(const struct vf_enrich *e, unsigned i);
unsigned vf_enrich_n_lists(const struct vf_enrich *e);

/* One per worker thread; e must outlive it. NULL on out of memory. */
struct vf_enrich_reader *vf_enrich_reader_create(struct vf_enrich *e);
void vf_enrich_reader_destroy(struct vf_enrich_reader *r);
/* Adds what the reader counted (hits, cache) to the shared counters; the
 * reader does so by itself every few thousand flows and at the end. */
void vf_enrich_reader_flush(struct vf_enrich_reader *r);

/*
 * Appends the enrichment fields of flow's addresses to out (each starting
 * with ','). False when out's cap would be passed; out is then left as it
 * was. Absent addresses give no fields.
 */
bool vf_enrich_flow(struct vf_enrich_reader *r, const struct vf_flow *flow,
	struct vf_buf *out);

#endif
