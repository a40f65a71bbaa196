-- The sampled calls themselves: what the app sent, what it got, what it cost and took.
SELECT
    event_id, ts, provider, model, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
    cache_write_1h_tokens, reasoning_tokens, input_includes_cached, latency_ms, cost_nano_usd, request, response,
    conversation_id
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND endpoint = {endpoint:String}
  AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
  AND event_id IN {ids:Array(UUID)}
