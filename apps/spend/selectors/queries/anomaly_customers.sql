-- Hourly calls, errors, cost and tokens of customers, for an anomaly monitor's baseline.
SELECT
    customer AS key,
    bucket,
    toInt64(sum(calls)) AS calls,
    toInt64(sum(errors)) AS errors,
    toInt64(sum(sum_cost_nano_usd)) AS cost_nano,
    toInt64(sum(sum_tokens)) AS tokens
FROM llm_spend_customers_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= {since:DateTime('UTC')} AND bucket <= {until:DateTime('UTC')}
  AND ({value:String} = '' OR customer = {value:String})
  AND (empty({keys:Array(String)}) OR has({keys:Array(String)}, customer))
GROUP BY key, bucket
