/*
 * produce.c - advocacyd-produce: canonical events from JSON lines to Kafka.
 *
 * A test and scripting aid. Each stdin line is one JSON object:
 *   {"event_id": "e1", "age_s": 300, "source": "canonical", "kind": "recognition",
 *    "actor_id": "E1", "target_ids": ["E2"], "content_id": "c1",
 *    "channel_id": "ch1", "attributes": {"network": "linkedin"}}
 * event_time is now - age_s (or "event_time_ms" as given). With --raw each
 * line is produced as it is (for Slack JSON payloads) and keyed by line number,
 * while canonical events are keyed by event_id. "--key-field NAME" keys a line by
 * its top-level string field NAME instead, where it has one, so that a test
 * can send a replayed event to another partition. The canonical events are
 * Avro-encoded with the project's writer, framed in the Confluent wire
 * format when --schema-id is given. Every message is keyed, so that the dev
 * broker spreads them over partitions.
 *
 * Exits non-zero when a line is invalid or a delivery fails.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "decode_avro.h"

static int produce_failed;

static void produce_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	if (m->err) {
		fprintf(stderr, "advocacyd-produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
		produce_failed = 1;
	}
}

static event_str produce_str(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	if (!json_is_string(v))
		return (event_str){ NULL, 0 };
	return (event_str){ json_string_value(v), json_string_length(v) };
}

static int64_t produce_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills ev from the JSON object; strings borrow from obj. */
static int produce_event_from_json(json_t *obj, event *ev)
{
	json_t *v;
	size_t i;
	const char *k;

	memset(ev, 0, sizeof(*ev));
	ev->event_id = produce_str(obj, "event_id");
	ev->source = produce_str(obj, "source");
	if (!ev->source.len)
		ev->source = (event_str){ "canonical", 9 };
	ev->kind = produce_str(obj, "kind");
	ev->actor_id = produce_str(obj, "actor_id");
	ev->content_id = produce_str(obj, "content_id");
	ev->channel_id = produce_str(obj, "channel_id");
	if ((v = json_object_get(obj, "event_time_ms")) && json_is_integer(v))
		ev->event_time_ms = json_integer_value(v);
	else
		ev->event_time_ms = produce_now_ms() -
			1000 * json_integer_value(json_object_get(obj, "age_s"));
	json_array_foreach(json_object_get(obj, "target_ids"), i, v)
		if (json_is_string(v) && ev->target_count < EVENT_MAX_TARGETS)
			ev->target_ids[ev->target_count++] =
				(event_str){ json_string_value(v), json_string_length(v) };
	json_object_foreach(json_object_get(obj, "attributes"), k, v)
		if (json_is_string(v) && ev->attr_count < EVENT_MAX_ATTRS)
			ev->attrs[ev->attr_count++] = (event_attr){
				{ k, strlen(k) }, { json_string_value(v), json_string_length(v) } };
	return ev->event_id.len ? 0 : -1;
}

static void produce_usage(FILE *out)
{
	fprintf(out, "Usage: advocacyd-produce --brokers HOST:PORT --topic TOPIC [--raw]\n"
	             "                         [--key-field NAME] [--schema-id N] < lines\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' }, { "topic", required_argument, NULL, 't' },
		{ "raw", no_argument, NULL, 'r' }, { "key-field", required_argument, NULL, 'k' },
		{ "schema-id", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *brokers = NULL, *topic = NULL, *key_field = NULL;
	int raw = 0, opt;
	int32_t schema_id = -1;
	char err[512], *line = NULL;
	size_t line_cap = 0;
	long lineno = 0, sent = 0;

	while ((opt = getopt_long(argc, argv, "b:t:rk:s:h", options, NULL)) != -1) {
		switch (opt) {
		case 'b': brokers = optarg; break;
		case 't': topic = optarg; break;
		case 'r': raw = 1; break;
		case 'k': key_field = optarg; break;
		case 's': schema_id = (int32_t)atoi(optarg); break;
		case 'h': produce_usage(stdout); return 0;
		default: produce_usage(stderr); return 2;
		}
	}
	if (!brokers || !topic) {
		produce_usage(stderr);
		return 2;
	}

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(conf, produce_delivery_cb);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "advocacyd-produce: %s\n", err);
		return 1;
	}
	avro_event_writer *writer = avro_event_writer_new();
	static char buf[1 << 20];

	for (ssize_t n; (n = getline(&line, &line_cap, stdin)) > 0;) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		char key[256];
		snprintf(key, sizeof(key), "line-%ld", lineno);
		json_t *obj = json_loads(line, 0, NULL);
		const void *value = line;
		long len = (long)n;
		if (!raw) {
			event ev;
			if (!obj || produce_event_from_json(obj, &ev) < 0 ||
			    (len = avro_event_writer_encode(writer, &ev, schema_id, buf, sizeof(buf))) < 0) {
				fprintf(stderr, "advocacyd-produce: line %ld: invalid event\n", lineno);
				return 1;
			}
			snprintf(key, sizeof(key), "%.*s", (int)ev.event_id.len, ev.event_id.ptr);
			value = buf;
		}
		event_str key_value = obj && key_field ? produce_str(obj, key_field) : (event_str){ 0 };
		if (key_value.len && key_value.len < sizeof(key))
			snprintf(key, sizeof(key), "%.*s", (int)key_value.len, key_value.ptr);
		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
		                         RD_KAFKA_V_VALUE((void *)value, (size_t)len),
		                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                         RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 100);
		sent++;
		json_decref(obj);
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 30000);
	if (rd_kafka_outq_len(rk) > 0)
		produce_failed = 1;
	fprintf(stderr, "advocacyd-produce: %ld messages to %s%s\n", sent, topic,
	        produce_failed ? " (some deliveries failed)" : "");
	free(line);
	avro_event_writer_free(writer);
	rd_kafka_destroy(rk);
	return produce_failed;
}
