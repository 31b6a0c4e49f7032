/*
 * encode.h - output records: KPI updates, escalations and dead letters.
 *
 * Each record type has an Avro schema in schemas/ (compiled in) and a JSON
 * form. Avro output is framed in the Confluent wire format (magic byte 0,
 * 4-byte big-endian schema id, binary datum) so that standard deserializers
 * read it. JSON output is one object per record.
 *
 * The encoder keeps one Avro writer and value per record type and writes into
 * a caller-owned growable buffer: no allocation once warm.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_ENCODE_H
#define ADVOCACY_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "alert.h"
#include "kpi.h"

typedef struct encode_buf {
	char *data;
	size_t len;
	size_t cap;
} encode_buf;

void encode_buf_free(encode_buf *b);

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
int encode_escalation(encoder *e, const config_output *o, const alert_event *a,
                      encode_buf *out);
int encode_dlq(encoder *e, const config_output *o, const dlq_record *d,
               encode_buf *out);

/* Message key of a KPI update: "<kpi>|<scope>|<window>". Returns its length. */
size_t encode_kpi_key(const kpi_update *u, char *out, size_t out_size);

#endif
