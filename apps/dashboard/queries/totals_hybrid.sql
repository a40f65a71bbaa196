-- totals.sql for a whole project's range read from the minute rollup (24 h), with far fewer
-- t-digest states to merge: the hours lying wholly inside the range or wholly inside the previous
-- period are read from the hour rollup (the same numbers: it is fed from the minute rollup's
-- inserts), only the partial hours at the edges from the minute rollup. The selector passes the
-- hour edges: hours_from = prev_start rounded up to the hour, hours_to = end rounded down, and
-- [split_from, split_to) = the hour holding start when it is not on the hour (else empty).
SELECT
    current,
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
FROM
(
    SELECT
        bucket >= {start:DateTime('UTC')} AS current,
        calls, errors, sum_input_tokens, sum_output_tokens, sum_cached_input_tokens,
        sum_reasoning_tokens, sum_cost_nano_usd, unpriced_calls, routed_calls, latency_ms_sum,
        latency_quantiles
    FROM llm_calls_1h
    WHERE project_id = {project_id:UInt64}
      AND bucket >= {hours_from:DateTime('UTC')}
      AND bucket < {hours_to:DateTime('UTC')}
      AND NOT (bucket >= {split_from:DateTime('UTC')} AND bucket < {split_to:DateTime('UTC')})
    UNION ALL
    SELECT
        bucket >= {start:DateTime('UTC')} AS current,
        calls, errors, sum_input_tokens, sum_output_tokens, sum_cached_input_tokens,
        sum_reasoning_tokens, sum_cost_nano_usd, unpriced_calls, routed_calls, latency_ms_sum,
        latency_quantiles
    FROM llm_calls_1m
    WHERE project_id = {project_id:UInt64}
      AND bucket >= {prev_start:DateTime('UTC')}
      AND bucket < {end:DateTime('UTC')}
      AND (bucket < {hours_from:DateTime('UTC')}
           OR (bucket >= {split_from:DateTime('UTC')} AND bucket < {split_to:DateTime('UTC')})
           OR bucket >= {hours_to:DateTime('UTC')})
)
GROUP BY current
