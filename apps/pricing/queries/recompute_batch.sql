-- One batch of a recompute job: the latest revision of each call (FINAL), every column, in
-- (ts, event_id) order after the job's cursor. The job writes revision + 1 of the calls whose
-- cost changes; the rollup views add the difference (see warehouse/migrations/0002_rollups.sql).
SELECT *
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND ts >= {since:DateTime64(3, 'UTC')}
  AND has({pairs:Array(Tuple(String, String))}, (provider, model))
  AND (ts, event_id) > ({cursor_ts:DateTime64(3, 'UTC')}, {cursor_id:UUID})
  AND received_at >= {received_from:DateTime64(3, 'UTC')}
ORDER BY ts, event_id
LIMIT {limit:UInt32}
