-- Service tiers (issue 16): each call carries the tier it was served at (standard, batch, flex,
-- priority) and is priced at that tier's price; `output_includes_reasoning` keeps the event's own
-- flag (-1 = the model's provider's rule), as `input_includes_cached` does, so a recompute reads
-- the usage exactly as ingest did.
ALTER TABLE llm_calls
    ADD COLUMN IF NOT EXISTS output_includes_reasoning Int8 DEFAULT -1 AFTER input_includes_cached,
    ADD COLUMN IF NOT EXISTS service_tier LowCardinality(String) DEFAULT 'standard' AFTER output_includes_reasoning;

-- Spend by tier without scanning raw calls: these rollups hold only the calls NOT served at the
-- standard tier (calls stored before tiers existed were all standard), so the standard tier is the
-- main rollup's total less these. Revisions add their cost difference, as in 0002.
CREATE TABLE IF NOT EXISTS llm_calls_tier_1m
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, service_tier, bucket)
TTL bucket + toIntervalDay(35);

CREATE TABLE IF NOT EXISTS llm_calls_tier_1h
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, endpoint, model, provider, environment, service_tier, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_tier_1m_mv TO llm_calls_tier_1m AS
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
FROM llm_calls
WHERE service_tier != 'standard'
GROUP BY project_id, endpoint, model, provider, environment, service_tier, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_tier_1h_mv TO llm_calls_tier_1h AS
SELECT
    project_id, endpoint, model, provider, environment, service_tier,
    toStartOfHour(bucket) AS bucket,
    sum(calls) AS calls,
    sum(sum_input_tokens) AS sum_input_tokens,
    sum(sum_output_tokens) AS sum_output_tokens,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    sum(unpriced_calls) AS unpriced_calls
FROM llm_calls_tier_1m
GROUP BY project_id, endpoint, model, provider, environment, service_tier, toStartOfHour(bucket)
SETTINGS prefer_column_name_to_alias = 1;
