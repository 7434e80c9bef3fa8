/*
 * The lease manager. One thread renews the leases held here every
 * failover/3 and, every failover/2 (a round), scans the table, creates
 * leases for shards that have none, notes which counters moved, and takes
 * what vf_lease_choose() picks. Shard workers ask it whether they may go
 * on reading, and checkpoint through it.
 *
 * Ownership: every lease this process has held has an entry, allocated
 * once and freed only by vf_leases_destroy(), so workers and the thread
 * can keep pointers to it. An entry's mutex serialises the DynamoDB
 * calls on its lease (renewal, checkpoint, release) because each changes
 * leaseCounter, which the next one is conditional on; its state and
 * times are atomics, read by workers without waiting on a call.
 */
#include "vpcflowd/lease.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/log.h"

enum entry_state { E_FREE, E_HELD, E_LOST };

struct entry {
	char key[VF_SHARD_ID_MAX];      /* set once */
	pthread_mutex_t mu;             /* lease, ddb */
	struct vf_lease lease;
	struct vf_ddb *ddb;
	atomic_int state;
	atomic_bool reader;             /* a worker reads the shard (from its
					   position to its release) */
	atomic_uint_fast64_t renewed_ms;    /* when the last good renewal was sent */
	atomic_uint_fast64_t read_after_ms; /* a stolen lease: not before */
};

/* What a round remembers of a lease: when its counter last moved. */
struct obs {
	char key[VF_SHARD_ID_MAX];
	int64_t counter;
	uint64_t seen_ms;
};

struct vf_leases {
	struct vf_leases_opts o;
	char worker[VF_WORKER_ID_MAX];
	long timeout_ms;
	uint64_t renew_ms, round_ms;
	struct vf_ddb *ddb;             /* the thread's */
	pthread_t renewer, taker;
	bool renewer_started, taker_started;
	atomic_int quit;
	pthread_mutex_t mu;             /* entries, shards */
	struct entry **entries;
	size_t n_entries;
	struct vf_shard *shards;
	size_t n_shards;
	bool have_shards;
	struct obs *obs;                /* the thread's */
	size_t n_obs;
	unsigned seed;
	bool scan_failing;
	atomic_int relist;              /* a lease for a shard not listed yet */
	struct log_ratelimit rl_renew;  /* DynamoDB down: one line a period */
	struct log_ratelimit rl_take;
	uint64_t relist_asked_ms;
};

static bool stopping(const struct vf_leases *l)
{
	return l->o.stop != NULL && atomic_load(l->o.stop) != 0;
}

static bool is_pinned(const struct vf_leases *l, const char *key)
{
	if (l->o.n_pinned == 0)
		return true;
	for (size_t i = 0; i < l->o.n_pinned; i++)
		if (strcmp(l->o.pinned[i], key) == 0)
			return true;
	return false;
}

static struct entry *find_entry(struct vf_leases *l, const char *key)
{
	struct entry *e = NULL;

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n_entries && e == NULL; i++)
		if (strcmp(l->entries[i]->key, key) == 0)
			e = l->entries[i];
	pthread_mutex_unlock(&l->mu);
	return e;
}

static struct vf_ddb *new_ddb(struct vf_leases *l)
{
	struct vf_ddb_opts d = {
		.endpoint = l->o.endpoint,
		.region = l->o.region,
		.creds = l->o.creds,
		.timeout_ms = l->timeout_ms,
	};

	return vf_ddb_create(&d);
}

static struct entry *entry_for(struct vf_leases *l, const char *key)
{
	struct entry *e = find_entry(l, key), **arr;

	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->ddb = new_ddb(l);
	if (e->ddb == NULL) {
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->mu, NULL);
	atomic_init(&e->state, E_FREE);
	pthread_mutex_lock(&l->mu);
	arr = realloc(l->entries, (l->n_entries + 1) * sizeof(*arr));
	if (arr == NULL) {
		pthread_mutex_unlock(&l->mu);
		vf_ddb_destroy(e->ddb);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return NULL;
	}
	l->entries = arr;
	l->entries[l->n_entries++] = e;
	pthread_mutex_unlock(&l->mu);
	return e;
}

