-- The newest feedback per sampled call.
SELECT event_id, argMax(kind, received_at) AS kind, argMax(score, received_at) AS score,
       argMax(comment, received_at) AS comment
FROM llm_feedback FINAL
WHERE project_id = {project_id:UInt64} AND event_id IN {ids:Array(UUID)}
GROUP BY event_id
