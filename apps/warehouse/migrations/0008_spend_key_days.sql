-- Unit-economics pages at scale (issue 18). Five rollups fed from llm_spend_keys_1d's inserts (not
-- from llm_calls): that table is already one row per key, endpoint and day and already exact under
-- recomputes (a revision adds only its cost difference, and only a call's first revision counts as
-- a call), so each of these is a coarser view of it, always.
--
-- llm_spend_key_days: one row per (user | customer | conversation, UTC day) without the endpoint,
-- for the lists and spreads. At 10 M calls a month over 100,000 users that is ~3 M rows a month
-- for users instead of ~7.7 M (key, endpoint, day) rows, ordered by day so a range of days reads
-- only its own granules. Keys are grouped by `key_hash` (cityHash64 of the key): hashing 64-bit
-- integers is several times cheaper than hashing strings when 100,000 users or 2.5 M conversations
-- are grouped; names are looked up only for the keys a page lists. Two keys of one project and
-- kind would have to share a 64-bit hash to be counted as one (about 1 in 10^7 at 2.5 M keys).
-- `endpoint_lo` / `endpoint_hi` (the smallest and largest hash of the endpoints seen) differ when
-- a key crossed several endpoints.
CREATE TABLE IF NOT EXISTS llm_spend_key_days
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, day, key_hash)
TTL day + toIntervalDay(400);

-- The same per ISO week (from Monday): a range of days reads its whole weeks here and only the days
-- at either end from llm_spend_key_days. 30 days of 100,000 users: ~0.6–1.2 M rows instead of 3 M.
CREATE TABLE IF NOT EXISTS llm_spend_key_weeks
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(week)
ORDER BY (project_id, kind, week, key_hash)
TTL week + toIntervalDay(400);

-- A key's name by its hash, for the few keys a page lists (small granules: point lookups).
CREATE TABLE IF NOT EXISTS llm_spend_key_names
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    key_hash UInt64,
    key SimpleAggregateFunction(any, String),
    last_day SimpleAggregateFunction(max, Date)
)
ENGINE = AggregatingMergeTree
ORDER BY (project_id, kind, key_hash)
TTL last_day + toIntervalDay(400)
SETTINGS index_granularity = 1024;

-- llm_spend_keys_1d again, for reading a few keys (a top list's endpoints, days and previous
-- period; one key's page): the same rows ordered by key then day, in granules of 1,024 rows instead
-- of 8,192, so 50 keys read ~8x fewer rows.
CREATE TABLE IF NOT EXISTS llm_spend_key_endpoint_days
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, key, day, endpoint)
TTL day + toIntervalDay(400)
SETTINGS index_granularity = 1024;

-- Per kind and UTC day: cost, calls and the active keys, for the pages' trend of cost per active
-- key. The keys are a uniqCombined(14) state (exact for small counts, ~0.8 % error past thousands;
-- ~12 KB where uniq's is ~110 KB: 30 days read in ~10 ms instead of ~350 ms). Small granules, so
-- one kind's days are read without the others'.
CREATE TABLE IF NOT EXISTS llm_spend_kind_days
(
    project_id UInt64,
    kind Enum8('user' = 1, 'customer' = 2, 'conversation' = 3),
    day Date,
    calls SimpleAggregateFunction(sum, Int64),
    sum_cost_nano_usd SimpleAggregateFunction(sum, Int64),
    keys AggregateFunction(uniqCombined(14), UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, kind, day)
TTL day + toIntervalDay(400)
SETTINGS index_granularity = 64;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_days_mv TO llm_spend_key_days AS
SELECT
    project_id, kind, day,
    cityHash64(key) AS key_hash,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    min(cityHash64(endpoint)) AS endpoint_lo,
    max(cityHash64(endpoint)) AS endpoint_hi
FROM llm_spend_keys_1d
GROUP BY project_id, kind, day, key
SETTINGS prefer_column_name_to_alias = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_weeks_mv TO llm_spend_key_weeks AS
SELECT
    project_id, kind,
    toMonday(day) AS week,
    cityHash64(key) AS key_hash,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    min(cityHash64(endpoint)) AS endpoint_lo,
    max(cityHash64(endpoint)) AS endpoint_hi
FROM llm_spend_keys_1d
GROUP BY project_id, kind, week, key
SETTINGS prefer_column_name_to_alias = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_names_mv TO llm_spend_key_names AS
SELECT project_id, kind, cityHash64(key) AS key_hash, key, max(day) AS last_day
FROM llm_spend_keys_1d
GROUP BY project_id, kind, key;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_key_endpoint_days_mv TO llm_spend_key_endpoint_days AS
SELECT
    project_id, kind, key, day, endpoint, calls, errors, sum_cost_nano_usd,
    sum_input_tokens + sum_output_tokens AS sum_tokens, first_ts, last_ts
FROM llm_spend_keys_1d;

CREATE MATERIALIZED VIEW IF NOT EXISTS llm_spend_kind_days_mv TO llm_spend_kind_days AS
SELECT
    project_id, kind, day,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS sum_cost_nano_usd,
    uniqCombinedState(14)(cityHash64(key)) AS keys
FROM llm_spend_keys_1d
GROUP BY project_id, kind, day
SETTINGS prefer_column_name_to_alias = 1;

-- Backfills: everything llm_spend_keys_1d holds (its 400 days, longer than raw calls are kept),
-- less what the views above have already added since they were created, both sides read in one
-- statement. So calls stored while a backfill runs are neither counted twice nor missed, and
-- running it again adds nothing (the two sides are equal): it also repairs a table that drifted.
-- (Names and distinct-count states are idempotent: adding them again changes nothing.)
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
