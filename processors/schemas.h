/*
 * schemas.h - the Avro schemas of the .avsc files in schemas/, compiled into the binary as
 * JSON text (see cmake/embed_schemas.cmake), so that the daemon never depends
 * on files next to it at run time.
 */
#ifndef ADVOCACY_SCHEMAS_H
#define ADVOCACY_SCHEMAS_H

extern const char schema_advocacy_event[];
extern const char schema_kpi_update[];
extern const char schema_escalation[];
extern const char schema_dlq_record[];
extern const char schema_bias_record[];

#endif