static struct entry *entry_at(struct vf_leases *l, size_t i)
{
	struct entry *e = NULL;

	pthread_mutex_lock(&l->mu);
	if (i < l->n_entries)
		e = l->entries[i];
	pthread_mutex_unlock(&l->mu);
	return e;
}

/* ---- renewals ---- */

static void renew_all(struct vf_leases *l)
{
	struct entry *e;
	char err[512];

	for (size_t i = 0; !atomic_load(&l->quit) &&
	    (e = entry_at(l, i)) != NULL; i++) {
		uint64_t t;
		enum vf_ddb_status s;

		if (atomic_load(&e->state) != E_HELD)
			continue;
		pthread_mutex_lock(&e->mu);
		if (atomic_load(&e->state) != E_HELD) {
			pthread_mutex_unlock(&e->mu);
			continue;
		}
		t = vf_now_ms();
		s = vf_lease_renew(e->ddb, l->o.table, &e->lease, err, sizeof(err));
		if (s == VF_DDB_OK) {
			atomic_store(&e->renewed_ms, t);
		} else if (s == VF_DDB_CONDITION_FAILED) {
			atomic_store(&e->state, E_LOST);
			log_warnx("%s: lease lost: another worker took it",
				e->key);
		} else {
			uint64_t held;

			if (log_ratelimit(&l->rl_renew, 10000, &held))
				log_warnx("%s: lease not renewed: %s (%llu more "
					"like this held back)", e->key, err,
					(unsigned long long)held);
		}
		pthread_mutex_unlock(&e->mu);
	}
}

/* ---- a round ---- */

static const struct vf_lease *lease_in(const struct vf_lease *arr, size_t n,
	const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(arr[i].key, key) == 0)
			return &arr[i];
	return NULL;
}

static bool listed(const struct vf_shard *s, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].id, key) == 0)
			return true;
	return false;
}

/* Whether a lease names key as a parent: its children are leased already. */
static bool named_parent(const struct vf_lease *arr, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < arr[i].n_parents; k++)
			if (strcmp(arr[i].parents[k], key) == 0)
				return true;
	return false;
}

/*
 * Leases for listed shards that have none. A shard whose parent is read
 * here too starts at its beginning; others where kinesis.start_position
 * says. A shard whose children have leases already but which has none is
 * not given one: the KCL deletes a finished parent's lease once its
 * children are under way, and reading it again would repeat it whole.
 * Created leases are added to *arr, so they can be taken at once. False
 * when a lease could not be made (children wait a round then).
 */
static bool create_missing(struct vf_leases *l, const struct vf_shard *s,
	size_t ns, struct vf_lease **arr, size_t *n, size_t *cap)
{
	char err[512];
	size_t existing = *n;
	bool all = true;

	for (size_t i = 0; i < ns; i++) {
		struct vf_lease nl;
		const char *parents[2] = { s[i].parent, s[i].adjacent_parent };
		bool parent_here = false;
		enum vf_ddb_status st;

		if (!is_pinned(l, s[i].id) || lease_in(*arr, *n, s[i].id) ||
		    named_parent(*arr, existing, s[i].id))
			continue;
		memset(&nl, 0, sizeof(nl));
		snprintf(nl.key, sizeof(nl.key), "%s", s[i].id);
		for (int k = 0; k < 2; k++) {
			if (parents[k][0] == '\0')
				continue;
			snprintf(nl.parents[nl.n_parents++], VF_SHARD_ID_MAX, "%s",
				parents[k]);
			if (listed(s, ns, parents[k]) && is_pinned(l, parents[k]))
				parent_here = true;
		}
		snprintf(nl.checkpoint, sizeof(nl.checkpoint), "%s", parent_here ?
			VF_LEASE_TRIM_HORIZON : l->o.initial);
		st = vf_lease_create(l->ddb, l->o.table, &nl, err, sizeof(err));
		if (st == VF_DDB_CONDITION_FAILED)
			continue;   /* another worker made it: seen next round */
		if (st != VF_DDB_OK) {
			log_warnx("%s: lease not created: %s", nl.key, err);
			all = false;
			continue;
		}
		log_info("%s: lease created (checkpoint %s)", nl.key,
			nl.checkpoint);
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 16;
			struct vf_lease *p = realloc(*arr, c * sizeof(*p));

			if (p == NULL)
				continue;
			*arr = p;
			*cap = c;
		}
		(*arr)[(*n)++] = nl;
	}
	return all;
}

