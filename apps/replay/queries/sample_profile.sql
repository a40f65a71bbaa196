-- The baseline model's calls by whether they can be replayed, and the shape of those that can.
-- Redactions that change meaning: anything replaced in the response (the app's answer repeated or
-- derived from data a replay cannot see, and is no longer what the user got), or a card number
-- replaced in the request (the question is about it). An address, phone number or secret hidden in
-- the question alone leaves what was asked intact, so such calls are replayed.
SELECT
    multiIf(
        status != 'ok', 'baseline_error',
        payload_captured = 0 OR request = '' OR response = '', 'no_payload',
        position(response, '[REDACTED:') > 0 OR position(request, '[REDACTED:card]') > 0, 'redacted',
        {need_feedback:UInt8} = 1
            AND event_id NOT IN (SELECT event_id FROM llm_feedback WHERE project_id = {project_id:UInt64}), 'no_feedback',
        'eligible'
    ) AS reason,
    count() AS calls,
    quantiles(0.25, 0.5, 0.75)(input_tokens) AS length_cuts,
    toUnixTimestamp64Milli(min(ts)) AS first_ms,
    toUnixTimestamp64Milli(max(ts)) AS last_ms,
    avg(input_tokens) AS mean_input,
    avg(output_tokens) AS mean_output
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND endpoint = {endpoint:String}
  AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
  AND provider = {provider:String} AND model = {model:String}
  AND routing_arm NOT IN ('candidate', 'fallback')
GROUP BY reason
