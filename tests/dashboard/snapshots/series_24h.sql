-- Calls, tokens and cost per chart bucket, endpoint and model, over the range and the period
-- before it (deltas and trends). Reads a rollup, never raw calls.
-- The TABLE placeholder is llm_calls_1m or llm_calls_1h and GRAIN an expression from filters.GRAINS:
-- both come from allow-lists (selectors._rollup_sql); values are bound parameters.
SELECT
    toUnixTimestamp(toStartOfHour(bucket, {tz:String})) AS t,
    bucket >= {start:DateTime('UTC')} AS current,
    endpoint,
    provider,
    model,
    sum(calls) AS calls,
    sum(errors) AS errors,
    sum(sum_input_tokens) AS input_tokens,
    sum(sum_output_tokens) AS output_tokens,
    sum(sum_cached_input_tokens) AS cached_input_tokens,
    sum(sum_reasoning_tokens) AS reasoning_tokens,
    sum(sum_cost_nano_usd) AS cost_nano_usd,
    sum(unpriced_calls) AS unpriced_calls,
    sum(routed_calls) AS routed_calls,
    sum(latency_ms_sum) AS latency_ms_sum
FROM llm_calls_1m
WHERE project_id = {project_id:UInt64}
  AND bucket >= {prev_start:DateTime('UTC')}
  AND bucket < {end:DateTime('UTC')}
  AND ({endpoint:String} = '' OR endpoint = {endpoint:String})
  AND ({provider:String} = '' OR provider = {provider:String})
  AND ({model:String} = '' OR model = {model:String})
GROUP BY t, current, endpoint, provider, model
