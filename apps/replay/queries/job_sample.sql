-- One sample of a job across every candidate.
SELECT sample_id, candidate, seq, simulated, prompt_text, baseline_output, output, ok, error, failed_checks, quality,
       cost_nano, baseline_cost_nano, latency_ms, baseline_latency_ms, input_tokens, output_tokens, verdicts
FROM replay_results FINAL
WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64} AND sample_id = {sample_id:UUID}
ORDER BY seq
