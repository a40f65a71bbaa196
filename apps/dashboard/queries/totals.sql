-- Totals of the range (current = 1) and of the period before it (current = 0), with latency
-- quantiles merged from the rollup's t-digest states. TABLE placeholder: see series.sql.
SELECT
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
GROUP BY current
