-- Per-call distributions for one endpoint: input and output tokens and cost per call in 1-2-5
-- bins, failures by status and error type, and calls with a captured payload. The only dashboard
-- query besides the explorer that reads raw calls: FINAL (a recomputed call counts with its
-- latest cost), restricted by project, endpoint and time, where the selector moves `since` up so
-- that at most a bounded number of recent calls is read. Run with group_by_use_nulls = 1, so a
-- column outside a row's grouping set is NULL.
SELECT
    arrayCount(e -> e <= input_tokens, {token_edges:Array(UInt64)}) AS input_bin,
    arrayCount(e -> e <= output_tokens, {token_edges:Array(UInt64)}) AS output_bin,
    if(cost_nano_usd IS NULL, -1, arrayCount(e -> e <= cost_nano_usd, {cost_edges:Array(Int64)})) AS cost_bin,
    toString(status) AS status,
    error_type,
    count() AS calls,
    sum(payload_captured) AS captured
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND endpoint = {endpoint:String}
  AND ts >= {since:DateTime64(3, 'UTC')}
  AND ts < {end:DateTime64(3, 'UTC')}
GROUP BY GROUPING SETS ((input_bin), (output_bin), (cost_bin), (status, error_type))
