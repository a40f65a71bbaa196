-- Feedback scores on one endpoint's routed calls, by cohort: inside the rollout or outside it.
SELECT
    if(c.reason = 'rollout', 'baseline', 'policy') AS cohort,
    count() AS n,
    avg(f.score) AS mean,
    varSamp(f.score) AS variance
FROM
(
    SELECT event_id, argMax(score, received_at) AS score
    FROM llm_feedback
    WHERE project_id = {project_id:UInt64} AND ts >= {since:DateTime64(3, 'UTC')}
    GROUP BY event_id
) AS f
INNER JOIN
(
    SELECT event_id, routing_reason AS reason
    FROM llm_calls FINAL
    WHERE project_id = {project_id:UInt64}
      AND endpoint = {endpoint:String}
      AND routing_policy_version IN {versions:Array(UInt32)}
      AND ts >= {since:DateTime64(3, 'UTC')}
      AND ts < {until:DateTime64(3, 'UTC')}
      AND routing_reason != 'model_mismatch'
) AS c ON f.event_id = c.event_id
GROUP BY cohort
