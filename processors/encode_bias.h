/*
 * encode_bias.h - bias audit records (processors/bias.h) as Confluent-framed
 * Avro (schemas/bias_record.avsc, compiled in) or as one JSON object with
 * the same field names.
 *
 * This encoder has its own Avro value and writer, apart from encode.c, which
 * encodes the KPI update, escalation and dead letter records. Records
 * go out once per (KPI, dimension) per tick, never per input event. The
 * Avro path allocates nothing once its buffer is warm, apart from what
 * avro-c's generic strings need to grow. The JSON path builds one jansson
 * object per record.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_ENCODE_BIAS_H
#define ADVOCACY_ENCODE_BIAS_H

#include <stddef.h>

#include "../daemon/config.h"
#include "bias.h"
#include "encode.h"

typedef struct encode_bias encode_bias;

/* Creates an encoder. Returns NULL on failure, with the reason in errstr. */
encode_bias *encode_bias_new(char *errstr, size_t errstr_size);
void encode_bias_free(encode_bias *e);

/*
 * Encodes r in the output format of o into out, with the schema id of o in
 * the Avro frame. Returns 0 with out->data and out->len set, or -1 when a
 * field is missing from the schema or out of its range, or memory ran out.
 */
int encode_bias_record(encode_bias *e, const config_output *o, const bias_record *r,
                       encode_buf *out);

/*
 * Writes the message key of r, "<kpi>|<dimension>|<window>", into out.
 * Returns its length, truncated to out_size - 1. out_size must be at least 1.
 */
size_t encode_bias_key(const bias_record *r, char *out, size_t out_size);

#endif
