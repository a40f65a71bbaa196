-- One page of a cost check: the latest revision of each call (FINAL) in a time range, every
-- column the cost needs, in (ts, event_id) order after the cursor.
SELECT
    ts, event_id, revision, provider, model, service_tier,
    input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens,
    reasoning_tokens, input_includes_cached, output_includes_reasoning,
    cost_nano_usd, price_id
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND ts >= {since:DateTime64(3, 'UTC')}
  AND ts < {until:DateTime64(3, 'UTC')}
  AND (ts, event_id) > ({cursor_ts:DateTime64(3, 'UTC')}, {cursor_id:UUID})
ORDER BY ts, event_id
LIMIT {limit:UInt32}
