-- Results a job already stored for some of its samples (recovering items left in flight).
SELECT sample_id, candidate, argMax(ok, created_at), argMax(charged_nano, created_at), argMax(error, created_at)
FROM replay_results
WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64} AND sample_id IN {ids:Array(UUID)}
GROUP BY sample_id, candidate
