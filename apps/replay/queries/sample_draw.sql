-- A stratified sample of the replayable calls: strata are 4 time bins × 4 prompt-length bins, each
-- allocated its proportional share ({alloc}, by stratum); within a stratum, every user's first
-- call (in a seeded hash order) comes before anyone's second, so heavy users cannot crowd the
-- sample. The result is in hash order, so any prefix of it is itself a random sample.
SELECT event_id, stratum
FROM
(
    SELECT event_id, stratum, h, row_number() OVER (PARTITION BY stratum ORDER BY user_rank, h) AS pick
    FROM
    (
        SELECT
            event_id,
            toUInt16(least(intDiv(toUnixTimestamp64Milli(ts) - {t0:Int64}, {tstep:Int64}), 3) * 4
                + multiIf(input_tokens <= {c1:Float64}, 0, input_tokens <= {c2:Float64}, 1, input_tokens <= {c3:Float64}, 2, 3)) AS stratum,
            cityHash64(event_id, {seed:UInt64}) AS h,
            row_number() OVER (PARTITION BY stratum, user_id ORDER BY h) AS user_rank
        /*include:eligible_calls*/
    )
)
WHERE pick <= {alloc:Array(UInt32)}[stratum + 1]
ORDER BY h
