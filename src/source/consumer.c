/*
 * The Kinesis consumer. Threads: the caller's (the coordinator) and one
 * worker per shard being read. They share the shard table (under `mu`)
 * and the totals (atomics); each worker owns its Kinesis client, decoder,
 * buffers and its own output (opened from the shared group).
 *
 * At least once: after each batch a worker notes how many messages its
 * output has been given (a ticket) next to the batch's last sequence
 * number. Once the output's acknowledged count reaches the ticket, that
 * sequence number is "taken", and only taken sequence numbers are
 * checkpointed. Reading goes on while earlier batches are in flight; when
 * the output is down, its write blocks and reading stops.
 */
#include "vpcflowd/consumer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/lease.h"
#include "vpcflowd/log.h"
#include "vpcflowd/pipeline.h"

enum shard_state {
	SHARD_WAITING,       /* known, not started (parents still open) */
	SHARD_RUNNING,
	SHARD_FINISHED,      /* read to its end and checkpointed SHARD_END */
	SHARD_STOPPED,       /* its worker returned before the end (with
				leases: waiting again once joined) */
};

struct shard {
	struct vf_shard info;
	enum shard_state state;
	bool child;                   /* a parent of it was read here */
	bool joined;
	pthread_t thread;
	struct consumer *c;
	struct vf_shard_metrics *m;   /* in the totals; NULL: out of memory */
};

struct consumer {
	const struct vf_consumer_opts *o;
	struct vf_consumer_totals *totals;
	struct vf_consumer_totals own_totals;
	pthread_mutex_t mu;           /* shards, n_shards, failed, relist */
	struct shard **shards;
	size_t n_shards;
	bool failed;
	bool relist;
};

/* ---- time ---- */

static bool stopping(const struct consumer *c)
{
	return atomic_load_explicit(c->o->stop, memory_order_relaxed) != 0;
}

static void nap(const struct consumer *c, uint64_t ms)
{
	vf_nap(c->o->stop, ms);
}

static void fail(struct consumer *c, const char *shard, const char *what)
{
	log_errorx("%s: %s", shard, what);
	pthread_mutex_lock(&c->mu);
	c->failed = true;
	pthread_mutex_unlock(&c->mu);
}

static bool any_failure(struct consumer *c)
{
	bool f;

	pthread_mutex_lock(&c->mu);
	f = c->failed;
	pthread_mutex_unlock(&c->mu);
	return f;
}

/* ---- a shard worker ---- */

/* A batch handed to the output, not yet acknowledged. */
struct inflight {
	uint64_t ticket;                 /* the output's written count after it */
	char seq[VF_SEQ_MAX];            /* its last record */
};

/* Drain at shutdown: how long acknowledgements of sent messages are awaited. */
#define DRAIN_TIMEOUT_MS 10000

struct worker {
	struct shard *sh;
	struct consumer *c;
	struct vf_kinesis *k;
	struct vf_output *out;
	struct vf_pipeline pl;
	bool pl_ready;
	struct inflight *inflight;       /* oldest first */
	size_t n_inflight, cap_inflight;
	char iterator[VF_ITERATOR_MAX];
	char read[VF_SEQ_MAX];           /* last sequence handed to the output */
	char taken[VF_SEQ_MAX];          /* last sequence the output acknowledged */
	char checkpointed[VF_SEQ_MAX];   /* last sequence stored */
	char start_seq[VF_SEQ_MAX];      /* where reading started */
	bool start_at;                   /* read start_seq itself again */
	bool lost;                       /* the shard's lease went elsewhere */
	uint64_t last_checkpoint_ms;
	unsigned seed;
};

