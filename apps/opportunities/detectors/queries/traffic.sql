-- How each endpoint's calls to each model arrive: how many, how many carry a prompt prefix (read
-- at ingest from a request payload), streamed or not, for an end user or not, in conversations.
SELECT
    endpoint, provider, model,
    count() AS calls,
    countIf(status = 'ok') AS ok_calls,
    countIf(status = 'ok' AND prompt_bytes > 0) AS with_prefix,
    countIf(streamed = 1) AS streamed,
    countIf(streamed = 0) AS not_streamed,
    countIf(user_id = '') AS without_user,
    countIf(conversation_id = '') AS without_conversation,
    countIf(service_tier IN ('batch', 'flex')) AS discounted,
    countIf(finish_reason != '') AS with_finish,
    quantile(0.5)(latency_ms) AS p50_latency_ms,
    quantile(0.95)(latency_ms) AS p95_latency_ms
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
  AND routing_arm != 'candidate'
GROUP BY endpoint, provider, model
SETTINGS prefer_column_name_to_alias = 1
