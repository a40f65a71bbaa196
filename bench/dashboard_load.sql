-- Synthetic llm_calls for bench/dashboard.py: {rows} calls over the last 30 days for one project,
-- generated server-side, numbers first .. first + count per statement. 8 endpoints with their own
-- models, token sizes, latencies and error rates; 2% without a price (cost NULL); 5% with a
-- captured payload; 3% routed. Costs are nano-USD from the endpoint's model price (USD per 1M
-- tokens × 1000 = nano-USD per token). Run again with revision = 1, it rewrites 1% of the calls
-- as a price recompute would (20% cheaper, the old cost in prev_cost_nano_usd).
INSERT INTO llm_calls (
    project_id, environment, endpoint, ts, event_id, revision, provider, model,
    input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, latency_ms, ttft_ms,
    status, error_type, cost_nano_usd, prev_cost_nano_usd, price_id, cost_breakdown, routing_arm,
    conversation_id, user_id, tags, metadata, payload_captured, request, response, retention_days
)
SELECT
    {project_id:UInt64},
    if(r_env < 90, 'production', 'staging'),
    endpoint,
    ts,
    reinterpretAsUUID(concat(reinterpretAsString(cityHash64(number, {salt:UInt64}, 7)),
                             reinterpretAsString(cityHash64(number, {salt:UInt64}, 8)))),
    {revision:UInt32},
    provider,
    model,
    input_tokens,
    output_tokens,
    cached_input_tokens,
    reasoning_tokens,
    latency_ms,
    toUInt32(latency_ms * 0.3),
    status,
    multiIf(status = 'error', 'RateLimitError', status = 'timeout', 'APITimeoutError', ''),
    if(r_price < 2, NULL, if({revision:UInt32} = 0, cost, toInt64(cost * 0.8))),
    if(r_price < 2 OR {revision:UInt32} = 0, NULL, cost),
    if(r_price < 2, 0, 1),
    if(r_price < 2, '', concat('{"input":', toString(in_cost), ',"output":', toString(cost - in_cost), '}')),
    if(r_route < 3, 'candidate', ''),
    concat('conv-', toString(intDiv(number, 4))),
    concat('user-', toString(cityHash64(number, 11) % 5000)),
    [concat('tier:', if(r_env % 3 = 0, 'pro', 'free'))],
    map('region', if(r_env % 2 = 0, 'eu', 'us')),
    r_payload < 5,
    if(r_payload < 5, concat('{"messages":[{"role":"user","content":"Request ', toString(number),
        ' for ', endpoint, ': please handle the attached text."}]}'), ''),
    if(r_payload < 5, concat('{"content":"Answer ', toString(number), '"}'), ''),
    30
FROM
(
    SELECT
        number,
        fromUnixTimestamp64Milli(toInt64({now_ms:Int64} - intDiv(number * 2592000000, {rows:UInt64})
            - cityHash64(number, 9) % 250), 'UTC') AS ts,
        cityHash64(number, 1) % 100 AS r_ep,
        cityHash64(number, 2) % 100 AS r_model,
        cityHash64(number, 3) % 1000 AS r_tok,
        cityHash64(number, 4) % 1000 AS r_lat,
        cityHash64(number, 5) % 1000 AS r_status,
        cityHash64(number, 6) % 100 AS r_price,
        cityHash64(number, 10) % 100 AS r_payload,
        cityHash64(number, 12) % 100 AS r_env,
        cityHash64(number, 13) % 100 AS r_route,
        multiIf(r_ep < 30, 'classify-ticket', r_ep < 50, 'faq-answer', r_ep < 65, 'extract-invoice',
                r_ep < 75, 'summarise-thread', r_ep < 85, 'draft-email', r_ep < 92, 'generate-sql',
                r_ep < 98, 'codegen', 'complex-analysis') AS endpoint,
        multiIf(endpoint = 'classify-ticket', if(r_model < 80, 'gpt-4o-mini', 'gpt-4.1-nano'),
                endpoint = 'faq-answer', if(r_model < 70, 'claude-haiku-4-5', 'gemini-2.5-flash'),
                endpoint = 'extract-invoice', 'gpt-4.1-mini',
                endpoint = 'summarise-thread', 'claude-sonnet-4-5',
                endpoint = 'draft-email', 'gpt-4o',
                endpoint = 'generate-sql', 'gpt-4.1',
                endpoint = 'codegen', 'claude-sonnet-4-5',
                'o3') AS model,
        multiIf(startsWith(model, 'claude'), 'anthropic', startsWith(model, 'gemini'), 'google', 'openai') AS provider,
        multiIf(endpoint = 'classify-ticket', 400, endpoint = 'faq-answer', 1500, endpoint = 'extract-invoice', 2200,
                endpoint = 'summarise-thread', 6000, endpoint = 'draft-email', 800, endpoint = 'generate-sql', 2500,
                endpoint = 'codegen', 3000, 8000) AS in_base,
        multiIf(endpoint = 'classify-ticket', 5, endpoint = 'faq-answer', 150, endpoint = 'extract-invoice', 300,
                endpoint = 'summarise-thread', 400, endpoint = 'draft-email', 350, endpoint = 'generate-sql', 150,
                endpoint = 'codegen', 900, 3000) AS out_base,
        toUInt32(in_base * (0.3 + r_tok / 500)) AS input_tokens,
        toUInt32(out_base * (0.2 + (cityHash64(number, 14) % 1000) / 400)) AS output_tokens,
        toUInt32(if(endpoint = 'faq-answer', input_tokens * 0.6, 0)) AS cached_input_tokens,
        toUInt32(if(model = 'o3', output_tokens * 0.6, 0)) AS reasoning_tokens,
        multiIf(model = 'gpt-4o-mini', 150, model = 'gpt-4.1-nano', 100, model = 'claude-haiku-4-5', 1000,
                model = 'gemini-2.5-flash', 300, model = 'gpt-4.1-mini', 400, model = 'claude-sonnet-4-5', 3000,
                model = 'gpt-4o', 2500, model = 'gpt-4.1', 2000, 2000) AS p_in,
        multiIf(model = 'gpt-4o-mini', 600, model = 'gpt-4.1-nano', 400, model = 'claude-haiku-4-5', 5000,
                model = 'gemini-2.5-flash', 2500, model = 'gpt-4.1-mini', 1600, model = 'claude-sonnet-4-5', 15000,
                model = 'gpt-4o', 10000, model = 'gpt-4.1', 8000, 8000) AS p_out,
        toInt64(input_tokens * p_in) AS in_cost,
        toInt64(input_tokens * p_in + output_tokens * p_out) AS cost,
        toUInt32((out_base * 4 + 200) * (0.5 + r_lat / 1000) * if(r_lat > 990, 6, 1)) AS latency_ms,
        CAST(multiIf(r_status < 15, 'error', r_status < 20, 'timeout', 'ok') AS Enum8('ok' = 1, 'error' = 2, 'timeout' = 3, 'filtered' = 4)) AS status
    FROM numbers({first:UInt64}, {count:UInt64})
    WHERE {revision:UInt32} = 0 OR cityHash64(number, 20) % 100 = 0
)
SETTINGS max_insert_threads = 2