static bool store_checkpoint(struct worker *w, const char *seq)
{
	struct vf_leases *leases = w->c->o->leases;
	char err[512];

	if (leases != NULL) {
		enum vf_lease_result r;

		if (w->lost)
			return false;
		r = vf_leases_checkpoint(leases, w->sh->info.id, seq, err,
			sizeof(err));
		if (r == VF_LEASE_GONE) {
			log_warnx("%s: checkpoint not written: %s; stopping",
				w->sh->info.id, err);
			w->lost = true;
			return false;
		}
		if (r != VF_LEASE_OK) {
			log_warnx("%s: checkpoint not written: %s",
				w->sh->info.id, err);
			return false;
		}
	} else if (vf_checkpoint_put(w->c->o->store, w->sh->info.id, seq, err,
	    sizeof(err)) != VF_CHECKPOINT_OK) {
		log_warnx("%s: checkpoint not written: %s", w->sh->info.id, err);
		return false;
	}
	snprintf(w->checkpointed, sizeof(w->checkpointed), "%s", seq);
	w->last_checkpoint_ms = vf_now_ms();
	atomic_fetch_add(&w->c->totals->checkpoints, 1);
	return true;
}

/* Moves what the output has acknowledged from inflight to taken. */
static void settle(struct worker *w)
{
	uint64_t acked = vf_output_acked(w->out);
	size_t i = 0;

	while (i < w->n_inflight && w->inflight[i].ticket <= acked)
		i++;
	if (i == 0)
		return;
	memcpy(w->taken, w->inflight[i - 1].seq, sizeof(w->taken));
	memmove(w->inflight, w->inflight + i,
		(w->n_inflight - i) * sizeof(*w->inflight));
	w->n_inflight -= i;
}

static bool add_inflight(struct worker *w, const char *seq)
{
	/* a batch that gave no message: it settles with the one before */
	if (w->n_inflight > 0 &&
	    w->inflight[w->n_inflight - 1].ticket == w->out->written) {
		snprintf(w->inflight[w->n_inflight - 1].seq, VF_SEQ_MAX, "%s", seq);
		return true;
	}
	if (w->n_inflight == w->cap_inflight) {
		size_t cap = w->cap_inflight ? w->cap_inflight * 2 : 16;
		struct inflight *p = realloc(w->inflight, cap * sizeof(*p));

		if (p == NULL)
			return false;
		w->inflight = p;
		w->cap_inflight = cap;
	}
	w->inflight[w->n_inflight].ticket = w->out->written;
	snprintf(w->inflight[w->n_inflight].seq, VF_SEQ_MAX, "%s", seq);
	w->n_inflight++;
	return true;
}

/* Checkpoints what the output has acknowledged, if it is new. */
static void checkpoint_taken(struct worker *w)
{
	settle(w);
	if (w->taken[0] != '\0' && strcmp(w->taken, w->checkpointed) != 0)
		store_checkpoint(w, w->taken);
}

/* Gets an iterator for where reading must go on; false on a fatal error. */
static bool position(struct worker *w)
{
	const struct vf_config_kinesis *kc = &w->c->o->cfg->kinesis;
	enum vf_iterator_type type;
	const char *seq = NULL;
	unsigned attempt = 0;
	char err[512];

	if (w->read[0] != '\0') {
		/* what was read is in the output's hands: go on after it */
		type = VF_ITER_AFTER_SEQUENCE;
		seq = w->read;
	} else if (strcmp(w->start_seq, VF_LEASE_TRIM_HORIZON) == 0) {
		type = VF_ITER_TRIM_HORIZON;   /* the sentinels of a lease */
	} else if (strcmp(w->start_seq, VF_LEASE_LATEST) == 0) {
		type = VF_ITER_LATEST;
	} else if (strcmp(w->start_seq, VF_LEASE_AT_TIMESTAMP) == 0) {
		type = VF_ITER_AT_TIMESTAMP;
	} else if (w->start_seq[0] != '\0') {
		type = w->start_at ? VF_ITER_AT_SEQUENCE : VF_ITER_AFTER_SEQUENCE;
		seq = w->start_seq;
	} else if (w->sh->child) {
		/* a child starts at its beginning: nothing may be skipped */
		type = VF_ITER_TRIM_HORIZON;
	} else if (kc->start_position == VF_CONFIG_START_LATEST) {
		type = VF_ITER_LATEST;
	} else if (kc->start_position == VF_CONFIG_START_AT_TIMESTAMP) {
		type = VF_ITER_AT_TIMESTAMP;
	} else {
		type = VF_ITER_TRIM_HORIZON;
	}
	while (!stopping(w->c)) {
		enum vf_kinesis_status s = vf_kinesis_get_iterator(w->k,
			w->sh->info.id, type, seq, kc->start_timestamp_ms,
			w->iterator, err, sizeof(err));

		if (s == VF_KINESIS_OK)
			return true;
		if (s == VF_KINESIS_ERROR) {
			fail(w->c, w->sh->info.id, err);
			return false;
		}
		if (s == VF_KINESIS_THROTTLED)
			atomic_fetch_add(&w->c->totals->throttled, 1);
		log_warnx("%s: %s; retrying", w->sh->info.id, err);
		nap(w->c, vf_backoff_ms(attempt++, &w->seed));
	}
	return false;
}

