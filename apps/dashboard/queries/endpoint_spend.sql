-- Each endpoint's spend since a time (every model and arm) from the hour rollup: what potential
-- savings are capped at (a recommendation's monthly savings are at the last 30 days' volume).
SELECT endpoint, sum(sum_cost_nano_usd) AS cost_nano_usd
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= {since:DateTime('UTC')}
GROUP BY endpoint
