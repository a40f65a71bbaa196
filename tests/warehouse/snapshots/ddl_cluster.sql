CREATE TABLE IF NOT EXISTS switchyard_migrations ON CLUSTER 'switchyard_cluster' (name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/switchyard/switchyard_migrations', '{replica}') ORDER BY name;

-- 0001_llm_calls

CREATE TABLE IF NOT EXISTS llm_calls_local ON CLUSTER 'switchyard_cluster'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_calls_local', '{replica}', revision)
PARTITION BY toYYYYMM(ts)
ORDER BY (project_id, endpoint, ts, event_id)
TTL toDateTime(ts) + toIntervalDay(retention_days)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS llm_calls ON CLUSTER 'switchyard_cluster' AS llm_calls_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_calls_local', cityHash64(project_id, event_id));

-- 0002_rollups

CREATE TABLE IF NOT EXISTS llm_calls_1m_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    endpoint LowCardinality(String),
    model LowCardinality(String),
    provider LowCardinality(String),
    environment LowCardinality(String),
    bucket DateTime('UTC'),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    sum_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_output_tokens SimpleAggregateFunction(sum, Int64),
    sum_cached_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_reasoning_tokens SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    unpriced_calls SimpleAggregateFunction(sum, Int64),
    routed_calls SimpleAggregateFunction(sum, Int64),
    latency_ms_sum SimpleAggregateFunction(sum, Int64),
    latency_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), UInt32)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_calls_1m_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, bucket)
TTL bucket + toIntervalDay(35);

CREATE TABLE IF NOT EXISTS llm_calls_1m ON CLUSTER 'switchyard_cluster' AS llm_calls_1m_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_calls_1m_local', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS llm_calls_1h_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    endpoint LowCardinality(String),
    model LowCardinality(String),
    provider LowCardinality(String),
    environment LowCardinality(String),
    bucket DateTime('UTC'),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    sum_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_output_tokens SimpleAggregateFunction(sum, Int64),
    sum_cached_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_reasoning_tokens SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    unpriced_calls SimpleAggregateFunction(sum, Int64),
    routed_calls SimpleAggregateFunction(sum, Int64),
    latency_ms_sum SimpleAggregateFunction(sum, Int64),
    latency_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), UInt32)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_calls_1h_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, bucket);

CREATE TABLE IF NOT EXISTS llm_calls_1h ON CLUSTER 'switchyard_cluster' AS llm_calls_1h_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_calls_1h_local', cityHash64(project_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_1m_mv ON CLUSTER 'switchyard_cluster' TO llm_calls_1m_local
AS
SELECT
    project_id, endpoint, model, provider, environment,
    toStartOfMinute(ts) AS bucket,
    toInt64(sum(revision = 0)) AS calls,
    toInt64(sum(revision = 0 AND status != 'ok')) AS errors,
    toInt64(sumIf(input_tokens, revision = 0)) AS sum_input_tokens,
    toInt64(sumIf(output_tokens, revision = 0)) AS sum_output_tokens,
    toInt64(sumIf(cached_input_tokens, revision = 0)) AS sum_cached_input_tokens,
    toInt64(sumIf(reasoning_tokens, revision = 0)) AS sum_reasoning_tokens,
    toInt64(sum(ifNull(cost_nano_usd, 0) - ifNull(prev_cost_nano_usd, 0))) AS sum_cost_nano_usd,
    toInt64(sum((revision = 0 AND cost_nano_usd IS NULL)
        + (revision > 0 AND cost_nano_usd IS NULL AND prev_cost_nano_usd IS NOT NULL)
        - (revision > 0 AND cost_nano_usd IS NOT NULL AND prev_cost_nano_usd IS NULL))) AS unpriced_calls,
    toInt64(sum(revision = 0 AND routing_arm IN ('candidate', 'fallback'))) AS routed_calls,
    toInt64(sumIf(latency_ms, revision = 0)) AS latency_ms_sum,
    quantilesTDigestStateIf(0.5, 0.95, 0.99)(latency_ms, revision = 0) AS latency_quantiles
