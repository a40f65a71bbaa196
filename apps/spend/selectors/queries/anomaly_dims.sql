-- Hourly calls, errors, cost and tokens of the project, its endpoints or its models (__DIM__ is an
-- allow-listed expression, apps.spend.selectors.anomalies.DIMS), for an anomaly monitor's
-- baseline. {value} = '' reads every key; {keys} limits to the busiest when it is not empty.
SELECT
    __DIM__ AS key,
    bucket,
    toInt64(sum(calls)) AS calls,
    toInt64(sum(errors)) AS errors,
    toInt64(sum(sum_cost_nano_usd)) AS cost_nano,
    toInt64(sum(sum_input_tokens + sum_output_tokens)) AS tokens
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= {since:DateTime('UTC')} AND bucket <= {until:DateTime('UTC')}
  AND ({value:String} = '' OR __DIM__ = {value:String})
  AND (empty({keys:Array(String)}) OR has({keys:Array(String)}, __DIM__))
GROUP BY key, bucket