/* Decodes one batch; false when the output refused (failed or stopping). */
static bool process(struct worker *w, const struct vf_kinesis_batch *b)
{
	const struct vf_config_kinesis *kc = &w->c->o->cfg->kinesis;
	struct vf_record_meta rm = {
		.stream = { kc->stream, (uint32_t)strlen(kc->stream) },
		.shard = { w->sh->info.id, (uint32_t)strlen(w->sh->info.id) },
	};
	struct vf_stats before = w->pl.stats;
	struct vf_consumer_totals *t = w->c->totals;
	uint64_t last;
	char origin[VF_SHARD_ID_MAX + VF_SEQ_MAX + 8];

	rm.origin = origin;
	for (size_t i = 0; i < b->n; i++) {
		snprintf(origin, sizeof(origin), "%s/%s", w->sh->info.id,
			b->records[i].seq);
		vf_decoder_input_begin(w->pl.dec);
		if (!vf_decoder_record(w->pl.dec, b->records[i].data,
		    b->records[i].len, &rm))
			return false;
	}
	if (!vf_output_flush(w->out))
		return false;
	if (w->pl.enrich != NULL)
		vf_enrich_reader_flush(w->pl.enrich);   /* fresh /metrics */
	if (b->n > 0) {
		snprintf(w->read, sizeof(w->read), "%s", b->records[b->n - 1].seq);
		if (!add_inflight(w, w->read))
			return false;
	}
	settle(w);
	for (int i = 0; i < VF_STATUS_COUNT; i++)
		atomic_fetch_add(&t->flows_by_status[i],
			w->pl.stats.flows_by_status[i] - before.flows_by_status[i]);
	for (int i = 0; i < VF_ERR_COUNT; i++)
		atomic_fetch_add(&t->errors[i],
			w->pl.stats.errors[i] - before.errors[i]);
	last = atomic_load(&t->last_flow_ms);
	while (w->pl.stats.last_flow_ms > last &&
	    !atomic_compare_exchange_weak(&t->last_flow_ms, &last,
	    w->pl.stats.last_flow_ms))
		;
	return true;
}

/*
 * A shard read to its end has children by now: a fresh shard list lets
 * the lease record them (childShardIds). Without it they are left out.
 */
static void learn_children(struct worker *w)
{
	struct vf_shard *list = NULL;
	size_t n = 0;
	char err[512];

	if (vf_kinesis_list_shards(w->k, &list, &n, err, sizeof(err)) ==
	    VF_KINESIS_OK)
		vf_leases_set_shards(w->c->o->leases, list, n);
	else
		log_debug("%s: children not listed: %s", w->sh->info.id, err);
	free(list);
}

