-- Spend and calls per day (days start at midnight in {tz}) from the hour rollup: the month-end
-- forecast reads this month so far and the four weeks before it.
SELECT
    toUnixTimestamp(toStartOfDay(bucket, {tz:String})) AS day,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS cost_nano_usd
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= {since:DateTime('UTC')}
  AND bucket < {end:DateTime('UTC')}
GROUP BY day
ORDER BY day
