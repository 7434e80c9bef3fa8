/*
 * The enrichment tables and their refresh.
 *
 * Snapshots. Readers use the snapshot `current` points to. The refresh
 * side builds a new one (sharing the parts that did not change), swaps the
 * pointer and retires the old one. A reader pins the snapshot it uses in
 * its hazard slot (store, then check `current` again); a retired snapshot
 * is freed once no slot holds it. Readers never lock or wait; the refresh
 * side scans 1024 slots, which costs nothing next to a refresh.
 *
 * Refresh. One thread loads what is due: each threat list every its
 * refresh, the entity table every aws_entities.refresh, everything at once
 * after vf_enrich_reload() (SIGHUP), GeoIP databases too. A failed load
 * keeps what was loaded before and is tried again sooner (backoff up to
 * the refresh period).
 */
#include "enrich_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/log.h"

#define NAP_SLICE_MS 200
#define RETRY_FIRST_MS 10000
#define LIST_HTTP_TIMEOUT_MS 120000

/* Special-purpose ranges (IANA registries): never in a GeoIP database. */
static const char *const not_global[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
	"192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
	"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/127", "64:ff9b:1::/48", "100::/64",
	"2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
};

/* ---- parts and snapshots (the refresh side, under mu) ---- */

static void entity_table_free(void *p)
{
	vf_entity_table_destroy(p);
}

static void ipset_free(void *p)
{
	vf_ipset_destroy(p);
}

static void geoip_free(void *p)
{
	vf_geoip_close(p);
}

static struct vf_enrich_part *part_new(void *p, void (*destroy)(void *))
{
	struct vf_enrich_part *part;

	if (p == NULL)
		return NULL;
	part = calloc(1, sizeof(*part));
	if (part == NULL) {
		destroy(p);
		return NULL;
	}
	part->p = p;
	part->destroy = destroy;
	return part;
}

static void part_ref(struct vf_enrich_part *part)
{
	if (part != NULL)
		part->refs++;
}

static void part_unref(struct vf_enrich_part *part)
{
	if (part == NULL || --part->refs > 0)
		return;
	part->destroy(part->p);
	free(part);
}

static void tables_free(struct vf_enrich_tables *t)
{
	part_unref(t->entities);
	part_unref(t->threats);
	part_unref(t->geoip);
	free(t);
}

/* Frees the retired snapshots no reader holds. */
static void reclaim(struct vf_enrich *e)
{
	struct vf_enrich_tables **pp = &e->retired, *t;

	while ((t = *pp) != NULL) {
		bool held = false;

		for (size_t i = 0; i < VF_ENRICH_MAX_READERS && !held; i++)
			held = atomic_load(&e->hazard[i]) == t;
		if (held) {
			pp = &t->retired_next;
			continue;
		}
		*pp = t->retired_next;
		tables_free(t);
	}
}

/*
 * Publishes a snapshot with the given parts replaced (NULL: the current
 * one's). A part passed in is the snapshot's (on failure it is freed).
 */
static bool publish(struct vf_enrich *e, struct vf_enrich_part *entities,
	struct vf_enrich_part *threats, struct vf_enrich_part *geoip)
{
	struct vf_enrich_tables *old, *t = calloc(1, sizeof(*t));

	pthread_mutex_lock(&e->mu);
	old = atomic_load(&e->current);
	if (t == NULL) {
		pthread_mutex_unlock(&e->mu);
		log_warnx("enrich: out of memory; keeping the tables in use");
		/* new parts nothing refers to yet */
		part_ref(entities);
		part_unref(entities);
		part_ref(threats);
		part_unref(threats);
		part_ref(geoip);
		part_unref(geoip);
		return false;
	}
	t->gen = ++e->gen;
	t->entities = entities != NULL ? entities : old ? old->entities : NULL;
	t->threats = threats != NULL ? threats : old ? old->threats : NULL;
	t->geoip = geoip != NULL ? geoip : old ? old->geoip : NULL;
	part_ref(t->entities);
	part_ref(t->threats);
	part_ref(t->geoip);
	atomic_store(&e->current, t);
	log_debug("enrich: tables %llu in use%s%s%s", (unsigned long long)t->gen,
		entities ? ", new entities" : "", threats ? ", new threat lists" :
		"", geoip ? ", new GeoIP databases" : "");
	if (old != NULL) {
		old->retired_next = e->retired;
		e->retired = old;
	}
	reclaim(e);
	pthread_mutex_unlock(&e->mu);
	return true;
}