FROM llm_calls_local
GROUP BY project_id, endpoint, model, provider, environment, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_1h_mv ON CLUSTER 'switchyard_cluster' TO llm_calls_1h_local
AS
SELECT
    project_id, endpoint, model, provider, environment,
    toStartOfHour(bucket) AS bucket,
    sum(calls) AS calls,
    sum(errors) AS errors,
    sum(sum_input_tokens) AS sum_input_tokens,
    sum(sum_output_tokens) AS sum_output_tokens,
    sum(sum_cached_input_tokens) AS sum_cached_input_tokens,
    sum(sum_reasoning_tokens) AS sum_reasoning_tokens,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    sum(unpriced_calls) AS unpriced_calls,
    sum(routed_calls) AS routed_calls,
    sum(latency_ms_sum) AS latency_ms_sum,
    quantilesTDigestMergeState(0.5, 0.95, 0.99)(latency_quantiles) AS latency_quantiles
FROM llm_calls_1m_local
GROUP BY project_id, endpoint, model, provider, environment, toStartOfHour(bucket)
SETTINGS prefer_column_name_to_alias = 1;

CREATE TABLE IF NOT EXISTS llm_feedback_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    event_id UUID,
    feedback_id UUID,
    ts DateTime64(3, 'UTC'),
    kind LowCardinality(String),
    score Float64,
    comment String DEFAULT '' CODEC(ZSTD(3)),
    received_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_feedback_local', '{replica}', received_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (project_id, event_id, feedback_id);

CREATE TABLE IF NOT EXISTS llm_feedback ON CLUSTER 'switchyard_cluster' AS llm_feedback_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_feedback_local', cityHash64(project_id));

-- 0003_replay_results

CREATE TABLE IF NOT EXISTS replay_results_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    job_id UInt64,
    sample_id UUID,
    candidate LowCardinality(String),
    endpoint LowCardinality(String),
    seq UInt32,
    stratum UInt16 DEFAULT 0,
    call_ts DateTime64(3, 'UTC'),
    simulated UInt8 DEFAULT 0,
    prompt_text String DEFAULT '' CODEC(ZSTD(3)),
    baseline_output String DEFAULT '' CODEC(ZSTD(3)),
    baseline_cost_nano Int64 DEFAULT 0,
    baseline_latency_ms UInt32 DEFAULT 0,
    output String DEFAULT '' CODEC(ZSTD(3)),
    ok UInt8,
    error String DEFAULT '',
    failed_checks Array(LowCardinality(String)),
    input_tokens UInt32 DEFAULT 0,
    output_tokens UInt32 DEFAULT 0,
    cost_nano Nullable(Int64),
    eval_cost_nano Int64 DEFAULT 0,
    charged_nano Int64 DEFAULT 0,
    latency_ms UInt32 DEFAULT 0,
    attempts UInt8 DEFAULT 1,
    evaluator LowCardinality(String),
    quality Nullable(Float64),
    verdicts String DEFAULT '' CODEC(ZSTD(3)),
    created_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/switchyard/replay_results_local', '{replica}', created_at)
ORDER BY (project_id, job_id, sample_id, candidate)
TTL toDateTime(created_at) + toIntervalDay(400);

CREATE TABLE IF NOT EXISTS replay_results ON CLUSTER 'switchyard_cluster' AS replay_results_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'replay_results_local', cityHash64(project_id, job_id));

-- 0004_replay_conversation

ALTER TABLE replay_results_local ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS conversation_id String DEFAULT '' AFTER call_ts;

ALTER TABLE replay_results ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS conversation_id String DEFAULT '' AFTER call_ts;

-- 0005_spend_rollups

ALTER TABLE llm_calls_local ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS customer_id String DEFAULT '' AFTER user_id;

ALTER TABLE llm_calls ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS customer_id String DEFAULT '' AFTER user_id;

CREATE TABLE IF NOT EXISTS llm_spend_keys_1d_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    key String,
    endpoint LowCardinality(String),
    day Date,
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    sum_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_output_tokens SimpleAggregateFunction(sum, Int64),
    first_ts SimpleAggregateFunction(min, DateTime('UTC')),
    last_ts SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_keys_1d_local', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, key, endpoint, day)
TTL day + toIntervalDay(400);

CREATE TABLE IF NOT EXISTS llm_spend_keys_1d ON CLUSTER 'switchyard_cluster' AS llm_spend_keys_1d_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_keys_1d_local', cityHash64(project_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_keys_1d_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_keys_1d_local
AS
SELECT
    project_id, kind, key, endpoint,
    toDate(ts) AS day,
    toInt64(sum(revision = 0)) AS calls,
    toInt64(sum(revision = 0 AND status != 'ok')) AS errors,
    toInt64(sum(ifNull(cost_nano_usd, 0) - ifNull(prev_cost_nano_usd, 0))) AS sum_cost_nano_usd,
    toInt64(sumIf(input_tokens, revision = 0)) AS sum_input_tokens,
    toInt64(sumIf(output_tokens, revision = 0)) AS sum_output_tokens,
    min(toDateTime(ts, 'UTC')) AS first_ts,
    max(toDateTime(ts, 'UTC')) AS last_ts
