/*
 * KCL-compatible leases in a DynamoDB table, so several processes share a
 * stream's shards: one item per shard, in the Kinesis Client Library's
 * schema (leaseKey, leaseOwner, leaseCounter, checkpoint, ...), every
 * change a conditional update on leaseCounter.
 *
 * Three layers: the table operations (lease_table.c, one DynamoDB call
 * each), the choice of leases to take (lease_policy.c, pure), and the
 * lease manager (leases.c), a thread that renews what it holds, scans the
 * table, creates leases for new shards and takes its fair share.
 */
#ifndef VPCFLOWD_LEASE_H
#define VPCFLOWD_LEASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/checkpoint.h"
#include "vpcflowd/dynamodb.h"
#include "vpcflowd/kinesis.h"

#define VF_WORKER_ID_MAX 256
#define VF_LEASE_MAX_PARENTS 2

/* Checkpoint values that are not sequence numbers (KCL's SentinelCheckpoint). */
#define VF_LEASE_TRIM_HORIZON "TRIM_HORIZON"
#define VF_LEASE_LATEST "LATEST"
#define VF_LEASE_AT_TIMESTAMP "AT_TIMESTAMP"
#define VF_LEASE_SHARD_END VF_CHECKPOINT_SHARD_END

struct vf_lease {
	char key[VF_SHARD_ID_MAX];          /* leaseKey: the shard id */
	char owner[VF_WORKER_ID_MAX];       /* leaseOwner; "" when unowned */
	int64_t counter;                    /* leaseCounter */
	char checkpoint[VF_SEQ_MAX];        /* a sequence number or a sentinel */
	int64_t sub_seq;                    /* checkpointSubSequenceNumber */
	int64_t owner_switches;             /* ownerSwitchesSinceCheckpoint */
	char parents[VF_LEASE_MAX_PARENTS][VF_SHARD_ID_MAX];   /* parentShardId */
	unsigned n_parents;
};

/* ---- the table (lease_table.c) ---- */

/*
 * Creates the table (leaseKey HASH, on-demand billing) unless it exists,
 * and waits until it is ACTIVE (or *stop is set).
 */
enum vf_ddb_status vf_lease_table_ensure(struct vf_ddb *d, const char *table,
	const atomic_int *stop, char *err, size_t errlen);

/*
 * Every lease in the table (all pages, consistent reads). Rows of other
 * entity types (KCL 3.5's entityType other than LEASE) and rows that are
 * not leases are skipped. *out is malloc'ed: free() it.
 */
enum vf_ddb_status vf_lease_table_scan(struct vf_ddb *d, const char *table,
	struct vf_lease **out, size_t *n, char *err, size_t errlen);

/* Puts a new lease unless one with its key exists (VF_DDB_CONDITION_FAILED). */
enum vf_ddb_status vf_lease_create(struct vf_ddb *d, const char *table,
	const struct vf_lease *l, char *err, size_t errlen);

/*
 * The updates below are conditional on l->counter (and, for the holder's
 * own updates, on l->owner); on success l is what the table now holds.
 * VF_DDB_CONDITION_FAILED: somebody else changed the lease.
 */
enum vf_ddb_status vf_lease_take(struct vf_ddb *d, const char *table,
	struct vf_lease *l, const char *owner, char *err, size_t errlen);
enum vf_ddb_status vf_lease_renew(struct vf_ddb *d, const char *table,
	struct vf_lease *l, char *err, size_t errlen);
/*
 * Stores a checkpoint (sub-sequence 0, owner switches reset). With
 * VF_LEASE_SHARD_END, children (may be empty) become childShardIds and the
 * owner is removed: the shard is done.
 */
enum vf_ddb_status vf_lease_checkpoint(struct vf_ddb *d, const char *table,
	struct vf_lease *l, const char *seq, const char (*children)[VF_SHARD_ID_MAX],
	size_t n_children, char *err, size_t errlen);
