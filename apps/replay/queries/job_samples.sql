-- A page of a job's per-sample results, optionally for one candidate. /*order*/ is replaced by an
-- expression from selectors.SAMPLE_ORDER (an allow-list), never by anything a request sends.
SELECT sample_id, candidate, seq, simulated, prompt_text, baseline_output, output, ok, error, failed_checks, quality,
       cost_nano, baseline_cost_nano, latency_ms, baseline_latency_ms, input_tokens, output_tokens, verdicts
FROM replay_results FINAL
WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64}
  AND ({candidate:String} = '' OR candidate = {candidate:String})
ORDER BY /*order*/
LIMIT {limit:UInt32} OFFSET {offset:UInt32}
