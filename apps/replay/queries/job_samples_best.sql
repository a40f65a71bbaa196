-- A page of a job's per-sample results (ordered by quality DESC NULLS LAST, seq), optionally for one candidate.
SELECT sample_id, candidate, seq, simulated, prompt_text, baseline_output, output, ok, error, failed_checks, quality,
       cost_nano, baseline_cost_nano, latency_ms, baseline_latency_ms, input_tokens, output_tokens, verdicts
FROM replay_results FINAL
WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
ORDER BY quality DESC NULLS LAST, seq
LIMIT {limit:UInt32} OFFSET {offset:UInt32}
