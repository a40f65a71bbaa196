-- Latency quantiles per chart bucket over the range, merged from the rollup's t-digest states.
-- TABLE and GRAIN placeholders: see series.sql.
SELECT
    toUnixTimestamp(__GRAIN__) AS t,
    sum(calls) AS calls,
    quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_quantiles) AS latency_ms
FROM __TABLE__
WHERE project_id = {project_id:UInt64}
  AND bucket >= {start:DateTime('UTC')}
  AND bucket < {end:DateTime('UTC')}
  AND ({endpoint:String} = '' OR endpoint = {endpoint:String})
  AND ({provider:String} = '' OR provider = {provider:String})
  AND ({model:String} = '' OR model = {model:String})
GROUP BY t
