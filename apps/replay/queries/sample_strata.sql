-- Replayable calls per stratum (4 time bins × 4 prompt-length bins), for proportional allocation.
SELECT
    toUInt16(least(intDiv(toUnixTimestamp64Milli(ts) - {t0:Int64}, {tstep:Int64}), 3) * 4
        + multiIf(input_tokens <= {c1:Float64}, 0, input_tokens <= {c2:Float64}, 1, input_tokens <= {c3:Float64}, 2, 3)) AS stratum,
    count() AS calls
/*include:eligible_calls*/
GROUP BY stratum
