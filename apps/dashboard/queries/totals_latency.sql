-- totals.sql and the latency per chart bucket in one pass over the rollup, for the endpoint page,
-- which shows both: the t-digest states, the expensive part, are read once. Run with
-- group_by_use_nulls = 1, so `t` is NULL in the rows of the period totals. TABLE and GRAIN
-- placeholders: see series.sql.
SELECT
    toUnixTimestamp(__GRAIN__) AS t,
    bucket >= {start:DateTime('UTC')} AS current,
    sum(calls) AS calls,
    sum(errors) AS errors,
    sum(sum_input_tokens) AS input_tokens,
    sum(sum_output_tokens) AS output_tokens,
    sum(sum_cached_input_tokens) AS cached_input_tokens,
    sum(sum_reasoning_tokens) AS reasoning_tokens,
    sum(sum_cost_nano_usd) AS cost_nano_usd,
    sum(unpriced_calls) AS unpriced_calls,
    sum(routed_calls) AS routed_calls,
    sum(latency_ms_sum) AS latency_ms_sum,
    quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_quantiles) AS latency_ms
FROM __TABLE__
WHERE project_id = {project_id:UInt64}
  AND bucket >= {prev_start:DateTime('UTC')}
  AND bucket < {end:DateTime('UTC')}
  AND ({endpoint:String} = '' OR endpoint = {endpoint:String})
  AND ({provider:String} = '' OR provider = {provider:String})
  AND ({model:String} = '' OR model = {model:String})
GROUP BY GROUPING SETS ((current), (t, current))
