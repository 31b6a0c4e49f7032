/*
 * encode.h - output records: KPI updates, escalations and dead letters.
 *
 * Each record type has an Avro schema in schemas/ (compiled in) and a JSON
 * form. Avro output is framed in the Confluent wire format (magic byte 0,
 * 4-byte big-endian schema id, binary datum) so that standard deserializers
 * read it. JSON output is one object per record.
 *
 * Escalations are CloudEvents 1.0 in the Kafka protocol binding. In binary
 * content mode the message value is the event data (an Escalation record in
 * the configured format) and the attributes travel in ce_* headers. In
 * structured content mode the value is the whole event in the JSON event
 * format. The caller sends the headers that encode_escalation fills.
 *
 * The encoder keeps one Avro writer and value per record type and writes into
 * a caller-owned growable buffer: KPI updates and dead letters in Avro
 * allocate nothing once warm. Escalations are rare and may allocate.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_ENCODE_H
#define ADVOCACY_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../daemon/config.h"
#include "alert.h"
#include "kpi.h"

typedef struct encode_buf {
	char *data;
	size_t len;
	size_t cap;
} encode_buf;

void encode_buf_free(encode_buf *b);

/* Grows b to hold at least n bytes, at least doubling. Keeps the contents. Returns 0 or -1. */
int encode_buf_reserve(encode_buf *b, size_t n);

/*
 * Serialises root as compact JSON (reals with 15 significant digits) into out
 * and drops root, whatever the outcome. NULL root (a failed json_pack) is -1.
 * For the encoders of other records (encode_bias.h) too.
 */
int encode_json_dump(json_t *root, encode_buf *out);

/* A dead-lettered input message. */
typedef struct dlq_record {
	const char *reason;         /* stable token, e.g. "invalid_json" */
	const char *detail;         /* human-readable, no input content */
	const char *source_topic;
	int32_t source_partition;
	int64_t source_offset;
	int64_t source_timestamp_ms; /* -1 if unknown */
	const void *payload;        /* original message bytes */
	size_t payload_len;
	const void *key;            /* original key bytes, may be NULL */
	size_t key_len;
	int64_t dead_lettered_at_ms;
} dlq_record;

typedef struct encoder encoder;

encoder *encoder_new(char *errstr, size_t errstr_size);
void encoder_free(encoder *e);

/* Each returns 0 with out->data/len set to the record, or -1 on failure. */
int encode_kpi_update(encoder *e, const config_output *o, const kpi_update *u,
                      encode_buf *out);

/* CloudEvents headers of one escalation. */
#define ENCODE_CE_MAX_HEADERS 12

/* A Kafka header with a NUL-terminated value, laid out like kafka_header. */
typedef struct encode_header {
	const char *name;
	const char *value;
} encode_header;

typedef struct encode_ce_headers {
	encode_header h[ENCODE_CE_MAX_HEADERS];
	size_t n;
	char buf[2048]; /* the formatted values: type, time, dataschema */
} encode_ce_headers;

/*
 * Encodes a as a CloudEvent per cfg->alerts.structured, with the data in
 * cfg->outputs.escalations.format, into out and hdrs. Header values point
 * into hdrs->buf, a and cfg, so send them before any of these changes.
 * Returns 0, or -1 when cfg->alerts.source is empty, a field does not fit
 * its type or memory ran out.
 */
int encode_escalation(encoder *e, const config *cfg, const alert_event *a, encode_buf *out,
                      encode_ce_headers *hdrs);
int encode_dlq(encoder *e, const config_output *o, const dlq_record *d,
               encode_buf *out);

/* Message key of a KPI update: "<kpi>|<scope>|<window>". Returns its length. */
size_t encode_kpi_key(const kpi_update *u, char *out, size_t out_size);

#endif
