-- Users, customers or conversations in a range of UTC days: how many, what they cost in all, and
-- the spread of cost per key (from the daily key rollup).
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
)