static void read_shard(struct worker *w)
{
	const struct vf_config *cfg = w->c->o->cfg;
	unsigned attempt = 0;
	uint64_t last_call = 0;
	char err[512];

	if (!position(w))
		return;
	while (!stopping(w->c) && !any_failure(w->c)) {
		struct vf_kinesis_batch b;
		enum vf_kinesis_status s;
		uint64_t now;

		if (w->c->o->leases != NULL) {
			enum vf_lease_access a = vf_leases_access(w->c->o->leases,
				w->sh->info.id);

			if (a == VF_LEASE_LOST) {
				log_info("%s: lease gone; stopping this shard",
					w->sh->info.id);
				w->lost = true;
				return;
			}
			if (a == VF_LEASE_WAIT) {
				nap(w->c, 100);
				continue;
			}
		}
		now = vf_now_ms();

		/* at most five GetRecords a second per shard */
		if (now - last_call < 200)
			nap(w->c, 200 - (now - last_call));
		last_call = vf_now_ms();
		s = vf_kinesis_get_records(w->k, w->iterator,
			cfg->kinesis.max_records, &b, err, sizeof(err));
		switch (s) {
		case VF_KINESIS_OK:
			break;
		case VF_KINESIS_EXPIRED_ITERATOR:
			log_info("%s: iterator expired; starting again after "
				"the last record taken", w->sh->info.id);
			if (!position(w))
				return;
			continue;
		case VF_KINESIS_THROTTLED:
			atomic_fetch_add(&w->c->totals->throttled, 1);
			/* fall through */
		case VF_KINESIS_RETRY:
		case VF_KINESIS_NOT_FOUND:
			log_warnx("%s: %s; backing off", w->sh->info.id, err);
			nap(w->c, vf_backoff_ms(attempt++, &w->seed));
			continue;
		default:
			fail(w->c, w->sh->info.id, err);
			return;
		}
		attempt = 0;
		if (w->sh->m != NULL) {
			atomic_store(&w->sh->m->millis_behind, b.millis_behind);
			atomic_store(&w->sh->m->last_read_ms, vf_now_ms());
			atomic_fetch_add(&w->sh->m->records, b.n);
			atomic_fetch_add(&w->sh->m->bytes, b.bytes);
		}
		if (!process(w, &b)) {
			if (!stopping(w->c))
				fail(w->c, w->sh->info.id, "the output failed");
			return;
		}
		if (b.shard_end) {
			/* SHARD_END only once everything read is delivered */
			if (!vf_output_wait(w->out, w->out->written, 0, true)) {
				if (!stopping(w->c))
					fail(w->c, w->sh->info.id, "the output failed");
				return;
			}
			checkpoint_taken(w);
			if (w->c->o->leases != NULL)
				learn_children(w);
			/* children wait for this mark: keep trying until it is stored */
			while (!store_checkpoint(w, VF_CHECKPOINT_SHARD_END)) {
				if (stopping(w->c) || w->lost)
					return;
				nap(w->c, vf_backoff_ms(attempt++, &w->seed));
			}
			log_info("%s: read to its end", w->sh->info.id);
			pthread_mutex_lock(&w->c->mu);
			w->sh->state = SHARD_FINISHED;
			w->c->relist = true;
			pthread_mutex_unlock(&w->c->mu);
			return;
		}
		snprintf(w->iterator, sizeof(w->iterator), "%s", b.next_iterator);
		/* the first sequence number is stored as soon as it is taken:
		   a lease still at LATEST or AT_TIMESTAMP would send the next
		   owner to where the stream is then, past what came meanwhile */
		if (vf_now_ms() - w->last_checkpoint_ms >= cfg->checkpoint.interval_ms ||
		    !(w->checkpointed[0] >= '0' && w->checkpointed[0] <= '9'))
			checkpoint_taken(w);
		/* caught up: wait; behind: go on at once */
		if (b.n == 0 || b.millis_behind == 0)
			nap(w->c, cfg->kinesis.poll_interval_ms);
	}
}

