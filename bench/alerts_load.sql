-- Synthetic llm_calls for bench/alerts.py: {count} of {rows} calls over the last 30 days for one
-- project, generated server-side (numbers {first} .. {first} + {count}). 100,000 users in 2,000
-- customers, conversations of 4 calls, 8 endpoints with their own models and prices (nano-USD per
-- token = USD per 1M tokens × 1000), 2 % failed.
INSERT INTO llm_calls (
    project_id, environment, endpoint, ts, event_id, revision, provider, model,
    input_tokens, output_tokens, latency_ms, status, error_type, cost_nano_usd, price_id,
    conversation_id, user_id, customer_id, retention_days
)
SELECT
    {project_id:UInt64}, 'production', endpoint, ts,
    reinterpretAsUUID(concat(reinterpretAsString(cityHash64(number, {salt:UInt64}, 7)),
                             reinterpretAsString(cityHash64(number, {salt:UInt64}, 8)))),
    0, provider, model, input_tokens, output_tokens, 400 + r_lat,
    CAST(if(r_status < 2, 'error', 'ok') AS Enum8('ok' = 1, 'error' = 2, 'timeout' = 3, 'filtered' = 4)),
    if(r_status < 2, 'RateLimitError', ''),
    toInt64(input_tokens * p_in + output_tokens * p_out), 1,
    concat('conv-', toString(intDiv(number, 4))),
    concat('user-', toString(user)),
    concat('cust-', toString(user % 2000)),
    30
FROM
(
    SELECT
        number,
        fromUnixTimestamp64Milli(toInt64({now_ms:Int64} - intDiv(number * 2592000000, {rows:UInt64})
            - cityHash64(number, 9) % 250), 'UTC') AS ts,
        cityHash64(number, 11) % 100000 AS user,
        cityHash64(number, 1) % 100 AS r_ep,
        cityHash64(number, 3) % 1000 AS r_tok,
        cityHash64(number, 4) % 600 AS r_lat,
        cityHash64(number, 5) % 100 AS r_status,
        multiIf(r_ep < 30, 'classify-ticket', r_ep < 50, 'faq-answer', r_ep < 65, 'extract-invoice',
                r_ep < 75, 'summarise-thread', r_ep < 85, 'draft-email', r_ep < 92, 'generate-sql',
                r_ep < 98, 'codegen', 'complex-analysis') AS endpoint,
        multiIf(r_ep < 30, 'gpt-4o-mini', r_ep < 50, 'claude-haiku-4-5', r_ep < 65, 'gpt-4.1-mini',
                r_ep < 75, 'claude-sonnet-4-5', r_ep < 85, 'gpt-4o', r_ep < 92, 'gpt-4.1',
                r_ep < 98, 'claude-sonnet-4-5', 'o3') AS model,
        if(startsWith(model, 'claude'), 'anthropic', 'openai') AS provider,
        multiIf(model = 'gpt-4o-mini', 150, model = 'claude-haiku-4-5', 1000, model = 'gpt-4.1-mini', 400,
                model = 'claude-sonnet-4-5', 3000, model = 'gpt-4o', 2500, 2000) AS p_in,
        multiIf(model = 'gpt-4o-mini', 600, model = 'claude-haiku-4-5', 5000, model = 'gpt-4.1-mini', 1600,
                model = 'claude-sonnet-4-5', 15000, model = 'gpt-4o', 10000, 8000) AS p_out,
        toUInt32(300 + r_tok * 3) AS input_tokens,
        toUInt32(20 + (cityHash64(number, 14) % 400)) AS output_tokens
    FROM numbers({first:UInt64}, {count:UInt64})
)
SETTINGS max_insert_threads = 2
