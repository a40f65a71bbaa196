-- One call, at its latest revision, with everything the detail page shows.
SELECT
    ts, event_id, revision, received_at, endpoint, environment, provider, model, response_model,
    input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens,
    reasoning_tokens, input_includes_cached, latency_ms, ttft_ms, toString(status) AS status,
    error_type, cost_nano_usd, prev_cost_nano_usd, client_cost_nano_usd, price_id, cost_breakdown,
    routing_policy_version, routing_arm, routing_target, routing_reason, conversation_id, user_id,
    tags, metadata, payload_captured, redactions, request, response
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND event_id = {event_id:UUID}
LIMIT 1
