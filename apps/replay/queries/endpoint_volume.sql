-- The traffic a routing policy for one baseline model applies to, from the hour rollup: the
-- endpoint's calls of that model (routed calls carry the model the app asked for, so they count).
-- Calls the app itself makes to other models on the endpoint are not this policy's to route.
SELECT sum(calls) AS calls
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64} AND endpoint = {endpoint:String} AND bucket >= {since:DateTime('UTC')}
  AND provider = {provider:String} AND model = {model:String}
