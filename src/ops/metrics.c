/*
 * The metrics text and the health verdict, from the counters the
 * consumer, outputs, enrichment and leases keep.
 */
#include "vpcflowd/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpcflowd/clock.h"

/* A label value, escaped as the text format wants (\\, \", \n). */
static bool put_label(struct vf_buf *b, const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" :
			*p == '\n' ? "\\n" : NULL;

		if (!(esc ? vf_buf_append(b, esc, 2) : vf_buf_append(b, p, 1)))
			return false;
	}
	return true;
}

static bool head(struct vf_buf *b, const char *name, const char *type,
	const char *help)
{
	return vf_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		type);
}

static bool sample(struct vf_buf *b, const char *name, const char *label,
	const char *value, uint64_t v)
{
	bool ok = vf_buf_printf(b, "%s", name);

	if (label != NULL)
		ok = ok && vf_buf_printf(b, "{%s=\"", label) &&
			put_label(b, value) && vf_buf_append(b, "\"}", 2);
	return ok && vf_buf_printf(b, " %" PRIu64 "\n", v);
}

static bool one(struct vf_buf *b, const char *name, const char *type,
	const char *help, uint64_t v)
{
	return head(b, name, type, help) && sample(b, name, NULL, NULL, v);
}

/* The shard series: one loop per metric, under the totals' mutex. */
static bool shard_series(struct vf_buf *b, struct vf_consumer_totals *t)
{
	static const struct {
		const char *name, *type, *help;
		int which;
	} series[] = {
		{ "vpcflowd_kinesis_records_total", "counter",
		  "Kinesis records read, by shard.", 0 },
		{ "vpcflowd_kinesis_bytes_total", "counter",
		  "Kinesis record data bytes read, by shard.", 1 },
		{ "vpcflowd_kinesis_millis_behind_latest", "gauge",
		  "MillisBehindLatest of the shard's last GetRecords.", 2 },
	};
	bool ok = true;

	pthread_mutex_lock(&t->mu);
	for (size_t k = 0; ok && k < sizeof(series) / sizeof(series[0]); k++) {
		ok = head(b, series[k].name, series[k].type, series[k].help);
		for (size_t i = 0; ok && i < t->n_shards; i++) {
			struct vf_shard_metrics *m = t->shards[i];
			int64_t behind;

			if (series[k].which == 0) {
				ok = sample(b, series[k].name, "shard", m->id,
					atomic_load(&m->records));
			} else if (series[k].which == 1) {
				ok = sample(b, series[k].name, "shard", m->id,
					atomic_load(&m->bytes));
			} else if ((behind = atomic_load(&m->millis_behind)) >= 0 &&
			    atomic_load(&m->reading)) {
				ok = sample(b, series[k].name, "shard", m->id,
					(uint64_t)behind);
			}
		}
	}
	pthread_mutex_unlock(&t->mu);
	return ok;
}

static uint64_t shards_reading(struct vf_consumer_totals *t)
{
	uint64_t n = 0;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n_shards; i++)
		n += atomic_load(&t->shards[i]->reading) ? 1 : 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}

static bool enrich_series(struct vf_buf *b, struct vf_enrich *e)
{
	const struct vf_enrich_counters *c = vf_enrich_counters(e);
	unsigned n = vf_enrich_n_lists(e);
	bool ok = head(b, "vpcflowd_threat_hits_total", "counter",
		"Flows with an address on the threat list, by list.");

	for (unsigned i = 0; ok && i < n; i++)
		ok = sample(b, "vpcflowd_threat_hits_total", "list",
			vf_enrich_list_name(e, i), atomic_load(&c->threat_hits[i]));
	ok = ok && head(b, "vpcflowd_threat_list_entries", "gauge",
		"Addresses and networks in the threat list now, by list.");
	for (unsigned i = 0; ok && i < n; i++)
		ok = sample(b, "vpcflowd_threat_list_entries", "list",
			vf_enrich_list_name(e, i), atomic_load(&c->list_entries[i]));
	ok = ok && head(b, "vpcflowd_threat_list_failures_total", "counter",
		"Threat list loads that failed (the last good list stays), by list.");
	for (unsigned i = 0; ok && i < n; i++)
		ok = sample(b, "vpcflowd_threat_list_failures_total", "list",
			vf_enrich_list_name(e, i), atomic_load(&c->list_failures[i]));
	return ok &&
		one(b, "vpcflowd_entity_refreshes_total", "counter",
			"AWS entity tables loaded and published.",
			atomic_load(&c->entity_refreshes)) &&
		one(b, "vpcflowd_entity_refresh_failures_total", "counter",
			"AWS entity loads (per region) that failed.",
			atomic_load(&c->entity_failures)) &&
		one(b, "vpcflowd_entities", "gauge",
			"Network interfaces in the AWS entity table now.",
			atomic_load(&c->entities)) &&
		one(b, "vpcflowd_enrich_cache_hits_total", "counter",
			"Address lookups answered by a worker's cache.",
			atomic_load(&c->cache_hits)) &&
		one(b, "vpcflowd_enrich_cache_misses_total", "counter",
			"Address lookups that went to the tables.",
			atomic_load(&c->cache_misses));
}

/* ---- process metrics, from /proc/self ---- */

