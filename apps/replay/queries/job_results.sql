-- One row per (sample, candidate) of a job, for its summary.
SELECT sample_id, candidate, ok, quality, cost_nano, latency_ms, baseline_cost_nano, baseline_latency_ms
FROM replay_results FINAL
WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64}
