/*
 * kafka_mock_cluster TOPIC [PARTITIONS]: librdkafka's mock cluster, three
 * brokers on 127.0.0.1, with TOPIC made (default 4 partitions). Prints
 * {"bootstrap":"127.0.0.1:port,..."} once it listens, then takes commands
 * on stdin, one a line, and answers each with "ok" or "error: ...":
 *
 *	errors APIKEY N ERR       the next N requests of APIKEY (0: Produce)
 *	                          fail with ERR, a number or a name
 *	                          (NOT_LEADER_FOR_PARTITION, _TRANSPORT)
 *	clear APIKEY              forgets errors not yet returned
 *	broker_down ID            ID -1: every broker
 *	broker_up ID
 *	rtt ID MS                 delays the broker's responses
 *	leader PARTITION ID       moves TOPIC's partition to broker ID
 *
 * It exits when stdin closes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define BROKERS 3

/* An error code from its number or its name, with or without RD_KAFKA_RESP_ERR_. */
static bool parse_err(const char *s, rd_kafka_resp_err_t *err)
{
	const struct rd_kafka_err_desc *descs;
	size_t n;
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (*s != '\0' && *end == '\0') {
		*err = (rd_kafka_resp_err_t)v;
		return true;
	}
	if (strncmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
		s += 18;
	rd_kafka_get_err_descs(&descs, &n);
	for (size_t i = 0; i < n; i++)
		if (descs[i].name != NULL && strcmp(descs[i].name, s) == 0) {
			*err = descs[i].code;
			return true;
		}
	return false;
}

static const char *run(rd_kafka_mock_cluster_t *mc, const char *topic,
	char *line)
{
	char cmd[32], arg[64];
	long a, b;
	rd_kafka_resp_err_t err;

	if (sscanf(line, "%31s", cmd) != 1)
		return "error: empty line";
	if (strcmp(cmd, "errors") == 0) {
		rd_kafka_resp_err_t *errs;

		if (sscanf(line, "%*s %ld %ld %63s", &a, &b, arg) != 3 ||
		    b < 1 || b > 100000)
			return "error: errors APIKEY N ERR";
		if (!parse_err(arg, &err))
			return "error: unknown error code";
		errs = malloc((size_t)b * sizeof(*errs));
		if (errs == NULL)
			return "error: out of memory";
		for (long i = 0; i < b; i++)
			errs[i] = err;
		rd_kafka_mock_push_request_errors_array(mc, (int16_t)a,
			(size_t)b, errs);
		free(errs);
		return "ok";
	}
	if (strcmp(cmd, "clear") == 0) {
		if (sscanf(line, "%*s %ld", &a) != 1)
			return "error: clear APIKEY";
		rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
		return "ok";
	}
	if (strcmp(cmd, "broker_down") == 0 || strcmp(cmd, "broker_up") == 0) {
		if (sscanf(line, "%*s %ld", &a) != 1)
			return "error: broker_down|broker_up ID";
		err = strcmp(cmd, "broker_down") == 0 ?
			rd_kafka_mock_broker_set_down(mc, (int32_t)a) :
			rd_kafka_mock_broker_set_up(mc, (int32_t)a);
		return err ? rd_kafka_err2str(err) : "ok";
	}
	if (strcmp(cmd, "rtt") == 0) {
		if (sscanf(line, "%*s %ld %ld", &a, &b) != 2)
			return "error: rtt ID MS";
		err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
		return err ? rd_kafka_err2str(err) : "ok";
	}
	if (strcmp(cmd, "leader") == 0) {
		if (sscanf(line, "%*s %ld %ld", &a, &b) != 2)
			return "error: leader PARTITION ID";
		err = rd_kafka_mock_partition_set_leader(mc, topic,
			(int32_t)a, (int32_t)b);
		return err ? rd_kafka_err2str(err) : "ok";
	}
	return "error: unknown command";
}

int main(int argc, char **argv)
{
	char errstr[512], line[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_resp_err_t err;
	int partitions = argc > 2 ? atoi(argv[2]) : 4;

	if (argc < 2 || argc > 3 || partitions < 1) {
		fprintf(stderr, "usage: kafka_mock_cluster TOPIC [PARTITIONS]\n");
		return 2;
	}
	/* the cluster needs a client instance to hang on; it sends nothing */
	conf = rd_kafka_conf_new();
	/* no notice about the missing bootstrap.servers */
	rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "kafka_mock_cluster: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, BROKERS);
	if (mc == NULL) {
		fprintf(stderr, "kafka_mock_cluster: cannot start the cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	err = rd_kafka_mock_topic_create(mc, argv[1], partitions, BROKERS);
	if (err) {
		fprintf(stderr, "kafka_mock_cluster: topic %s: %s\n", argv[1],
			rd_kafka_err2str(err));
		goto done;
	}
	printf("{\"bootstrap\":\"%s\"}\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		printf("%s\n", run(mc, argv[1], line));
		fflush(stdout);
	}
done:
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return err ? 1 : 0;
}
