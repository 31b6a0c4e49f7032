/*
 * encode_bias.h - bias audit records (processors/bias.h) as Confluent-framed
 * Avro (schemas/bias_record.avsc, compiled in) or as one JSON object with
 * the same field names.
 *
 * Kept apart from encode.c, which owns the KPI update, escalation and dead
 * letter records: this encoder has its own Avro value and writer. Records
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

/* Returns a new encoder, or NULL with errstr saying why. */
encode_bias *encode_bias_new(char *errstr, size_t errstr_size);
void encode_bias_free(encode_bias *e);

/*
 * Writes r in the format of o into out (the schema id of o in the Avro
 * frame). Returns 0 with out->data and out->len set, or -1 when a field does
 * not fit or memory ran out.
 */
int encode_bias_record(encode_bias *e, const config_output *o, const bias_record *r,
                       encode_buf *out);

/* Message key of a record: "<kpi>|<dimension>|<window>". Returns its length. */
size_t encode_bias_key(const bias_record *r, char *out, size_t out_size);

#endif
