-- The (provider, model) pairs a project has calls for since a time, from the hourly rollup:
-- a recompute is planned only for the pairs a price change can touch.
SELECT provider, model, sum(calls) AS calls
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= toStartOfHour({since:DateTime64(3, 'UTC')})
GROUP BY provider, model
