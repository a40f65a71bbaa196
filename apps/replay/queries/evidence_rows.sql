-- Every (sample, candidate) result of a job, for the recommender's evidence.
SELECT sample_id, candidate, prompt_text, baseline_cost_nano, baseline_latency_ms, output, ok, failed_checks,
       cost_nano, latency_ms, quality, conversation_id
FROM replay_results FINAL
WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64}
ORDER BY seq
