-- Output waste, per endpoint, model and day of the window. An endpoint's typical need is the median
-- output of its complete answers (finish_reason 'stop'); the tokens complete answers spend above
-- three times that are `excess`. `cut`: answers stopped at the output limit ('length').
WITH need AS
(
    SELECT endpoint, provider, model,
           quantileExact(0.5)(output_tokens) AS median_out,
           quantileExact(0.99)(output_tokens) AS p99_out,
           count() AS complete
    FROM llm_calls FINAL
    WHERE project_id = {project_id:UInt64}
      AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
      AND routing_arm != 'candidate'
      AND status = 'ok' AND finish_reason = 'stop'
    GROUP BY endpoint, provider, model
)
SELECT
    endpoint, provider, model,
    toUInt32(intDiv(toUnixTimestamp(ts) - {since_s:Int64}, 86400)) AS day,
    count() AS calls,
    countIf(finish_reason != '') AS with_finish,
    countIf(finish_reason = 'length') AS cut,
    sumIf(ifNull(cost_nano_usd, 0), finish_reason = 'length') AS cut_cost_nano,
    countIf(finish_reason = 'stop' AND output_tokens > 3 * median_out) AS long_answers,
    sumIf(greatest(toInt64(output_tokens) - toInt64(3 * median_out), 0), finish_reason = 'stop') AS excess_tokens,
    sumIf(output_tokens, finish_reason = 'stop') AS complete_tokens,
    any(median_out) AS median_out,
    any(p99_out) AS p99_out,
    any(complete) AS complete,
    quantileExactIf(0.5)(max_tokens, max_tokens > 0) AS typical_max_tokens,
    argMaxIf(event_id, output_tokens, finish_reason = 'stop') AS longest_id,
    anyIf(event_id, finish_reason = 'length') AS cut_id
FROM llm_calls AS c FINAL
INNER JOIN need USING (endpoint, provider, model)
WHERE c.project_id = {project_id:UInt64}
  AND c.ts >= {since:DateTime64(3, 'UTC')} AND c.ts < {until:DateTime64(3, 'UTC')}
  AND c.routing_arm != 'candidate'
  AND c.status = 'ok'
GROUP BY endpoint, provider, model, day
SETTINGS prefer_column_name_to_alias = 1
