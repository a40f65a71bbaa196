-- One window of the call explorer: the newest calls in [lo, hi) before the keyset position
-- (after_ts, after_id), newest first. FINAL: each call once, at its latest revision.
-- The FILTERS placeholder below becomes clauses from calls.FILTER_CLAUSES (an allow-list; values bound).
SELECT
    ts,
    event_id,
    endpoint,
    environment,
    provider,
    model,
    toString(status) AS status,
    error_type,
    input_tokens,
    output_tokens,
    cached_input_tokens,
    reasoning_tokens,
    latency_ms,
    ttft_ms,
    cost_nano_usd,
    routing_arm,
    routing_target,
    user_id,
    conversation_id,
    tags,
    payload_captured
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND ts >= {lo:DateTime64(3, 'UTC')}
  AND ts < {hi:DateTime64(3, 'UTC')}
  AND (ts, event_id) < ({after_ts:DateTime64(3, 'UTC')}, {after_id:UUID})
  AND endpoint = {endpoint:String}
  AND model = {model:String}
  AND status = {status:String}
  AND has(tags, {tag:String})
  AND user_id = {user_id:String}
  AND conversation_id = {conversation_id:String}
  AND cost_nano_usd >= {min_cost:Int64}
  AND cost_nano_usd <= {max_cost:Int64}
ORDER BY ts DESC, event_id DESC
LIMIT {limit:UInt32}