static void *worker_main(void *arg)
{
	struct shard *sh = arg;
	struct consumer *c = sh->c;
	const struct vf_config *cfg = c->o->cfg;
	struct worker w = { .sh = sh, .c = c };
	struct vf_kinesis_opts ko = {
		.stream = cfg->kinesis.stream,
		.endpoint = cfg->kinesis.endpoint,
		.region = cfg->aws.region,
		.creds = c->o->creds,
	};
	char err[512];
	enum vf_checkpoint_status cs;
	bool finished;

	w.seed = (unsigned)(vf_now_ms() ^ (uintptr_t)sh);
	if (sh->m != NULL) {
		/* health counts a new reader's silence from its start */
		atomic_store(&sh->m->last_read_ms, vf_now_ms());
		atomic_store(&sh->m->reading, true);
	}
	w.k = vf_kinesis_create(&ko);
	if (w.k == NULL) {
		fail(c, sh->info.id, "out of memory");
		goto done;
	}
	w.out = vf_output_open(c->o->outputs);
	if (w.out == NULL) {
		fail(c, sh->info.id, "cannot open the output");
		goto done;
	}
	if (!vf_pipeline_init(&w.pl, c->o->dopts, cfg->output.source,
	    c->o->enrich, w.out)) {
		fail(c, sh->info.id, "out of memory");
		goto done;
	}
	w.pl_ready = true;
	if (c->o->leases != NULL)
		cs = vf_leases_position(c->o->leases, sh->info.id, w.start_seq,
			&w.start_at) ? VF_CHECKPOINT_OK : VF_CHECKPOINT_NONE;
	else
		cs = vf_checkpoint_get(c->o->store, sh->info.id, w.start_seq,
			err, sizeof(err));
	if (cs == VF_CHECKPOINT_CORRUPT || cs == VF_CHECKPOINT_IO) {
		fail(c, sh->info.id, err);
		goto done;
	}
	if (cs == VF_CHECKPOINT_NONE)
		w.start_seq[0] = '\0';
	if (strcmp(w.start_seq, VF_CHECKPOINT_SHARD_END) == 0) {
		pthread_mutex_lock(&c->mu);
		sh->state = SHARD_FINISHED;
		c->relist = true;
		pthread_mutex_unlock(&c->mu);
		goto done;
	}
	snprintf(w.checkpointed, sizeof(w.checkpointed), "%s", w.start_seq);
	w.last_checkpoint_ms = vf_now_ms();
	if (c->o->leases != NULL)
		log_info("%s: reading from the lease's checkpoint %s",
			sh->info.id, w.start_seq);
	else
		log_info("%s: reading %s", sh->info.id, w.start_seq[0] ?
			"after the checkpoint" : sh->child ?
			"from its start (a child)" : "from kinesis.start_position");
	read_shard(&w);
	pthread_mutex_lock(&c->mu);
	finished = sh->state == SHARD_FINISHED;
	pthread_mutex_unlock(&c->mu);
	/* drain: whatever the output acknowledges in time is checkpointed */
	if (!finished && !w.lost) {
		if (!vf_output_wait(w.out, w.out->written, DRAIN_TIMEOUT_MS,
		    false))
			log_warnx("%s: %llu messages not acknowledged at shutdown; "
				"they will be read again", sh->info.id,
				(unsigned long long)(w.out->written -
				vf_output_acked(w.out)));
		checkpoint_taken(&w);
		pthread_mutex_lock(&c->mu);
		if (sh->state == SHARD_RUNNING)
			sh->state = SHARD_STOPPED;
		pthread_mutex_unlock(&c->mu);
	}
done:
	if (sh->m != NULL)
		atomic_store(&sh->m->reading, false);
	if (c->o->leases != NULL)
		vf_leases_release(c->o->leases, sh->info.id);
	if (w.pl_ready)
		vf_pipeline_finish(&w.pl);
	vf_output_destroy(w.out);
	free(w.inflight);
	vf_kinesis_destroy(w.k);
	pthread_mutex_lock(&c->mu);
	if (sh->state == SHARD_RUNNING)
		sh->state = SHARD_STOPPED;
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- counters ---- */

void vf_consumer_totals_init(struct vf_consumer_totals *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
}

void vf_consumer_totals_finish(struct vf_consumer_totals *t)
{
	for (size_t i = 0; i < t->n_shards; i++)
		free(t->shards[i]);
	free(t->shards);
	pthread_mutex_destroy(&t->mu);
}

struct vf_shard_metrics *vf_consumer_totals_shard(struct vf_consumer_totals *t,
	const char *id)
{
	struct vf_shard_metrics *m = NULL, **arr;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n_shards; i++)
		if (strcmp(t->shards[i]->id, id) == 0) {
			m = t->shards[i];
			goto out;
		}
	m = calloc(1, sizeof(*m));
	arr = m ? realloc(t->shards, (t->n_shards + 1) * sizeof(*arr)) : NULL;
	if (arr == NULL) {
		free(m);
		m = NULL;
		goto out;
	}
	snprintf(m->id, sizeof(m->id), "%s", id);
	atomic_init(&m->millis_behind, -1);
	t->shards = arr;
	t->shards[t->n_shards++] = m;
out:
	pthread_mutex_unlock(&t->mu);
	return m;
}