FROM llm_calls_local
ARRAY JOIN
    ['user', 'customer', 'conversation'] AS kind,
    [user_id, customer_id, if(conversation_id != '', conversation_id, metadata['otel.trace_id'])] AS key
WHERE key != ''
GROUP BY project_id, kind, key, endpoint, day;

CREATE TABLE IF NOT EXISTS llm_spend_customers_1h_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    customer String,
    bucket DateTime('UTC'),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    sum_tokens SimpleAggregateFunction(sum, Int64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_customers_1h_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, customer, bucket)
TTL bucket + toIntervalDay(40);

CREATE TABLE IF NOT EXISTS llm_spend_customers_1h ON CLUSTER 'switchyard_cluster' AS llm_spend_customers_1h_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_customers_1h_local', cityHash64(project_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_customers_1h_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_customers_1h_local
AS
SELECT
    project_id,
    customer_id AS customer,
    toStartOfHour(ts) AS bucket,
    toInt64(sum(revision = 0)) AS calls,
    toInt64(sum(revision = 0 AND status != 'ok')) AS errors,
    toInt64(sum(ifNull(cost_nano_usd, 0) - ifNull(prev_cost_nano_usd, 0))) AS sum_cost_nano_usd,
    toInt64(sumIf(input_tokens + output_tokens, revision = 0)) AS sum_tokens
FROM llm_calls_local
WHERE customer_id != ''
GROUP BY project_id, customer, bucket;

-- 0006_service_tier

ALTER TABLE llm_calls_local ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS output_includes_reasoning Int8 DEFAULT -1 AFTER input_includes_cached,
    ADD COLUMN IF NOT EXISTS service_tier LowCardinality(String) DEFAULT 'standard' AFTER output_includes_reasoning;

ALTER TABLE llm_calls ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS output_includes_reasoning Int8 DEFAULT -1 AFTER input_includes_cached,
    ADD COLUMN IF NOT EXISTS service_tier LowCardinality(String) DEFAULT 'standard' AFTER output_includes_reasoning;

CREATE TABLE IF NOT EXISTS llm_calls_tier_1m_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    endpoint LowCardinality(String),
    model LowCardinality(String),
    provider LowCardinality(String),
    environment LowCardinality(String),
    service_tier LowCardinality(String),
    bucket DateTime('UTC'),
    calls SimpleAggregateFunction(sum, Int64),
    sum_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_output_tokens SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    unpriced_calls SimpleAggregateFunction(sum, Int64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_calls_tier_1m_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, service_tier, bucket)
TTL bucket + toIntervalDay(35);

