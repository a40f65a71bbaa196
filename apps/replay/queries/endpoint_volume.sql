-- An endpoint's calls since a time, from the hour rollup (all models and arms).
SELECT sum(calls) AS calls
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64} AND endpoint = {endpoint:String} AND bucket >= {since:DateTime('UTC')}
