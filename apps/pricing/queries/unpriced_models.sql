-- Models whose calls are stored without a price, per (provider, model), from the hourly rollup.
-- unpriced_calls goes up when a call is stored with cost NULL and down when a recompute prices it.
SELECT provider, model, sum(n) AS calls, min(bucket) AS first_seen, max(bucket) AS last_seen
FROM
(
    SELECT provider, model, bucket, sum(unpriced_calls) AS n
    FROM llm_calls_1h
    WHERE project_id = {project_id:UInt64}
    GROUP BY provider, model, bucket
    HAVING n > 0
)
GROUP BY provider, model
ORDER BY calls DESC
LIMIT 500