/* ---- the coordinator ---- */

static bool pinned(const struct vf_config *cfg, const char *id)
{
	if (cfg->kinesis.n_shards == 0)
		return true;
	for (size_t i = 0; i < cfg->kinesis.n_shards; i++)
		if (strcmp(cfg->kinesis.shards[i], id) == 0)
			return true;
	return false;
}

static struct shard *find(struct consumer *c, const char *id)
{
	for (size_t i = 0; i < c->n_shards; i++)
		if (strcmp(c->shards[i]->info.id, id) == 0)
			return c->shards[i];
	return NULL;
}

/*
 * Whether a parent lets its child start: it is finished here, or its
 * checkpoint says SHARD_END, or the stream no longer lists it (expired),
 * or (pinned mode) it is not ours to read.
 */
static bool parent_done(struct consumer *c, const char *parent,
	const struct vf_shard *list, size_t n, bool *was_read)
{
	struct shard *p;
	char seq[VF_SEQ_MAX], err[256];
	bool listed = false;

	*was_read = false;
	if (parent[0] == '\0')
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].id, parent) == 0)
			listed = true;
	if (!listed || !pinned(c->o->cfg, parent))
		return true;
	*was_read = true;
	p = find(c, parent);
	if (p != NULL && p->state == SHARD_FINISHED)
		return true;
	return vf_checkpoint_get(c->o->store, parent, seq, err, sizeof(err)) ==
		VF_CHECKPOINT_OK && strcmp(seq, VF_CHECKPOINT_SHARD_END) == 0;
}

static bool start_worker(struct consumer *c, struct shard *sh)
{
	sh->c = c;
	sh->state = SHARD_RUNNING;
	if (pthread_create(&sh->thread, NULL, worker_main, sh) != 0) {
		sh->state = SHARD_WAITING;
		log_errorx("%s: cannot start a thread", sh->info.id);
		return false;
	}
	return true;
}

/*
 * With leases, a shard is ready when its lease is held here (the lease
 * manager takes children only after their parents ended).
 */
static void start_leased(struct consumer *c)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n_shards; i++) {
		struct shard *sh = c->shards[i];

		if (sh->state == SHARD_WAITING &&
		    vf_leases_holds(c->o->leases, sh->info.id))
			start_worker(c, sh);
	}
	pthread_mutex_unlock(&c->mu);
}

/* Takes a fresh shard list: adds new shards, starts the ready ones. */
static void schedule(struct consumer *c, const struct vf_shard *list, size_t n)
{
	if (c->o->leases != NULL)
		vf_leases_set_shards(c->o->leases, list, n);
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		struct shard *sh;

		if (!pinned(c->o->cfg, list[i].id) || find(c, list[i].id))
			continue;
		sh = calloc(1, sizeof(*sh));
		struct shard **arr = realloc(c->shards,
			(c->n_shards + 1) * sizeof(*arr));
		if (sh == NULL || arr == NULL) {
			free(sh);
			if (arr != NULL)
				c->shards = arr;
			continue;
		}
		c->shards = arr;
		sh->info = list[i];
		sh->state = SHARD_WAITING;
		sh->m = vf_consumer_totals_shard(c->totals, sh->info.id);
		c->shards[c->n_shards++] = sh;
		log_info("%s: found%s%s%s", sh->info.id,
			sh->info.parent[0] ? " (child of " : "", sh->info.parent,
			sh->info.parent[0] ? ")" : "");
	}
	for (size_t i = 0; i < c->n_shards; i++) {
		struct shard *sh = c->shards[i];
		bool r1, r2;

		if (sh->state != SHARD_WAITING || c->o->leases != NULL)
			continue;
		if (!parent_done(c, sh->info.parent, list, n, &r1) ||
		    !parent_done(c, sh->info.adjacent_parent, list, n, &r2))
			continue;
		sh->child = r1 || r2;
		start_worker(c, sh);
	}
	pthread_mutex_unlock(&c->mu);
}