/* When each lease's counter last moved, by this process's clock. */
static bool observe(struct vf_leases *l, const struct vf_lease *arr, size_t n,
	uint64_t now)
{
	struct obs *o = calloc(n ? n : 1, sizeof(*o));

	if (o == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		snprintf(o[i].key, sizeof(o[i].key), "%s", arr[i].key);
		o[i].counter = arr[i].counter;
		o[i].seen_ms = now;
		for (size_t j = 0; j < l->n_obs; j++)
			if (strcmp(l->obs[j].key, arr[i].key) == 0) {
				if (l->obs[j].counter == arr[i].counter)
					o[i].seen_ms = l->obs[j].seen_ms;
				break;
			}
	}
	free(l->obs);
	l->obs = o;
	l->n_obs = n;
	return true;
}

/*
 * A parent is done when its lease says SHARD_END, or when it has no lease
 * (finished and cleaned up by the KCL, not leased on purpose, or not
 * pinned to this process), or when the stream no longer lists it (its
 * records are gone).
 */
static bool parent_done(const struct vf_lease *arr, size_t n,
	const struct vf_shard *s, size_t ns, const char *parent)
{
	const struct vf_lease *p = lease_in(arr, n, parent);

	if (p == NULL || !listed(s, ns, parent))
		return true;
	return strcmp(p->checkpoint, VF_LEASE_SHARD_END) == 0;
}

static void take(struct vf_leases *l, const struct vf_lease *found,
	bool stolen)
{
	struct entry *e = entry_for(l, found->key);
	struct vf_lease nl = *found;
	char err[512], was[VF_WORKER_ID_MAX + 32] = "";
	enum vf_ddb_status s;
	uint64_t t;

	if (e == NULL) {
		log_warnx("%s: lease not taken: out of memory", found->key);
		return;
	}
	if (found->owner[0] != '\0')
		snprintf(was, sizeof(was), " from %s%s", found->owner,
			stolen ? "" : " (expired)");
	pthread_mutex_lock(&e->mu);
	/* held, or lost and its worker not yet done with it (lost before
	   any worker started: nobody will release it, so it is free) */
	if (atomic_load(&e->state) == E_HELD ||
	    (atomic_load(&e->state) == E_LOST && atomic_load(&e->reader))) {
		pthread_mutex_unlock(&e->mu);
		return;
	}
	t = vf_now_ms();
	s = vf_lease_take(e->ddb, l->o.table, &nl, l->worker, err, sizeof(err));
	if (s == VF_DDB_OK) {
		e->lease = nl;
		atomic_store(&e->renewed_ms, t);
		/* the old owner notices at its next renewal: let it stop first */
		atomic_store(&e->read_after_ms, stolen ? t + l->renew_ms + 200 : 0);
		atomic_store(&e->state, E_HELD);
		log_info("%s: lease taken%s (checkpoint %s)", e->key, was,
			nl.checkpoint);
	} else if (s == VF_DDB_CONDITION_FAILED) {
		log_debug("%s: lease not taken: another worker changed it",
			e->key);
	} else {
		uint64_t held;

		if (log_ratelimit(&l->rl_take, 10000, &held))
			log_warnx("%s: lease not taken: %s (%llu more like this "
				"held back)", e->key, err, (unsigned long long)held);
	}
	pthread_mutex_unlock(&e->mu);
}

/*
 * One round; returns when the next is due: at the latest a round from
 * now, sooner when another worker's lease expires before that, so a
 * dead worker's shards are taken failover after its last renewal was
 * seen, not up to a round later.
 */
