-- Spend control (apps/spend): the customer a call is for, and rollups per user, customer and
-- conversation so budgets, alerts and the unit-economics pages never scan raw calls.
-- `customer_id` is resolved at ingest: the event's own `customer_id`, else the project's named
-- metadata key or tag prefix (apps.spend.customer_key).
ALTER TABLE llm_calls ADD COLUMN IF NOT EXISTS customer_id String DEFAULT '' AFTER user_id;

-- One row per (user | customer | conversation, endpoint, UTC day). A conversation is the call's
-- conversation_id, else its OpenTelemetry trace id: every call belongs to one conversation at
-- most, so multi-step agents roll up without double counting. As in 0002, only a call's first
-- revision counts as a call; every revision adds its cost difference.
CREATE TABLE IF NOT EXISTS llm_spend_keys_1d
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, key, endpoint, day)
TTL day + toIntervalDay(400);

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_keys_1d_mv TO llm_spend_keys_1d AS
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
FROM llm_calls
ARRAY JOIN
    ['user', 'customer', 'conversation'] AS kind,
    [user_id, customer_id, if(conversation_id != '', conversation_id, metadata['otel.trace_id'])] AS key
WHERE key != ''
GROUP BY project_id, kind, key, endpoint, day;

-- Customers by hour, for anomaly alerts against each customer's own hour-of-week baseline.
CREATE TABLE IF NOT EXISTS llm_spend_customers_1h
(
    project_id UInt64,
    customer String,
    bucket DateTime('UTC'),
    calls SimpleAggregateFunction(sum, Int64),
    errors SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    sum_tokens SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, customer, bucket)
TTL bucket + toIntervalDay(40);

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_customers_1h_mv TO llm_spend_customers_1h AS
SELECT
    project_id,
    customer_id AS customer,
    toStartOfHour(ts) AS bucket,
    toInt64(sum(revision = 0)) AS calls,
    toInt64(sum(revision = 0 AND status != 'ok')) AS errors,
    toInt64(sum(ifNull(cost_nano_usd, 0) - ifNull(prev_cost_nano_usd, 0))) AS sum_cost_nano_usd,
    toInt64(sumIf(input_tokens + output_tokens, revision = 0)) AS sum_tokens
FROM llm_calls
WHERE customer_id != ''
GROUP BY project_id, customer, bucket;
