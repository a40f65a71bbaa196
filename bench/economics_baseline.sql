-- The unit-economics pages' queries before migration 0008 (bench/economics.py's baseline): three
-- passes over the per-key, endpoint and day rollup llm_spend_keys_1d, grouped by the key string.
-- name: summary
SELECT
    count() AS keys,
    toInt64(sum(key_cost)) AS cost_nano,
    toInt64(sum(key_calls)) AS total_calls,
    quantiles(0.5, 0.9, 0.99)(key_cost) AS cost_quantiles,
    quantiles(0.5, 0.9, 0.99)(key_calls) AS calls_quantiles,
    countIf(key_endpoints > 1) AS multi_endpoint
FROM
(
    SELECT key, sum(sum_cost_nano_usd) AS key_cost, sum(calls) AS key_calls, uniq(endpoint) AS key_endpoints
    FROM llm_spend_keys_1d
    WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
      AND day >= {start:Date} AND day < {end:Date}
    GROUP BY key
);
-- name: top
SELECT
    key,
    toInt64(sum(sum_cost_nano_usd)) AS cost_nano,
    toInt64(sum(calls)) AS calls,
    toInt64(sum(errors)) AS errors,
    toInt64(sum(sum_input_tokens + sum_output_tokens)) AS tokens,
    min(first_ts) AS first_ts,
    max(last_ts) AS last_ts
FROM llm_spend_keys_1d
WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
  AND day >= {start:Date} AND day < {end:Date}
GROUP BY key
ORDER BY cost_nano DESC, key
LIMIT 50;
-- name: daily
SELECT day, toInt64(sum(sum_cost_nano_usd)) AS cost_nano, toInt64(sum(calls)) AS calls, uniq(key) AS keys
FROM llm_spend_keys_1d
WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
  AND day >= {start:Date} AND day < {end:Date}
GROUP BY day
ORDER BY day;
-- name: raw
-- The same question asked of raw calls (no rollup): cost and calls per key over the range.
SELECT count() AS keys, toInt64(sum(key_cost)) AS cost_nano
FROM
(
    SELECT multiIf({kind:String} = 'user', user_id, {kind:String} = 'customer', customer_id, conversation_id) AS key,
           sum(ifNull(cost_nano_usd, 0)) AS key_cost
    FROM llm_calls FINAL
    WHERE project_id = {project_id:UInt64} AND ts >= {start:Date} AND ts < {end:Date} AND key != ''
    GROUP BY key
)
