-- A project's endpoints with calls in the last 30 days, busiest first (from the hour rollup).
SELECT endpoint, sum(calls) AS calls
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64} AND bucket >= now() - INTERVAL 30 DAY
GROUP BY endpoint
ORDER BY calls DESC, endpoint
LIMIT 500
