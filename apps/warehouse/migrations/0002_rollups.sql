-- Per-minute and per-hour rollups fed by materialized views: dashboards never scan raw calls
-- for totals. Only a call's first revision counts as a call (tokens, latency, errors); every
-- revision adds its cost difference, so a recomputed cost replaces the old one exactly.
CREATE TABLE IF NOT EXISTS llm_calls_1m
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, bucket)
TTL bucket + toIntervalDay(35);

CREATE TABLE IF NOT EXISTS llm_calls_1h
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_1m_mv TO llm_calls_1m AS
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
FROM llm_calls
GROUP BY project_id, endpoint, model, provider, environment, bucket;

-- The hour rollup is fed from the minute rollup's inserts (already aggregated, so far fewer
-- rows than the raw calls), not from llm_calls. Output names equal input names, hence the setting.
CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_1h_mv TO llm_calls_1h AS
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
FROM llm_calls_1m
GROUP BY project_id, endpoint, model, provider, environment, toStartOfHour(bucket)
SETTINGS prefer_column_name_to_alias = 1;

CREATE TABLE IF NOT EXISTS llm_feedback
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
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (project_id, event_id, feedback_id);