static bool process_series(struct vf_buf *b, uint64_t start_unix_s)
{
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long utime = 0, stime = 0, vsize = 0;
	long rss = 0;
	uint64_t fds = 0;
	char line[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	DIR *d;
	bool ok;

	if (f != NULL) {
		/* after "(comm)": state and 10 more fields, then utime stime */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL)
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
				"%*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %lu %ld",
				&utime, &stime, &vsize, &rss);
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		struct dirent *de;

		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		fds = fds > 0 ? fds - 1 : 0;   /* the directory's own */
	}
	ok = head(b, "process_cpu_seconds_total", "counter",
		"User and system CPU time spent, in seconds.") &&
		vf_buf_printf(b, "process_cpu_seconds_total %.2f\n",
			tick > 0 ? (double)(utime + stime) / (double)tick : 0.0);
	return ok &&
		one(b, "process_resident_memory_bytes", "gauge",
			"Resident memory size in bytes.",
			(uint64_t)(rss > 0 ? rss : 0) * (uint64_t)(page > 0 ? page : 0)) &&
		one(b, "process_virtual_memory_bytes", "gauge",
			"Virtual memory size in bytes.", vsize) &&
		one(b, "process_open_fds", "gauge",
			"Open file descriptors.", fds) &&
		one(b, "process_start_time_seconds", "gauge",
			"Start time of the process since the Unix epoch, in seconds.",
			start_unix_s);
}

bool vf_metrics_render(const struct vf_metrics_sources *s, struct vf_buf *b)
{
	struct vf_consumer_totals *t = s->consumer;
	struct vf_output_counters *o = s->output;
	bool ok;

	ok = shard_series(b, t) &&
		one(b, "vpcflowd_kinesis_throttled_total", "counter",
			"Kinesis calls refused for throughput.",
			atomic_load(&t->throttled)) &&
		head(b, "vpcflowd_flows_total", "counter",
			"Flows sent, by log_status.");
	for (int i = 0; ok && i < VF_STATUS_COUNT; i++)
		ok = sample(b, "vpcflowd_flows_total", "log_status",
			vf_log_status_name(i), atomic_load(&t->flows_by_status[i]));
	ok = ok && head(b, "vpcflowd_parse_errors_total", "counter",
		"Records, events or lines that could not be decoded, by kind.");
	for (int i = 0; ok && i < VF_ERR_COUNT; i++)
		ok = sample(b, "vpcflowd_parse_errors_total", "kind",
			vf_error_kind_name(i), atomic_load(&t->errors[i]));
	ok = ok && head(b, "vpcflowd_output_messages_total", "counter",
			"Messages the output delivered.") &&
		sample(b, "vpcflowd_output_messages_total", "output",
			s->output_name, atomic_load(&o->messages)) &&
		head(b, "vpcflowd_output_errors_total", "counter",
			"Messages the output gave up on (logged).") &&
		sample(b, "vpcflowd_output_errors_total", "output",
			s->output_name, atomic_load(&o->errors)) &&
		head(b, "vpcflowd_output_retries_total", "counter",
			"Reconnects, resent batches and retried requests.") &&
		sample(b, "vpcflowd_output_retries_total", "output",
			s->output_name, atomic_load(&o->retries)) &&
		head(b, "vpcflowd_output_bytes_total", "counter",
			"GELF bytes delivered, before compression.") &&
		sample(b, "vpcflowd_output_bytes_total", "output",
			s->output_name, atomic_load(&o->bytes)) &&
		head(b, "vpcflowd_output_down", "gauge",
			"Outputs (one per shard worker) down now.") &&
		sample(b, "vpcflowd_output_down", "output", s->output_name,
			atomic_load(&o->outputs_down)) &&
		one(b, "vpcflowd_checkpoints_total", "counter",
			"Checkpoints stored.", atomic_load(&t->checkpoints)) &&
		one(b, "vpcflowd_shards_owned", "gauge",
			"Shards this process reads now (with leases: holds).",
			s->leases ? vf_leases_count(s->leases) : shards_reading(t)) &&
		head(b, "vpcflowd_last_flow_timestamp_seconds", "gauge",
			"Event time of the newest flow sent, in Unix seconds.") &&
		vf_buf_printf(b, "vpcflowd_last_flow_timestamp_seconds %.3f\n",
			(double)atomic_load(&t->last_flow_ms) / 1000.0);
	if (ok && s->enrich != NULL)
		ok = enrich_series(b, s->enrich);
	if (ok) {
		char why[256];
		bool healthy = vf_metrics_healthy(s, why, sizeof(why));

		ok = one(b, "vpcflowd_up", "gauge",
			"1 while /healthz answers 200, 0 while it answers 503.",
			healthy ? 1 : 0);
	}
	return ok && process_series(b, s->start_unix_s);
}

bool vf_metrics_healthy(const struct vf_metrics_sources *s, char *why,
	size_t whylen)
{
	struct vf_consumer_totals *t = s->consumer;
	uint64_t now = vf_now_ms(), budget = s->budget_ms;
	int64_t down = atomic_load(&s->output->down_since_ms);
	uint64_t started = atomic_load(&t->started_ms);
	uint64_t newest = 0;
	size_t reading = 0;

	if (down > 0 && now - (uint64_t)down >= budget) {
		snprintf(why, whylen, "the output has been down for %" PRIu64
			" s", (now - (uint64_t)down) / 1000);
		return false;
	}
	if (started > 0 && atomic_load(&t->listed_ms) == 0 &&
	    now - started >= budget) {
		snprintf(why, whylen, "the stream has not been listed since the "
			"start, %" PRIu64 " s ago", (now - started) / 1000);
		return false;
	}
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n_shards; i++) {
		struct vf_shard_metrics *m = t->shards[i];
		uint64_t r = atomic_load(&m->last_read_ms);

		if (!atomic_load(&m->reading))
			continue;
		reading++;
		if (r > newest)
			newest = r;
	}
	pthread_mutex_unlock(&t->mu);
	if (reading > 0 && now - newest >= budget) {
		snprintf(why, whylen, "no shard has been readable for %" PRIu64
			" s", (now - newest) / 1000);
		return false;
	}
	snprintf(why, whylen, "ok");
	return true;
}
