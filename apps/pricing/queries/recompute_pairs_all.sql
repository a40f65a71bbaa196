-- Cross-project (a catalogue price changed): the projects and (provider, model) pairs with calls
-- since a time, from the hourly rollup. Run through system_query, on purpose.
SELECT project_id, provider, model, sum(calls) AS calls
FROM llm_calls_1h
WHERE bucket >= toStartOfHour({since:DateTime64(3, 'UTC')})
GROUP BY project_id, provider, model