static uint64_t round_(struct vf_leases *l)
{
	struct vf_lease *arr = NULL;
	size_t n = 0, cap, np;
	struct vf_shard *s = NULL;
	size_t ns = 0;
	struct vf_lease_view *v = NULL;
	size_t *pick = NULL;
	char err[512];
	uint64_t now, next = vf_now_ms() + l->round_ms;
	bool made_all = true;
	enum vf_ddb_status st;

	pthread_mutex_lock(&l->mu);
	if (l->have_shards) {
		s = malloc((l->n_shards ? l->n_shards : 1) * sizeof(*s));
		if (s != NULL) {
			memcpy(s, l->shards, l->n_shards * sizeof(*s));
			ns = l->n_shards;
		}
	}
	pthread_mutex_unlock(&l->mu);
	if (s == NULL)
		return next;   /* the stream has not been listed yet */
	st = vf_lease_table_scan(l->ddb, l->o.table, &arr, &n, err, sizeof(err));
	if (st != VF_DDB_OK) {
		if (!l->scan_failing)
			log_warnx("lease table %s: %s", l->o.table, err);
		l->scan_failing = true;
		free(s);
		return next;
	}
	if (l->scan_failing)
		log_info("lease table %s: reachable again", l->o.table);
	l->scan_failing = false;
	cap = n;
	if (!stopping(l))
		made_all = create_missing(l, s, ns, &arr, &n, &cap);
	now = vf_now_ms();
	if (!observe(l, arr, n, now))
		goto done;
	v = calloc(n ? n : 1, sizeof(*v));
	pick = calloc(n ? n : 1, sizeof(*pick));
	if (v == NULL || pick == NULL || stopping(l))
		goto done;
	for (size_t i = 0; i < n; i++) {
		const struct vf_lease *le = &arr[i];
		struct entry *e = find_entry(l, le->key);
		bool ok = is_pinned(l, le->key) && listed(s, ns, le->key) &&
			strcmp(le->checkpoint, VF_LEASE_SHARD_END) != 0;

		/* another worker made it for a shard new to us: list again,
		   at most once a failover (trimmed shards stay unlisted) */
		if (is_pinned(l, le->key) && !listed(s, ns, le->key) &&
		    strcmp(le->checkpoint, VF_LEASE_SHARD_END) != 0 &&
		    now - l->relist_asked_ms >= l->o.failover_ms) {
			atomic_store(&l->relist, 1);
			l->relist_asked_ms = now;
		}

		/* a parent whose lease could not be made is not done */
		for (unsigned k = 0; ok && k < le->n_parents; k++)
			ok = made_all && parent_done(arr, n, s, ns, le->parents[k]);
		v[i].key = le->key;
		v[i].owner = le->owner;
		v[i].held = e != NULL && atomic_load(&e->state) == E_HELD;
		v[i].active = ok;
		/* ours from a former life (a restart with the same worker_id):
		   back as soon as nobody renews it, without waiting failover */
		v[i].available = le->owner[0] == '\0' ||
			(strcmp(le->owner, l->worker) == 0 &&
			 now - l->obs[i].seen_ms >= 2 * l->renew_ms) ||
			now - l->obs[i].seen_ms >= l->o.failover_ms;
		if (ok && !v[i].held && !v[i].available &&
		    l->obs[i].seen_ms + l->o.failover_ms + 1 < next)
			next = l->obs[i].seen_ms + l->o.failover_ms + 1;
	}
	np = vf_lease_choose(v, n, l->o.n_pinned > 0, pick, n, &l->seed);
	for (size_t k = 0; k < np && !stopping(l); k++) {
		const struct vf_lease *le = &arr[pick[k]];

		take(l, le, !v[pick[k]].available);
	}
done:
	free(v);
	free(pick);
	free(arr);
	free(s);
	return next;
}

/* Renewals have a thread of their own: a slow round never delays them. */
static void *renew_main(void *arg)
{
	struct vf_leases *l = arg;

	while (!atomic_load(&l->quit)) {
		uint64_t next = vf_now_ms() + l->renew_ms, now;

		renew_all(l);
		now = vf_now_ms();
		if (next > now)
			vf_nap(&l->quit, next - now);
	}
	return NULL;
}

static void *take_main(void *arg)
{
	struct vf_leases *l = arg;

	while (!atomic_load(&l->quit) && !stopping(l)) {
		uint64_t next = round_(l), now = vf_now_ms();

		if (next > now)
			vf_nap(&l->quit, next - now);
	}
	return NULL;
}