CREATE TABLE IF NOT EXISTS llm_calls_tier_1m ON CLUSTER 'switchyard_cluster' AS llm_calls_tier_1m_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_calls_tier_1m_local', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS llm_calls_tier_1h_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    endpoint LowCardinality(String),
    model LowCardinality(String),
    provider LowCardinality(String),
    environment LowCardinality(String),
    service_tier LowCardinality(String),
    bucket DateTime('UTC'),
    calls SimpleAggregateFunction(sum, Int64),
    sum_input_tokens SimpleAggregateFunction(sum, Int64),
    sum_output_tokens SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    unpriced_calls SimpleAggregateFunction(sum, Int64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_calls_tier_1h_local', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, service_tier, bucket);

CREATE TABLE IF NOT EXISTS llm_calls_tier_1h ON CLUSTER 'switchyard_cluster' AS llm_calls_tier_1h_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_calls_tier_1h_local', cityHash64(project_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_tier_1m_mv ON CLUSTER 'switchyard_cluster' TO llm_calls_tier_1m_local
AS
SELECT
    project_id, endpoint, model, provider, environment, service_tier,
    toStartOfMinute(ts) AS bucket,
    toInt64(sum(revision = 0)) AS calls,
    toInt64(sumIf(input_tokens, revision = 0)) AS sum_input_tokens,
    toInt64(sumIf(output_tokens, revision = 0)) AS sum_output_tokens,
    toInt64(sum(ifNull(cost_nano_usd, 0) - ifNull(prev_cost_nano_usd, 0))) AS sum_cost_nano_usd,
    toInt64(sum((revision = 0 AND cost_nano_usd IS NULL)
        + (revision > 0 AND cost_nano_usd IS NULL AND prev_cost_nano_usd IS NOT NULL)
        - (revision > 0 AND cost_nano_usd IS NOT NULL AND prev_cost_nano_usd IS NULL))) AS unpriced_calls
FROM llm_calls_local
WHERE service_tier != 'standard'
GROUP BY project_id, endpoint, model, provider, environment, service_tier, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_tier_1h_mv ON CLUSTER 'switchyard_cluster' TO llm_calls_tier_1h_local
AS
SELECT
    project_id, endpoint, model, provider, environment, service_tier,
    toStartOfHour(bucket) AS bucket,
    sum(calls) AS calls,
    sum(sum_input_tokens) AS sum_input_tokens,
    sum(sum_output_tokens) AS sum_output_tokens,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    sum(unpriced_calls) AS unpriced_calls
FROM llm_calls_tier_1m_local
GROUP BY project_id, endpoint, model, provider, environment, service_tier, toStartOfHour(bucket)
SETTINGS prefer_column_name_to_alias = 1;

-- 0007_call_shape

ALTER TABLE llm_calls_local ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS max_tokens UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS streamed Int8 DEFAULT -1,
    ADD COLUMN IF NOT EXISTS finish_reason LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS prompt_bytes UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS prefix_points Array(UInt64) CODEC(ZSTD(1));

ALTER TABLE llm_calls ON CLUSTER 'switchyard_cluster' ADD COLUMN IF NOT EXISTS max_tokens UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS streamed Int8 DEFAULT -1,
    ADD COLUMN IF NOT EXISTS finish_reason LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS prompt_bytes UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS prefix_points Array(UInt64) CODEC(ZSTD(1));

-- 0008_spend_key_days

CREATE TABLE IF NOT EXISTS llm_spend_key_days_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    day Date,
    key_hash UInt64,
    calls SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    endpoint_lo SimpleAggregateFunction(min, UInt64),
    endpoint_hi SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_key_days_local', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, day, key_hash)
TTL day + toIntervalDay(400);

CREATE TABLE IF NOT EXISTS llm_spend_key_days ON CLUSTER 'switchyard_cluster' AS llm_spend_key_days_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_key_days_local', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS llm_spend_key_weeks_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    week Date,
    key_hash UInt64,
    calls SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    endpoint_lo SimpleAggregateFunction(min, UInt64),
    endpoint_hi SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_key_weeks_local', '{replica}')
PARTITION BY toYYYYMM(week)
ORDER BY (project_id, kind, week, key_hash)
TTL week + toIntervalDay(400);

CREATE TABLE IF NOT EXISTS llm_spend_key_weeks ON CLUSTER 'switchyard_cluster' AS llm_spend_key_weeks_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_key_weeks_local', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS llm_spend_key_names_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    key_hash UInt64,
    key SimpleAggregateFunction(any, String),
    last_day SimpleAggregateFunction(max, Date)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_key_names_local', '{replica}')
ORDER BY (project_id, kind, key_hash)
TTL last_day + toIntervalDay(400)
SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS llm_spend_key_names ON CLUSTER 'switchyard_cluster' AS llm_spend_key_names_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_key_names_local', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS llm_spend_key_endpoint_days_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    key String,
    day Date,
    endpoint LowCardinality(String),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    sum_tokens SimpleAggregateFunction(sum, Int64),
    first_ts SimpleAggregateFunction(min, DateTime('UTC')),
    last_ts SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_key_endpoint_days_local', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, key, day, endpoint)
TTL day + toIntervalDay(400)
SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS llm_spend_key_endpoint_days ON CLUSTER 'switchyard_cluster' AS llm_spend_key_endpoint_days_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_key_endpoint_days_local', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS llm_spend_kind_days_local ON CLUSTER 'switchyard_cluster'
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    day Date,
    calls SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    keys AggregateFunction(uniqCombined(14), UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_spend_kind_days_local', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, day)
TTL day + toIntervalDay(400)
SETTINGS index_granularity = 64;

CREATE TABLE IF NOT EXISTS llm_spend_kind_days ON CLUSTER 'switchyard_cluster' AS llm_spend_kind_days_local
ENGINE = Distributed('switchyard_cluster', 'switchyard', 'llm_spend_kind_days_local', cityHash64(project_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_days_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_key_days_local
AS
SELECT
    project_id, kind, day,
    cityHash64(key) AS key_hash,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    min(cityHash64(endpoint)) AS endpoint_lo,
    max(cityHash64(endpoint)) AS endpoint_hi
FROM llm_spend_keys_1d_local
GROUP BY project_id, kind, day, key
SETTINGS prefer_column_name_to_alias = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_weeks_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_key_weeks_local
AS
SELECT
    project_id, kind,
    toMonday(day) AS week,
    cityHash64(key) AS key_hash,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    min(cityHash64(endpoint)) AS endpoint_lo,
    max(cityHash64(endpoint)) AS endpoint_hi
FROM llm_spend_keys_1d_local
GROUP BY project_id, kind, week, key
SETTINGS prefer_column_name_to_alias = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_names_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_key_names_local
AS
SELECT project_id, kind, cityHash64(key) AS key_hash, key, max(day) AS last_day
FROM llm_spend_keys_1d_local
GROUP BY project_id, kind, key;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_endpoint_days_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_key_endpoint_days_local
AS
SELECT
    project_id, kind, key, day, endpoint, calls, errors, sum_cost_nano_usd,
    sum_input_tokens + sum_output_tokens AS sum_tokens, first_ts, last_ts
FROM llm_spend_keys_1d_local;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_kind_days_mv ON CLUSTER 'switchyard_cluster' TO llm_spend_kind_days_local
AS
SELECT
    project_id, kind, day,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    uniqCombinedState(14)(cityHash64(key)) AS keys
FROM llm_spend_keys_1d_local
GROUP BY project_id, kind, day
SETTINGS prefer_column_name_to_alias = 1;

INSERT INTO llm_spend_key_days
SELECT
    project_id, kind, day, cityHash64(key),
    sum(calls), sum(sum_cost_nano_usd), min(cityHash64(endpoint)), max(cityHash64(endpoint))
FROM llm_spend_keys_1d
GROUP BY project_id, kind, day, key
UNION ALL
SELECT project_id, kind, day, key_hash, -sum(calls), -sum(sum_cost_nano_usd), min(endpoint_lo), max(endpoint_hi)
FROM llm_spend_key_days
GROUP BY project_id, kind, day, key_hash;

INSERT INTO llm_spend_key_weeks
SELECT
    project_id, kind, toMonday(day) AS week, cityHash64(key),
    sum(calls), sum(sum_cost_nano_usd), min(cityHash64(endpoint)), max(cityHash64(endpoint))
FROM llm_spend_keys_1d
GROUP BY project_id, kind, week, key
UNION ALL
SELECT project_id, kind, week, key_hash, -sum(calls), -sum(sum_cost_nano_usd), min(endpoint_lo), max(endpoint_hi)
FROM llm_spend_key_weeks
GROUP BY project_id, kind, week, key_hash;

INSERT INTO llm_spend_key_endpoint_days
SELECT
    project_id, kind, key, day, endpoint, sum(calls), sum(errors), sum(sum_cost_nano_usd),
    sum(sum_input_tokens + sum_output_tokens), min(first_ts), max(last_ts)
FROM llm_spend_keys_1d
GROUP BY project_id, kind, key, day, endpoint
UNION ALL
SELECT
    project_id, kind, key, day, endpoint, -sum(calls), -sum(errors), -sum(sum_cost_nano_usd), -sum(sum_tokens),
    min(first_ts), max(last_ts)
FROM llm_spend_key_endpoint_days
GROUP BY project_id, kind, key, day, endpoint;

INSERT INTO llm_spend_key_names
SELECT project_id, kind, cityHash64(key), key, max(day)
FROM llm_spend_keys_1d
GROUP BY project_id, kind, key;

INSERT INTO llm_spend_kind_days
SELECT project_id, kind, day, sum(calls), sum(sum_cost_nano_usd), uniqCombinedState(14)(cityHash64(key))
FROM llm_spend_keys_1d
GROUP BY project_id, kind, day
UNION ALL
SELECT project_id, kind, day, -sum(calls), -sum(sum_cost_nano_usd), uniqCombinedMergeState(14)(keys)
FROM llm_spend_kind_days
GROUP BY project_id, kind, day;
