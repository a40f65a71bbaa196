-- Prompt caching: for each endpoint and model that caches ({pairs}), which prompt prefixes repeat,
-- and how soon. Each call's prefix points (apps.ingest.shape: byte offset << 32 | CRC-32 of the
-- prompt up to there) become rows; a point's tokens are its byte offset times the endpoint and
-- model's median prompt tokens per byte (so one shared prefix counts alike on every call), at most
-- the call's prompt.
-- Points below the model's minimum cacheable length ({min_tokens}) cannot be cached; the first one
-- above it brings the whole prefix before it. Points shared by two calls or more form a group; in
-- time order, each repeat's gap to the one before, stretched by the share of calls that carry a
-- prefix ({cover}: a sample's repeats look further apart than they are), says whether a cache with
-- lifetime a or b ({ttl_a}, {ttl_b} seconds) would still hold it: a hit reads the point's tokens at
-- the cached price, a miss writes them ({save}: input − cached price; {extra_a}, {extra_b}: the write
-- price above input, nano-USD a token). A group is cached only if that pays over the window (a
-- breakpoint goes only where it pays). Out: per endpoint, model and day, the tokens read and
-- written under each lifetime, the calls whose prefix repeats (counted at each call's first
-- cacheable point) with the median gap to the one before, and example calls.
SELECT
    endpoint, pair,
    toUInt32(intDiv(intDiv(o.1, 1000) - {since_s:Int64}, 86400)) AS day,
    sumIf(o.2, hit_a AND net_a > 0) AS read_a,
    sumIf(o.2, NOT hit_a AND net_a > 0) AS write_a,
    sumIf(o.2, hit_b AND net_b > 0) AS read_b,
    sumIf(o.2, NOT hit_b AND net_b > 0) AS write_b,
    countIf(gap < 1e17 AND o.3) AS repeats,
    quantileIf(0.5)(gap, gap < 1e17 AND o.3) AS median_gap_ms,
    argMax(examples, n) AS example_ids
FROM
(
    SELECT
        endpoint, pair, n, occ, examples,
        arrayMap(x -> x.1, occ) AS times,
        mapFromArrays({cover_k:Array(String)}, {cover_v:Array(Float64)})[concat(endpoint, '\t', pair)] AS cov,
        arrayMap((d, i) -> if(i = 1, 1e18, d * cov), arrayDifference(times), arrayEnumerate(times)) AS gaps,
        arrayMap(g -> g <= mapFromArrays({ttl_a_k:Array(String)}, {ttl_a_v:Array(UInt32)})[pair] * 1000, gaps) AS hits_a,
        arrayMap(g -> g <= mapFromArrays({ttl_b_k:Array(String)}, {ttl_b_v:Array(UInt32)})[pair] * 1000, gaps) AS hits_b,
        arraySum((x, h) -> if(h, x.2, 0.), occ, hits_a) * mapFromArrays({save_k:Array(String)}, {save_v:Array(Float64)})[pair]
            - arraySum((x, h) -> if(h, 0., x.2), occ, hits_a) * mapFromArrays({extra_a_k:Array(String)}, {extra_a_v:Array(Float64)})[pair] AS net_a,
        arraySum((x, h) -> if(h, x.2, 0.), occ, hits_b) * mapFromArrays({save_k:Array(String)}, {save_v:Array(Float64)})[pair]
            - arraySum((x, h) -> if(h, 0., x.2), occ, hits_b) * mapFromArrays({extra_b_k:Array(String)}, {extra_b_v:Array(Float64)})[pair] AS net_b
    FROM
    (
        SELECT endpoint, pair, point, count() AS n,
               arraySort(x -> x.1, groupArray((t, tokens, first_point))) AS occ,
               groupArray(3)(event_id) AS examples
        FROM
        (
            SELECT
                endpoint, pair, point, event_id,
                toUnixTimestamp64Milli(ts) AS t,
                least(bitShiftRight(point, 32) * scale, prompt) AS upto,
                least(bitShiftRight(prev, 32) * scale, prompt) AS before,
                before < min_tokens AS first_point,
                if(first_point, upto, upto - before) AS tokens
            FROM
            (
                SELECT *, quantile(0.5)(prompt / prompt_bytes) OVER (PARTITION BY endpoint, pair) AS scale
                FROM
                (
                    SELECT
                        endpoint, ts, event_id, prefix_points, prompt_bytes,
                        concat(provider, '/', model) AS pair,
                        if(input_includes_cached = -1, has({incl_cached:Array(String)}, pair),
                           input_includes_cached = 1) AS in_incl,
                        toFloat64(if(in_incl, input_tokens,
                            input_tokens + cached_input_tokens + greatest(cache_write_tokens, cache_write_1h_tokens)))
                            AS prompt,
                        mapFromArrays({min_tokens_k:Array(String)}, {min_tokens_v:Array(UInt32)})[pair] AS min_tokens
                    FROM llm_calls FINAL
                    WHERE project_id = {project_id:UInt64}
                      AND ts >= {since:DateTime64(3, 'UTC')} AND ts < {until:DateTime64(3, 'UTC')}
                      AND routing_arm != 'candidate'
                      AND status = 'ok' AND prompt_bytes > 0
                      AND has({pairs:Array(String)}, concat(provider, '/', model))
                )
            )
            ARRAY JOIN prefix_points AS point, arrayPushFront(arrayPopBack(prefix_points), 0) AS prev
            WHERE upto >= min_tokens
        )
        GROUP BY endpoint, pair, point
        HAVING n >= 2
    )
)
ARRAY JOIN occ AS o, hits_a AS hit_a, hits_b AS hit_b, gaps AS gap
GROUP BY endpoint, pair, day