/* ---- public ---- */

struct vf_leases *vf_leases_create(const struct vf_leases_opts *opts,
	char *err, size_t errlen)
{
	struct vf_leases *l = calloc(1, sizeof(*l));
	unsigned attempt = 0;
	enum vf_ddb_status s;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->o = *opts;
	snprintf(l->worker, sizeof(l->worker), "%s", opts->worker_id);
	l->renew_ms = opts->failover_ms / 3 ? opts->failover_ms / 3 : 1;
	l->round_ms = opts->failover_ms / 2 ? opts->failover_ms / 2 : 1;
	l->timeout_ms = (long)(l->renew_ms < 1000 ? 1000 :
		l->renew_ms > 5000 ? 5000 : l->renew_ms);
	l->seed = (unsigned)vf_now_ms() ^ (unsigned)(uintptr_t)l;
	pthread_mutex_init(&l->mu, NULL);
	atomic_init(&l->quit, 0);
	l->ddb = new_ddb(l);
	if (l->ddb == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while ((s = vf_lease_table_ensure(l->ddb, l->o.table, l->o.stop, err,
	    errlen)) == VF_DDB_RETRY && !stopping(l)) {
		log_warnx("lease table %s: %s; retrying", l->o.table, err);
		vf_nap(l->o.stop, vf_backoff_ms(attempt++, &l->seed));
	}
	if (s != VF_DDB_OK) {
		if (stopping(l))
			snprintf(err, errlen, "stopped before the lease table "
				"was ready");
		goto fail;
	}
	if (pthread_create(&l->renewer, NULL, renew_main, l) != 0) {
		snprintf(err, errlen, "cannot start the lease renewal thread");
		goto fail;
	}
	l->renewer_started = true;
	if (pthread_create(&l->taker, NULL, take_main, l) != 0) {
		snprintf(err, errlen, "cannot start the lease taking thread");
		goto fail;
	}
	l->taker_started = true;
	return l;
fail:
	vf_leases_destroy(l);
	return NULL;
}

void vf_leases_destroy(struct vf_leases *l)
{
	char err[512];

	if (l == NULL)
		return;
	uint64_t deadline = vf_now_ms() + 5000;

	atomic_store(&l->quit, 1);
	if (l->renewer_started)
		pthread_join(l->renewer, NULL);
	if (l->taker_started)
		pthread_join(l->taker, NULL);
	for (size_t i = 0; i < l->n_entries; i++) {
		struct entry *e = l->entries[i];

		/* leases taken but never read: given up, within a few seconds
		   in all (DynamoDB may be what is failing) */
		if (atomic_load(&e->state) == E_HELD && vf_now_ms() < deadline &&
		    vf_lease_evict(e->ddb, l->o.table, &e->lease, err,
		    sizeof(err)) != VF_DDB_OK)
			log_warnx("%s: lease not given up: %s", e->key, err);
		vf_ddb_destroy(e->ddb);
		pthread_mutex_destroy(&e->mu);
		free(e);
	}
	free(l->entries);
	free(l->shards);
	free(l->obs);
	vf_ddb_destroy(l->ddb);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void vf_leases_set_shards(struct vf_leases *l, const struct vf_shard *list,
	size_t n)
{
	struct vf_shard *copy = malloc((n ? n : 1) * sizeof(*copy));

	if (copy == NULL)
		return;   /* the previous list stays */
	memcpy(copy, list, n * sizeof(*copy));
	pthread_mutex_lock(&l->mu);
	free(l->shards);
	l->shards = copy;
	l->n_shards = n;
	l->have_shards = true;
	pthread_mutex_unlock(&l->mu);
}

bool vf_leases_relist_wanted(struct vf_leases *l)
{
	return atomic_exchange(&l->relist, 0) != 0;
}

bool vf_leases_holds(struct vf_leases *l, const char *shard)
{
	struct entry *e = find_entry(l, shard);

	return e != NULL && atomic_load(&e->state) == E_HELD;
}

enum vf_lease_access vf_leases_access(struct vf_leases *l, const char *shard)
{
	struct entry *e = find_entry(l, shard);
	uint64_t now = vf_now_ms();

	if (e == NULL || atomic_load(&e->state) != E_HELD)
		return VF_LEASE_LOST;
	if (now < atomic_load(&e->read_after_ms))
		return VF_LEASE_WAIT;
	/* others may take it failover after the last renewal they saw */
	if (now - atomic_load(&e->renewed_ms) > l->o.failover_ms * 3 / 4)
		return VF_LEASE_WAIT;
	return VF_LEASE_READ;
}

bool vf_leases_position(struct vf_leases *l, const char *shard,
	char seq[VF_SEQ_MAX], bool *at_sequence)
{
	struct entry *e = find_entry(l, shard);

	if (e == NULL)
		return false;
	pthread_mutex_lock(&e->mu);
	atomic_store(&e->reader, true);
	memcpy(seq, e->lease.checkpoint, VF_SEQ_MAX);
	*at_sequence = e->lease.sub_seq > 0 && seq[0] >= '0' && seq[0] <= '9';
	pthread_mutex_unlock(&e->mu);
	return true;
}

enum vf_lease_result vf_leases_checkpoint(struct vf_leases *l,
	const char *shard, const char *seq, char *err, size_t errlen)
{
	struct entry *e = find_entry(l, shard);
	char (*children)[VF_SHARD_ID_MAX] = NULL;
	size_t nc = 0;
	bool end = strcmp(seq, VF_LEASE_SHARD_END) == 0;
	enum vf_ddb_status s;
	enum vf_lease_result r;
	uint64_t t;

	if (e == NULL || atomic_load(&e->state) != E_HELD) {
		snprintf(err, errlen, "the lease is not held here");
		return VF_LEASE_GONE;
	}
	if (end) {
		pthread_mutex_lock(&l->mu);
		children = calloc(l->n_shards ? l->n_shards : 1,
			sizeof(*children));
		for (size_t i = 0; children != NULL && i < l->n_shards; i++)
			if (strcmp(l->shards[i].parent, shard) == 0 ||
			    strcmp(l->shards[i].adjacent_parent, shard) == 0)
				memcpy(children[nc++], l->shards[i].id,
					VF_SHARD_ID_MAX);
		pthread_mutex_unlock(&l->mu);
	}
	pthread_mutex_lock(&e->mu);
	if (atomic_load(&e->state) != E_HELD) {
		pthread_mutex_unlock(&e->mu);
		free(children);
		snprintf(err, errlen, "the lease is not held here");
		return VF_LEASE_GONE;
	}
	t = vf_now_ms();
	s = vf_lease_checkpoint(e->ddb, l->o.table, &e->lease, seq,
		(const char (*)[VF_SHARD_ID_MAX])children, nc, err, errlen);
	if (s == VF_DDB_OK) {
		atomic_store(&e->renewed_ms, t);   /* the counter moved too */
		if (end)
			atomic_store(&e->state, E_FREE);
		r = VF_LEASE_OK;
	} else if (s == VF_DDB_CONDITION_FAILED) {
		atomic_store(&e->state, E_LOST);
		snprintf(err, errlen, "another worker took the lease");
		r = VF_LEASE_GONE;
	} else {
		r = VF_LEASE_FAILED;
	}
	pthread_mutex_unlock(&e->mu);
	free(children);
	return r;
}

void vf_leases_release(struct vf_leases *l, const char *shard)
{
	struct entry *e = find_entry(l, shard);
	char err[512];

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	if (atomic_load(&e->state) == E_HELD) {
		if (vf_lease_evict(e->ddb, l->o.table, &e->lease, err,
		    sizeof(err)) == VF_DDB_OK)
			log_info("%s: lease released", e->key);
		else
			log_warnx("%s: lease not given up (%s); others take it "
				"once it expires", e->key, err);
	}
	atomic_store(&e->state, E_FREE);
	atomic_store(&e->reader, false);
	pthread_mutex_unlock(&e->mu);
}

size_t vf_leases_count(struct vf_leases *l)
{
	size_t n = 0;

	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n_entries; i++)
		if (atomic_load(&l->entries[i]->state) == E_HELD)
			n++;
	pthread_mutex_unlock(&l->mu);
	return n;
}
