-- The models an endpoint's own (not routed) calls used in the window, busiest first.
SELECT provider, model, count() AS calls
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64}
  AND endpoint = {endpoint:String}
  AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
  AND routing_arm NOT IN ('candidate', 'fallback')
GROUP BY provider, model
ORDER BY calls DESC, provider, model
LIMIT 50
