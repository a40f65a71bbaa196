-- Per key, endpoint and day for a few keys (the top list's rows, or one key's page), over the
-- range and the same span before it: totals, endpoints, daily trend and the previous period's cost.
SELECT key, endpoint, day, toInt64(sum(sum_cost_nano_usd)) AS cost_nano, toInt64(sum(calls)) AS calls,
       toInt64(sum(errors)) AS errors, toInt64(sum(sum_tokens)) AS tokens,
       min(first_ts) AS first_ts, max(last_ts) AS last_ts
FROM llm_spend_key_endpoint_days
WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
  AND key IN {keys:Array(String)}
  AND day >= {since:Date} AND day < {end:Date}
GROUP BY key, endpoint, day
