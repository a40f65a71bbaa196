-- Feedback attached to one call (thumbs, scores, comments), oldest first.
SELECT ts, kind, score, comment
FROM llm_feedback FINAL
WHERE project_id = {project_id:UInt64}
  AND event_id = {event_id:UUID}
ORDER BY ts
LIMIT 100
