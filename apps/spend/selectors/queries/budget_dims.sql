-- Spend per endpoint and model in the current day, week and month (UTC), from the hour rollup,
-- for budgets on the project, an endpoint or a model. One query per project and tick.
SELECT
    endpoint,
    model,
    toInt64(sumIf(sum_cost_nano_usd, bucket >= {day:DateTime('UTC')})) AS day_nano,
    toInt64(sumIf(sum_cost_nano_usd, bucket >= {week:DateTime('UTC')})) AS week_nano,
    toInt64(sumIf(sum_cost_nano_usd, bucket >= {month:DateTime('UTC')})) AS month_nano
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= least({week:DateTime('UTC')}, {month:DateTime('UTC')})
GROUP BY endpoint, model
