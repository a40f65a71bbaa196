-- Users, customers or conversations in a range of UTC days, in one pass over the per-key rollups,
-- grouped by the key's hash: the range's whole ISO weeks from llm_spend_key_weeks, the days before
-- the first and after the last from llm_spend_key_days. How many keys, what they cost in all, the
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
    SELECT key_hash, sum(cost) AS key_cost, sum(calls) AS key_calls, min(lo) AS lo, max(hi) AS hi
    FROM
    (
        SELECT key_hash, sum_cost_nano_usd AS cost, calls, endpoint_lo AS lo, endpoint_hi AS hi
        FROM llm_spend_key_weeks
        WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
          AND week >= {weeks_start:Date} AND week < {weeks_end:Date}
        UNION ALL
        SELECT key_hash, sum_cost_nano_usd, calls, endpoint_lo, endpoint_hi
        FROM llm_spend_key_days
        WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
          AND ((day >= {start:Date} AND day < {weeks_start:Date}) OR (day >= {weeks_end:Date} AND day < {end:Date}))
    )
    GROUP BY key_hash
)
