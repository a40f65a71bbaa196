-- Spend of named users or customers in the current day, week and month (UTC), from the daily
-- key rollup; the primary key (project, kind, key) makes each key a short range read.
SELECT
    key,
    toInt64(sumIf(sum_cost_nano_usd, day >= {day:Date})) AS day_nano,
    toInt64(sumIf(sum_cost_nano_usd, day >= {week:Date})) AS week_nano,
    toInt64(sumIf(sum_cost_nano_usd, day >= {month:Date})) AS month_nano
FROM llm_spend_keys_1d
WHERE project_id = {project_id:UInt64}
  AND kind = {kind:String}
  AND key IN {keys:Array(String)}
  AND day >= least({week:Date}, {month:Date})
GROUP BY key