/* ---- loading ---- */

static bool quitting(const struct vf_enrich *e)
{
	return atomic_load(&e->quit) || (e->stop != NULL && atomic_load(e->stop));
}

static uint64_t retry_ms(unsigned failures, uint64_t period)
{
	uint64_t ms = RETRY_FIRST_MS;

	for (unsigned i = 1; i < failures && ms < period; i++)
		ms *= 2;
	return ms < period ? ms : period;
}

/* The union of the lists as one set, a bit per list. */
static struct vf_enrich_part *combine_lists(struct vf_enrich *e)
{
	const struct vf_ipset *sets[VF_ENRICH_MAX_LISTS];

	for (unsigned i = 0; i < e->n_lists; i++)
		sets[i] = e->lists[i].set;
	return part_new(vf_ipset_combine(sets, e->n_lists), ipset_free);
}

/* Loads the due lists (all when force); true when one changed. */
static bool load_lists(struct vf_enrich *e, bool force)
{
	uint64_t now = vf_now_ms();
	bool changed = false;

	for (unsigned i = 0; i < e->n_lists; i++) {
		struct vf_threat_list *l = &e->lists[i];
		uint64_t period = l->cfg->refresh_ms;

		if (!force && now < l->due_ms)
			continue;
		switch (vf_threat_list_load(l, e->http, force)) {
		case VF_THREAT_CHANGED:
			changed = true;
			atomic_store(&e->counters.list_entries[i], l->entries);
			/* fall through */
		case VF_THREAT_UNCHANGED:
			l->due_ms = now + period;
			break;
		case VF_THREAT_FAILED:
			atomic_fetch_add(&e->counters.list_failures[i], 1);
			l->due_ms = now + retry_ms(l->failures, period);
			break;
		}
		if (quitting(e))
			break;
	}
	return changed;
}

static struct vf_enrich_part *load_entities(struct vf_enrich *e)
{
	const struct vf_config_aws_entities *ac = &e->cfg->enrich.aws_entities;
	struct vf_entity_list l;
	struct vf_entity_table *t;
	uint64_t now = vf_now_ms();
	char err[512];

	vf_entity_list_init(&l);
	for (size_t i = 0; i < e->n_ec2; i++) {
		const char *region = ac->n_regions ? ac->regions[i] :
			e->cfg->aws.region;

		if (!vf_ec2_load_entities(e->ec2[i], &l, err, sizeof(err))) {
			e->entity_failures++;
			atomic_fetch_add(&e->counters.entity_failures, 1);
			e->entities_due_ms = now + retry_ms(e->entity_failures,
				ac->refresh_ms);
			log_warnx("aws entities: %s: %s; keeping the last table "
				"(%llu interfaces), trying again in %llu s",
				region, err, (unsigned long long)atomic_load(
				&e->counters.entities),
				(unsigned long long)(e->entities_due_ms - now) /
				1000);
			vf_entity_list_finish(&l);
			return NULL;
		}
	}
	t = vf_entity_table_create(&l);
	if (t == NULL) {
		log_warnx("aws entities: out of memory; keeping the last table");
		e->entities_due_ms = now + retry_ms(++e->entity_failures,
			ac->refresh_ms);
		return NULL;
	}
	e->entity_failures = 0;
	e->entities_due_ms = now + ac->refresh_ms;
	log_debug("aws entities: %zu interfaces", vf_entity_table_size(t));
	atomic_store(&e->counters.entities, vf_entity_table_size(t));
	atomic_fetch_add(&e->counters.entity_refreshes, 1);
	return part_new(t, entity_table_free);
}

static struct vf_enrich_part *open_geoip(struct vf_enrich *e, char *err,
	size_t errlen)
{
	const struct vf_config_geoip *gc = &e->cfg->enrich.geoip;

	if (gc->city_db == NULL && gc->asn_db == NULL)
		return NULL;
	return part_new(vf_geoip_open(gc, err, errlen), geoip_free);
}

