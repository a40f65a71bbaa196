-- One row per LLM call (DESIGN.md §3, §4).
-- Cost is stored in integer nano-USD with the id of the price that produced it; NULL = no price
-- known (never $0). A recompute writes a new revision of the row carrying the previous cost, so
-- the rollups can add the difference: ReplacingMergeTree keeps the newest revision.
-- sharding_key: cityHash64(project_id, event_id)
CREATE TABLE IF NOT EXISTS llm_calls
(
    project_id UInt64,
    environment LowCardinality(String),
    endpoint LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    event_id UUID,
    revision UInt32 DEFAULT 0,
    received_at DateTime64(3, 'UTC') DEFAULT now64(3),
    provider LowCardinality(String),
    model LowCardinality(String),
    response_model LowCardinality(String) DEFAULT '',
    input_tokens UInt32 DEFAULT 0,
    output_tokens UInt32 DEFAULT 0,
    cached_input_tokens UInt32 DEFAULT 0,
    cache_write_tokens UInt32 DEFAULT 0,
    cache_write_1h_tokens UInt32 DEFAULT 0,
    reasoning_tokens UInt32 DEFAULT 0,
    input_includes_cached Int8 DEFAULT -1,
    latency_ms UInt32 DEFAULT 0,
    ttft_ms Nullable(UInt32),
    status Enum8('ok' = 1, 'error' = 2, 'timeout' = 3, 'filtered' = 4),
    error_type LowCardinality(String) DEFAULT '',
    cost_nano_usd Nullable(Int64),
    prev_cost_nano_usd Nullable(Int64),
    client_cost_nano_usd Nullable(Int64),
    price_id UInt64 DEFAULT 0,
    cost_breakdown String DEFAULT '' CODEC(ZSTD(1)),
    routing_policy_version UInt32 DEFAULT 0,
    routing_arm LowCardinality(String) DEFAULT '',
    routing_target LowCardinality(String) DEFAULT '',
    routing_reason LowCardinality(String) DEFAULT '',
    conversation_id String DEFAULT '',
    user_id String DEFAULT '',
    tags Array(LowCardinality(String)),
    metadata Map(String, String),
    payload_captured UInt8 DEFAULT 0,
    redactions Array(LowCardinality(String)),
    request String DEFAULT '' CODEC(ZSTD(3)),
    response String DEFAULT '' CODEC(ZSTD(3)),
    retention_days UInt16 DEFAULT 30,
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4,
    INDEX idx_conversation conversation_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(ts)
ORDER BY (project_id, endpoint, ts, event_id)
TTL toDateTime(ts) + toIntervalDay(retention_days)
SETTINGS index_granularity = 8192;
