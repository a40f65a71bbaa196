-- How many calls a recompute job will read (latest revision of each call).
SELECT count()
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND ts >= {since:DateTime64(3, 'UTC')}
  AND has({pairs:Array(Tuple(String, String))}, (provider, model))
