-- Per endpoint, how bursty its traffic is: calls per minute, against the endpoint's mean rate over
-- the window ({minutes} minutes). A minute holding at least max(10, 8 × mean) calls is a burst
-- minute; people spread their calls over the day, batch jobs arrive in bursts like these.
SELECT
    endpoint,
    sum(c) AS calls,
    sumIf(c, c >= greatest(10, 8 * total / {minutes:Float64})) AS burst_calls,
    countIf(c >= greatest(10, 8 * total / {minutes:Float64})) AS burst_minutes,
    max(c) AS peak_per_minute,
    count() AS active_minutes
FROM
(
    SELECT endpoint, c, sum(c) OVER (PARTITION BY endpoint) AS total
    FROM
    (
        SELECT endpoint, toStartOfMinute(ts) AS minute, count() AS c
        FROM llm_calls FINAL
        WHERE project_id = {project_id:UInt64}
          AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
        GROUP BY endpoint, minute
    )
)
GROUP BY endpoint
