-- An endpoint's recent traffic profile (for drift): calls and mean prompt length, from the hour rollup.
SELECT sum(calls) AS total_calls, sum(sum_input_tokens) / greatest(sum(calls), 1) AS mean_input_tokens
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64} AND endpoint = {endpoint:String} AND bucket >= {since:DateTime('UTC')}