/* One round: whatever is due, published as one snapshot; force: all. */
static void refresh(struct vf_enrich *e, bool force, bool reopen_geoip)
{
	struct vf_enrich_part *entities = NULL, *threats = NULL, *geoip = NULL;
	char err[512];

	if (e->n_lists > 0 && load_lists(e, force))
		e->threats_dirty = true;
	if (e->threats_dirty && (threats = combine_lists(e)) == NULL)
		log_warnx("enrich: out of memory; keeping the threat lists "
			"in use");
	if (e->n_ec2 > 0 && !quitting(e) &&
	    (force || vf_now_ms() >= e->entities_due_ms))
		entities = load_entities(e);
	if (reopen_geoip) {
		geoip = open_geoip(e, err, sizeof(err));
		if (geoip == NULL && (e->cfg->enrich.geoip.city_db != NULL ||
		    e->cfg->enrich.geoip.asn_db != NULL))
			log_warnx("geoip: %s; keeping the databases in use", err);
	}
	if (entities != NULL || threats != NULL || geoip != NULL) {
		if (publish(e, entities, threats, geoip) && threats != NULL)
			e->threats_dirty = false;
	} else {
		pthread_mutex_lock(&e->mu);
		reclaim(e);
		pthread_mutex_unlock(&e->mu);
	}
}

static uint64_t next_due(const struct vf_enrich *e)
{
	uint64_t due = UINT64_MAX;

	for (unsigned i = 0; i < e->n_lists; i++)
		if (e->lists[i].due_ms < due)
			due = e->lists[i].due_ms;
	if (e->n_ec2 > 0 && e->entities_due_ms < due)
		due = e->entities_due_ms;
	return due;
}

static void *refresh_thread(void *arg)
{
	struct vf_enrich *e = arg;

	while (!quitting(e)) {
		bool force = atomic_exchange(&e->reload, false);

		if (e->hup != NULL && atomic_exchange(e->hup, 0))
			force = true;
		if (force)
			log_info("enrich: reloading threat lists, GeoIP "
				"databases and AWS entities");
		if (force || vf_now_ms() >= next_due(e)) {
			refresh(e, force, force);
		} else if (e->retired != NULL) {
			/* readers let go of old tables between refreshes */
			pthread_mutex_lock(&e->mu);
			reclaim(e);
			pthread_mutex_unlock(&e->mu);
		}
		if (!atomic_load(&e->reload))
			vf_nap(&e->quit, NAP_SLICE_MS);
	}
	return NULL;
}

/* ---- create / destroy ---- */

static bool add_cidr(struct vf_ipset_builder *b, const char *text,
	uint64_t mask)
{
	struct vf_addr a;
	unsigned prefix;

	return vf_cidr_parse(text, strlen(text), &a, &prefix) &&
		vf_ipset_builder_add(b, &a, prefix, mask);
}

static bool build_nets(struct vf_enrich *e)
{
	const struct vf_config_enrich *ec = &e->cfg->enrich;
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	bool ok = b != NULL;

	for (size_t i = 0; ok && i < sizeof(not_global) / sizeof(*not_global);
	     i++)
		ok = add_cidr(b, not_global[i], VF_NET_NOT_GLOBAL);
	for (size_t i = 0; ok && i < ec->n_internal_networks; i++) {
		const struct vf_config_cidr *c = &ec->internal_networks[i];
		struct vf_addr a = { .v6 = c->family != AF_INET };

		memcpy(a.b, c->addr, a.v6 ? 16 : 4);
		ok = vf_ipset_builder_add(b, &a, c->prefix, VF_NET_INTERNAL);
	}
	if (ok)
		e->nets = vf_ipset_build(b);
	vf_ipset_builder_destroy(b);
	return e->nets != NULL;
}

static bool start_ec2(struct vf_enrich *e, char *err, size_t errlen)
{
	const struct vf_config *cfg = e->cfg;
	const struct vf_config_aws_entities *ac = &cfg->enrich.aws_entities;
	size_t n = ac->n_regions ? ac->n_regions : 1;

	if (ac->n_regions == 0 && cfg->aws.region == NULL) {
		snprintf(err, errlen, "enrich.aws_entities: no region: set "
			"enrich.aws_entities.regions or aws.region");
		return false;
	}
	if (e->creds == NULL) {
		struct vf_aws_creds_opts co = {
			.profile = cfg->aws.profile,
			.region = cfg->aws.region,
			.role_arn = cfg->aws.role_arn,
			.external_id = cfg->aws.external_id,
		};

		e->creds = vf_aws_creds_create(&co, err, errlen);
		if (e->creds == NULL)
			return false;
		e->own_creds = true;
	}
	e->ec2 = calloc(n, sizeof(*e->ec2));
	if (e->ec2 == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct vf_ec2_opts eo = {
			.region = ac->n_regions ? ac->regions[i] :
				cfg->aws.region,
			.endpoint = ac->endpoint,
			.creds = e->creds,
			.stop = &e->quit,
			.stop2 = e->stop,
		};

		e->ec2[i] = vf_ec2_create(&eo);
		if (e->ec2[i] == NULL) {
			snprintf(err, errlen, "enrich.aws_entities: cannot set "
				"up EC2 for %s", eo.region);
			return false;
		}
		e->n_ec2++;
	}
	return true;
}

