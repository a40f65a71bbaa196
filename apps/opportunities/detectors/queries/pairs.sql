-- The (provider, model) pairs a project called in the window, from the hour rollup.
SELECT DISTINCT provider, model
FROM llm_calls_1h
WHERE project_id = {project_id:UInt64}
  AND bucket >= toStartOfHour({since:DateTime64(3, 'UTC')})
  AND bucket < {until:DateTime64(3, 'UTC')}
