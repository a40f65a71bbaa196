-- Per UTC day: cost, calls and active keys, for the trend of cost per user / customer / conversation.
SELECT day, toInt64(sum(sum_cost_nano_usd)) AS cost_nano, toInt64(sum(calls)) AS calls, uniqCombinedMerge(14)(keys) AS keys
FROM llm_spend_kind_days
WHERE project_id = {project_id:UInt64} AND kind = {kind:String}
  AND day >= {start:Date} AND day < {end:Date}
GROUP BY day
ORDER BY day
