-- Included by sample_strata.sql and sample_draw.sql: the replayable calls of an endpoint's baseline
-- model in the window (sample_profile.sql classifies the rest, by the same rules).
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND endpoint = {endpoint:String}
  AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
  AND provider = {provider:String} AND model = {model:String}
  AND routing_arm NOT IN ('candidate', 'fallback')
  AND status = 'ok' AND payload_captured = 1 AND request != '' AND response != ''
  AND position(response, '[REDACTED:') = 0 AND position(request, '[REDACTED:card]') = 0
  AND ({need_feedback:UInt8} = 0
       OR event_id IN (SELECT event_id FROM llm_feedback WHERE project_id = {project_id:UInt64}))
