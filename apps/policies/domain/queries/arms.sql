-- Routed traffic of one endpoint by arm, decision reason and model: what the guard compares and
-- what realised savings add up. Calls outside the rollout carry reason 'rollout'.
SELECT
    routing_arm AS arm,
    routing_reason AS reason,
    provider,
    model,
    count() AS events,
    countIf(status != 'ok') AS errors,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_nano_usd, 0)) AS cost_nano,
    countIf(cost_nano_usd IS NULL) AS unpriced,
    quantileExactIf(0.5)(latency_ms, status = 'ok') AS latency_p50,
    quantileExactIf(0.95)(latency_ms, status = 'ok') AS latency_p95
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND endpoint = {endpoint:String}
  AND routing_policy_version IN {versions:Array(UInt32)}
  AND ts >= {since:DateTime64(3, 'UTC')}
  AND ts < {until:DateTime64(3, 'UTC')}
  AND routing_reason != 'model_mismatch'
GROUP BY arm, reason, provider, model
