-- Context growth: conversations (calls sharing a conversation_id) whose prompt grows turn after
-- turn. A conversation grows when it has 4 turns or more, 90 % of its turns are at least as long
-- as the one before, and its last is 1.5 times its first. A turn's history is what its prompt
-- carries beyond the first turn's; keeping at most {budget} tokens of it (older turns summarised)
-- would trim the rest, `trimmed`, of which `trimmed_cached` was read from cache. A summary reads the
-- trimmed history once (`summary_in`, at the conversation's last turn) and writes about a quarter of
-- the budget per budget it reads (`summaries`). Per endpoint, model and day.
SELECT
    endpoint, provider, model,
    toUInt32(intDiv(intDiv(turn.1, 1000) - {since_s:Int64}, 86400)) AS day,
    count() AS turn_calls,
    uniqExactIf(conversation_id, growing) AS growing_conversations,
    uniqExactIf(conversation_id, n >= 4) AS long_conversations,
    sumIf(greatest(turn.2 - first, 0), growing AND idx > 1) AS history,
    sumIf(turn.2, growing) AS prompt_tokens,
    sumIf(greatest(turn.2 - first - {budget:Float64}, 0) * (1 - turn.3), growing AND idx > 1) AS trimmed,
    sumIf(greatest(turn.2 - first - {budget:Float64}, 0) * turn.3, growing AND idx > 1) AS trimmed_cached,
    sumIf(greatest(last_history - {budget:Float64}, 0), growing AND idx = n) AS summary_in,
    sumIf(ceil(greatest(last_history - {budget:Float64}, 0) / {budget:Float64}), growing AND idx = n) AS summaries,
    quantileIf(0.5)(first_over, growing AND idx = n AND first_over > 0) AS median_turn_over_budget,
    quantileIf(0.5)(n, growing AND idx = n) AS median_turns,
    argMaxIf(turn.4, n, growing AND idx = n) AS example_id
FROM
(
    SELECT
        endpoint, provider, model, conversation_id,
        arraySort(x -> x.1, groupArray((toUnixTimestamp64Milli(ts), prompt, cached_share, event_id))) AS turns,
        length(turns) AS n,
        arrayMap(x -> x.2, turns) AS prompts,
        prompts[1] AS first,
        prompts[n] - first AS last_history,
        n >= 4
            AND arrayCount((a, b) -> b >= a, arrayPopBack(prompts), arrayPopFront(prompts)) >= 0.9 * (n - 1)
            AND prompts[n] >= 1.5 * first AS growing,
        arrayFirstIndex(p -> p - first > {budget:Float64}, prompts) AS first_over
    FROM
    (
        SELECT
            endpoint, provider, model, conversation_id, ts, event_id,
            if(input_includes_cached = -1, has({incl_cached:Array(String)}, concat(provider, '/', model)),
               input_includes_cached = 1) AS in_incl,
            toFloat64(if(in_incl, input_tokens,
                input_tokens + cached_input_tokens + greatest(cache_write_tokens, cache_write_1h_tokens))) AS prompt,
            if(prompt > 0, least(cached_input_tokens / prompt, 1.), 0.) AS cached_share
        FROM llm_calls FINAL
        WHERE project_id = {project_id:UInt64}
          AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
          AND routing_arm != 'candidate'
          AND conversation_id != '' AND status = 'ok'
    )
    GROUP BY endpoint, provider, model, conversation_id
    HAVING n >= 2
)
ARRAY JOIN turns AS turn, arrayEnumerate(turns) AS idx
GROUP BY endpoint, provider, model, day
