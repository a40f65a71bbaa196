-- A few keys (a top list's, or one key's page), one row each: their totals in the range, cost per
-- endpoint and per day in the range (endpoints by calls too, so one that cost nothing still shows),
-- and the cost of the same span before it.
SELECT
    key,
    toInt64(sumIf(sum_cost_nano_usd, in_range)) AS cost_nano,
    toInt64(sumIf(calls, in_range)) AS key_calls,
    toInt64(sumIf(errors, in_range)) AS key_errors,
    toInt64(sumIf(sum_tokens, in_range)) AS key_tokens,
    minIf(first_ts, in_range) AS key_first,
    maxIf(last_ts, in_range) AS key_last,
    toInt64(sumIf(sum_cost_nano_usd, NOT in_range)) AS previous_nano,
    sumMapIf([toString(endpoint)], [toInt64(sum_cost_nano_usd)], in_range) AS endpoint_cost,
    sumMapIf([toString(endpoint)], [toInt64(calls) + 1], in_range) AS endpoint_rows,
    sumMapIf([day], [toInt64(sum_cost_nano_usd)], in_range) AS day_cost
FROM
(
    SELECT key, endpoint, day, sum_cost_nano_usd, calls, errors, sum_tokens, first_ts, last_ts,
           day >= {start:Date} AS in_range
    FROM llm_spend_key_endpoint_days
    WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
      AND key IN {keys:Array(String)}
      AND day >= {since:Date} AND day < {end:Date}
)
GROUP BY key
HAVING countIf(in_range) > 0
