-- The busiest keys (by spend over the baseline window) of a monitor on each endpoint, model or
-- customer: a monitor follows at most {limit} of them.
SELECT key FROM
(
    SELECT __DIM__ AS key, sum(sum_cost_nano_usd) AS cost
    FROM __TABLE__
    WHERE project_id = {project_id:UInt64} AND bucket >= {since:DateTime('UTC')}
    GROUP BY key
    ORDER BY cost DESC
    LIMIT {limit:UInt32}
)
