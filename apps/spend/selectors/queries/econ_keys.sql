-- Users, customers or conversations in a range of UTC days, in one pass over the per-key day
-- rollup (llm_spend_key_days), grouped by the key's hash: how many, what they cost in all, the
-- spread of cost and calls per key, how many crossed several endpoints, and the hashes of the top
-- keys by cost. Re-aggregated with sum/min/max, so parts not yet merged count once.
SELECT
    count() AS keys,
    toInt64(sum(key_cost)) AS cost_nano,
    toInt64(sum(key_calls)) AS total_calls,
    quantiles(0.5, 0.9, 0.99)(key_cost) AS cost_quantiles,
    quantiles(0.5, 0.9, 0.99)(key_calls) AS calls_quantiles,
    countIf(lo != hi) AS multi_endpoint,
    groupArraySorted(50)((-key_cost, key_hash)) AS top
FROM
(
    SELECT
        key_hash,
        sum(sum_cost_nano_usd) AS key_cost,
        sum(calls) AS key_calls,
        min(endpoint_lo) AS lo,
        max(endpoint_hi) AS hi
    FROM llm_spend_key_days
    WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
      AND day >= {start:Date} AND day < {end:Date}
    GROUP BY key_hash
)
