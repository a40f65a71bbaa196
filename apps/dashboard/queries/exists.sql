-- Has the project (or one endpoint, or one provider/model) ever sent a call? The hour rollup has
-- no TTL; LIMIT 1 stops at the first row, and an endpoint filter uses the primary key.
SELECT 1
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND ({endpoint:String} = '' OR endpoint = {endpoint:String})
  AND ({provider:String} = '' OR provider = {provider:String})
  AND ({model:String} = '' OR model = {model:String})
  AND calls > 0
LIMIT 1
