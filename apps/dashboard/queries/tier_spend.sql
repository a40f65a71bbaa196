-- Calls and spend per service tier over the range, from the tier rollups (0006), which hold only
-- the calls NOT served at the standard tier: the standard tier is the range's total less these.
-- The TABLE placeholder is llm_calls_tier_1m or llm_calls_tier_1h (an allow-list in tiers.py).
SELECT
    service_tier,
    sum(calls) AS calls,
    sum(sum_cost_nano_usd) AS cost_nano_usd,
    sum(unpriced_calls) AS unpriced_calls
FROM __TABLE__
WHERE project_id = {project_id:UInt64}
  AND bucket >= {start:DateTime('UTC')}
  AND bucket < {end:DateTime('UTC')}
  AND ({endpoint:String} = '' OR endpoint = {endpoint:String})
  AND ({provider:String} = '' OR provider = {provider:String})
  AND ({model:String} = '' OR model = {model:String})
GROUP BY service_tier
