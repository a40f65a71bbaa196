-- One row per replayed sample and candidate (DESIGN.md §6): what the candidate answered, what it
-- cost, how long it took and every evaluator's verdict, next to what the app itself got (copied,
-- so results outlive the calls' retention). Written once per sample by the replay job that owns
-- it; ReplacingMergeTree keeps one row should a recovering job write a row again.
-- sharding_key: cityHash64(project_id, job_id)
CREATE TABLE IF NOT EXISTS replay_results
(
    project_id UInt64,
    job_id UInt64,
    sample_id UUID,
    candidate LowCardinality(String),
    endpoint LowCardinality(String),
    seq UInt32,
    stratum UInt16 DEFAULT 0,
    call_ts DateTime64(3, 'UTC'),
    simulated UInt8 DEFAULT 0,
    prompt_text String DEFAULT '' CODEC(ZSTD(3)),
    baseline_output String DEFAULT '' CODEC(ZSTD(3)),
    baseline_cost_nano Int64 DEFAULT 0,
    baseline_latency_ms UInt32 DEFAULT 0,
    output String DEFAULT '' CODEC(ZSTD(3)),
    ok UInt8,
    error String DEFAULT '',
    failed_checks Array(LowCardinality(String)),
    input_tokens UInt32 DEFAULT 0,
    output_tokens UInt32 DEFAULT 0,
    cost_nano Nullable(Int64),
    eval_cost_nano Int64 DEFAULT 0,
    charged_nano Int64 DEFAULT 0,
    latency_ms UInt32 DEFAULT 0,
    attempts UInt8 DEFAULT 1,
    evaluator LowCardinality(String),
    quality Nullable(Float64),
    verdicts String DEFAULT '' CODEC(ZSTD(3)),
    created_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY (project_id, job_id, sample_id, candidate)
TTL toDateTime(created_at) + toIntervalDay(400);
