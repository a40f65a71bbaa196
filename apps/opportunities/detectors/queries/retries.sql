-- Answers cut at the output limit and then asked again: a call with finish_reason 'length' whose
-- whole prompt (its last prefix point) is sent again by the same endpoint within 10 minutes. The
-- cut call was paid for and thrown away. Per endpoint, model and day of the cut call.
SELECT
    endpoint, provider, model,
    toUInt32(intDiv(toUnixTimestamp(ts) - {since_s:Int64}, 86400)) AS day,
    count() AS retried,
    sum(ifNull(cost_nano_usd, 0)) AS retried_cost_nano,
    groupArray(3)(event_id) AS example_ids
FROM
(
    SELECT
        endpoint, provider, model, ts, event_id, finish_reason, cost_nano_usd,
        leadInFrame(toUnixTimestamp64Milli(ts), 1, 0) OVER (
            PARTITION BY endpoint, whole ORDER BY ts ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING
        ) AS next_ms
    FROM
    (
        SELECT endpoint, provider, model, ts, event_id, finish_reason, cost_nano_usd,
               prefix_points[-1] AS whole
        FROM llm_calls FINAL
        WHERE project_id = {project_id:UInt64}
          AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
          AND routing_arm != 'candidate'
          AND prompt_bytes > 0
          AND prefix_points[-1] IN
          (
              SELECT prefix_points[-1] FROM llm_calls
              WHERE project_id = {project_id:UInt64}
                AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
                AND routing_arm != 'candidate'
                AND finish_reason = 'length' AND prompt_bytes > 0
          )
    )
)
WHERE finish_reason = 'length' AND next_ms > 0 AND next_ms - toUnixTimestamp64Milli(ts) <= 600000
GROUP BY endpoint, provider, model, day
