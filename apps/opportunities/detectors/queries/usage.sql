-- Every call of the window (FINAL: a recomputed call once, at its latest cost), its tokens split by
-- how they are billed, per endpoint, model, tier and day of the window. Where a call does not say
-- whether its input includes cached tokens (or its output reasoning), its provider's rule applies
-- ({incl_cached} / {incl_reasoning}: the 'provider/model' pairs whose rule says it does).
-- Calls a routing policy sent to its candidate are routing's, not these detectors': they are left out.
SELECT
    endpoint, provider, model, service_tier AS tier,
    toUInt32(intDiv(toUnixTimestamp(ts) - {since_s:Int64}, 86400)) AS day,
    count() AS calls,
    sum(uncached_t) AS uncached,
    sum(cached_t) AS cached,
    sum(writes_t - w1h_t) AS write_5m,
    sum(w1h_t) AS write_1h,
    sum(toInt64(output_tokens) - if(out_incl, reasoning_t, 0)) AS output,
    sum(reasoning_t) AS reasoning,
    sum(ifNull(cost_nano_usd, 0)) AS cost_nano,
    countIf(cost_nano_usd IS NULL) AS unpriced
FROM
(
    SELECT
        endpoint, provider, model, service_tier, ts, output_tokens, cost_nano_usd,
        concat(provider, '/', model) AS pair,
        if(input_includes_cached = -1, has({incl_cached:Array(String)}, pair), input_includes_cached = 1) AS in_incl,
        if(output_includes_reasoning = -1, has({incl_reasoning:Array(String)}, pair),
           output_includes_reasoning = 1) AS out_incl,
        toInt64(cached_input_tokens) AS cached_t,
        toInt64(greatest(cache_write_tokens, cache_write_1h_tokens)) AS writes_t,
        toInt64(cache_write_1h_tokens) AS w1h_t,
        greatest(toInt64(input_tokens) - if(in_incl, cached_t + writes_t, 0), 0) AS uncached_t,
        if(out_incl, least(toInt64(reasoning_tokens), toInt64(output_tokens)), toInt64(reasoning_tokens)) AS reasoning_t
    FROM llm_calls FINAL
    WHERE project_id = {project_id:UInt64}
      AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
      AND routing_arm != 'candidate'
)
GROUP BY endpoint, provider, model, tier, day
