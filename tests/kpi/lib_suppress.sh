# Shared setup of the suppression tests (70-*, 71-*): sourced after tests/lib.sh.
# Starts redis-server and the dev broker, and writes $work/suppress.yaml: one
# recognition_rate KPI over 24h, the default minimum group size of 5, JSON
# outputs, a 1 s tick and the admin server on a free port. Sets work and bin.
lib_start_redis
lib_start_devkafka advocacy.events:1 advocacy.roster:1 advocacy.kpi:1 advocacy.escalations:1 \
	advocacy.dlq:1
work=$LIB_TMP
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/suppress.yaml" <<YAML
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: kpi-suppress
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: suppress}
privacy: {key_file: hmac.key, key_id: test-1}
# Port 0: the two suppression tests run in parallel with each other and with
# other tests, and would collide on the default port 9464.
admin: {port: 0}
behaviours:
  recognition_given: {rules: [{kinds: [recognition], credit: actor}]}
kpis:
  - id: recognition_rate
    behaviours: [recognition_given]
    aggregation: rate
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 1
    target: 1
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
YAML
bin=$(lib_bin advocacyd)
