-- Replayable calls per stratum (4 time bins × 4 prompt-length bins), for proportional allocation.
SELECT
    toUInt16(least(intDiv(toUnixTimestamp64Milli(ts) - {t0:Int64}, {tstep:Int64}), 3) * 4
        + multiIf(input_tokens <= {c1:Float64}, 0, input_tokens <= {c2:Float64}, 1, input_tokens <= {c3:Float64}, 2, 3)) AS stratum,
    count() AS calls
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
GROUP BY stratum