/* Gives the lease up: leaseOwner removed, so anybody may take it at once. */
enum vf_ddb_status vf_lease_evict(struct vf_ddb *d, const char *table,
	struct vf_lease *l, char *err, size_t errlen);

/* ---- the choice (lease_policy.c) ---- */

/* One lease as a taker sees it after a scan. */
struct vf_lease_view {
	const char *key;
	const char *owner;     /* "" when unowned */
	bool held;             /* held by this worker */
	bool available;        /* unowned, or expired by this worker's clock */
	bool active;           /* neither finished nor waiting for its parents */
};

/*
 * Which leases to take this round: at most max indices into v, written to
 * pick. The worker aims at ceil(active leases / live workers), where live
 * workers are the owners of active leases that are not available, plus
 * itself. Below that it takes available leases (chosen at random);
 * when there are none it steals one lease from the most loaded worker if
 * that worker is above the target (or at it while this one needs more than
 * one). pinned: take every available active lease, never steal.
 */
size_t vf_lease_choose(const struct vf_lease_view *v, size_t n, bool pinned,
	size_t *pick, size_t max, unsigned *seed);

/* ---- the manager (leases.c) ---- */

struct vf_leases_opts {
	const char *table;
	const char *endpoint;          /* NULL: the region's */
	const char *region;
	struct vf_aws_creds_provider *creds;   /* not owned */
	const char *worker_id;
	uint64_t failover_ms;          /* renew every third, scan every half */
	const char *initial;           /* checkpoint of a new lease without parents */
	char *const *pinned;           /* kinesis.shards: only these, never stolen */
	size_t n_pinned;
	atomic_int *stop;              /* the process is stopping: take nothing more */
};

struct vf_leases;

/* Makes sure the table exists and starts the lease thread. */
struct vf_leases *vf_leases_create(const struct vf_leases_opts *opts,
	char *err, size_t errlen);
/* Stops the thread; leases still held are given up. */
void vf_leases_destroy(struct vf_leases *l);

/* The stream's shards, from the last ListShards: leases are made for them. */
void vf_leases_set_shards(struct vf_leases *l, const struct vf_shard *list,
	size_t n);

/*
 * Whether the table has a lease for a shard missing from the last list
 * (another worker saw a reshard first): the caller should list again.
 * Reading it clears it.
 */
bool vf_leases_relist_wanted(struct vf_leases *l);

/* Whether this worker holds the shard's lease. */
bool vf_leases_holds(struct vf_leases *l, const char *shard);

enum vf_lease_access {
	VF_LEASE_READ,         /* go on */
	VF_LEASE_WAIT,         /* not yet: just stolen, or not renewed lately */
	VF_LEASE_LOST,         /* stop reading the shard */
};
enum vf_lease_access vf_leases_access(struct vf_leases *l, const char *shard);

/*
 * Where to start: the lease's checkpoint (a sequence number or a
 * sentinel); *at_sequence when the checkpoint is inside an aggregated
 * record (a sub-sequence number > 0), so that record is read again.
 */
bool vf_leases_position(struct vf_leases *l, const char *shard,
	char seq[VF_SEQ_MAX], bool *at_sequence);

enum vf_lease_result {
	VF_LEASE_OK,
	VF_LEASE_GONE,         /* the lease is not ours any more */
	VF_LEASE_FAILED,       /* DynamoDB failed: try again later */
};
/* Checkpoints seq; VF_LEASE_SHARD_END also ends the lease. */
enum vf_lease_result vf_leases_checkpoint(struct vf_leases *l,
	const char *shard, const char *seq, char *err, size_t errlen);
/* The worker of the shard is done with it: the lease is given up if held. */
void vf_leases_release(struct vf_leases *l, const char *shard);

/* Leases held now (vpcflowd_shards_owned). */
size_t vf_leases_count(struct vf_leases *l);

#endif
