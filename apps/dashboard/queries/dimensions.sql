-- Every endpoint / provider / model this project has sent calls for, with all-time calls and the
-- last hour seen (hour rollup: no TTL). Feeds filter choices and "does this exist" checks.
SELECT
    endpoint,
    provider,
    model,
    sum(calls) AS calls,
    toUnixTimestamp(max(bucket)) AS last_seen
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
GROUP BY endpoint, provider, model
ORDER BY endpoint, provider, model
