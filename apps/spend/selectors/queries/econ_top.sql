-- The keys that cost most in a range of UTC days, with calls, errors and when they were seen.
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
LIMIT {limit:UInt32}