static void join_done(struct consumer *c, bool all)
{
	for (size_t i = 0; i < c->n_shards; i++) {
		struct shard *sh = c->shards[i];
		bool done, started;

		pthread_mutex_lock(&c->mu);
		done = sh->state == SHARD_FINISHED || sh->state == SHARD_STOPPED;
		started = sh->state != SHARD_WAITING;
		pthread_mutex_unlock(&c->mu);
		if (sh->joined || !started || (!done && !all))
			continue;
		pthread_join(sh->thread, NULL);
		sh->joined = true;
		/* with leases, a shard given up may be taken again later */
		pthread_mutex_lock(&c->mu);
		if (c->o->leases != NULL && sh->state == SHARD_STOPPED && !all) {
			sh->state = SHARD_WAITING;
			sh->joined = false;
		}
		pthread_mutex_unlock(&c->mu);
	}
}

int vf_consumer_run(const struct vf_consumer_opts *opts,
	struct vf_consumer_totals *totals)
{
	struct consumer c;
	struct vf_kinesis_opts ko = {
		.stream = opts->cfg->kinesis.stream,
		.endpoint = opts->cfg->kinesis.endpoint,
		.region = opts->cfg->aws.region,
		.creds = opts->creds,
	};
	struct vf_kinesis *k;
	uint64_t interval = opts->discover_interval_ms ?
		opts->discover_interval_ms : 30000, next_list = 0;
	unsigned attempt = 0, seed = (unsigned)vf_now_ms();
	bool listed_once = false;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.o = opts;
	if (totals == NULL)
		vf_consumer_totals_init(&c.own_totals);
	c.totals = totals ? totals : &c.own_totals;
	atomic_store(&c.totals->started_ms, vf_now_ms());
	pthread_mutex_init(&c.mu, NULL);
	k = vf_kinesis_create(&ko);
	if (k == NULL) {
		log_errorx("out of memory");
		return 1;
	}
	while (!stopping(&c) && !any_failure(&c)) {
		bool relist;

		pthread_mutex_lock(&c.mu);
		relist = c.relist;
		c.relist = false;
		pthread_mutex_unlock(&c.mu);
		if (opts->leases != NULL && vf_leases_relist_wanted(opts->leases))
			relist = true;
		if (relist || vf_now_ms() >= next_list) {
			struct vf_shard *list = NULL;
			size_t n = 0;
			char err[512];
			enum vf_kinesis_status s = vf_kinesis_list_shards(k, &list,
				&n, err, sizeof(err));

			if (s == VF_KINESIS_OK) {
				attempt = 0;
				listed_once = true;
				atomic_store(&c.totals->listed_ms, vf_now_ms());
				schedule(&c, list, n);
				next_list = vf_now_ms() + interval;
			} else if (s == VF_KINESIS_ERROR ||
				   (s == VF_KINESIS_NOT_FOUND && !listed_once)) {
				log_errorx("stream %s: %s", opts->cfg->kinesis.stream,
					err);
				rc = 1;
				free(list);
				break;
			} else {
				if (s == VF_KINESIS_THROTTLED)
					atomic_fetch_add(&c.totals->throttled, 1);
				log_warnx("ListShards: %s; retrying", err);
				next_list = vf_now_ms() + vf_backoff_ms(attempt++, &seed);
			}
			free(list);
		}
		join_done(&c, false);
		if (opts->leases != NULL && !stopping(&c))
			start_leased(&c);
		nap(&c, 100);
	}
	atomic_store(opts->stop, 1);   /* workers drain and checkpoint */
	join_done(&c, true);
	if (any_failure(&c))
		rc = 1;
	for (size_t i = 0; i < c.n_shards; i++)
		free(c.shards[i]);
	free(c.shards);
	vf_kinesis_destroy(k);
	pthread_mutex_destroy(&c.mu);
	if (totals == NULL)
		vf_consumer_totals_finish(&c.own_totals);
	return rc;
}