struct vf_enrich *vf_enrich_create(const struct vf_enrich_opts *opts,
	char *err, size_t errlen)
{
	const struct vf_config *cfg = opts->cfg;
	const struct vf_config_enrich *ec = &cfg->enrich;
	struct vf_enrich_part *geoip = NULL;
	struct vf_enrich *e;

	if (ec->n_threat_lists > VF_ENRICH_MAX_LISTS) {
		snprintf(err, errlen, "enrich.threat_lists: at most %d lists",
			VF_ENRICH_MAX_LISTS);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cfg = cfg;
	e->stop = opts->stop;
	e->hup = opts->reload;
	e->creds = opts->creds;
	pthread_mutex_init(&e->mu, NULL);
	if (!build_nets(e)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->n_lists = (unsigned)ec->n_threat_lists;
	for (unsigned i = 0; i < e->n_lists; i++) {
		e->lists[i].cfg = &ec->threat_lists[i];
		e->list_names[i] = ec->threat_lists[i].name;
		e->list_name_len[i] = strlen(ec->threat_lists[i].name);
	}
	if (e->n_lists > 0) {
		struct vf_http_opts ho = {
			.timeout_ms = LIST_HTTP_TIMEOUT_MS,
			.max_response = (size_t)512 << 20,
			.cancel = &e->quit,
			.cancel2 = e->stop,
			.follow_redirects = true,
		};

		e->http = vf_http_create(&ho);
		if (e->http == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (ec->aws_entities.enabled && !start_ec2(e, err, errlen))
		goto fail;
	/* a database named but unusable is a configuration error */
	geoip = open_geoip(e, err, errlen);
	if (geoip == NULL && (ec->geoip.city_db != NULL ||
	    ec->geoip.asn_db != NULL))
		goto fail;
	/* everything once before the first flow: a first snapshot */
	if (!publish(e, NULL, NULL, geoip)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	refresh(e, true, false);
	if (pthread_create(&e->thread, NULL, refresh_thread, e) != 0) {
		snprintf(err, errlen, "cannot start the refresh thread");
		goto fail;
	}
	e->thread_started = true;
	return e;
fail:
	vf_enrich_destroy(e);
	return NULL;
}

void vf_enrich_destroy(struct vf_enrich *e)
{
	struct vf_enrich_tables *t;

	if (e == NULL)
		return;
	atomic_store(&e->quit, 1);
	if (e->thread_started)
		pthread_join(e->thread, NULL);
	/* no reader is left: everything goes */
	t = atomic_load(&e->current);
	if (t != NULL) {
		t->retired_next = e->retired;
		e->retired = t;
	}
	while ((t = e->retired) != NULL) {
		e->retired = t->retired_next;
		tables_free(t);
	}
	for (unsigned i = 0; i < e->n_lists; i++)
		vf_threat_list_finish(&e->lists[i]);
	for (size_t i = 0; i < e->n_ec2; i++)
		vf_ec2_destroy(e->ec2[i]);
	free(e->ec2);
	if (e->own_creds)
		vf_aws_creds_destroy(e->creds);
	vf_http_destroy(e->http);
	vf_ipset_destroy(e->nets);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void vf_enrich_reload(struct vf_enrich *e)
{
	atomic_store(&e->reload, true);
}

const struct vf_enrich_counters *vf_enrich_counters(const struct vf_enrich *e)
{
	return &e->counters;
}

const char *vf_enrich_list_name(const struct vf_enrich *e, unsigned i)
{
	return i < e->n_lists ? e->list_names[i] : NULL;
}

unsigned vf_enrich_n_lists(const struct vf_enrich *e)
{
	return e->n_lists;
}
