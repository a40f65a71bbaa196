-- Opportunities (apps/opportunities, issue 17): what a call's request and response say beyond
-- usage, read once at ingest (apps.ingest.shape) whether or not its payloads are stored:
-- `max_tokens` asked (0 = not said), `streamed` (1 / 0, -1 = unknown), `finish_reason` normalised
-- (stop, length, tool_calls, content_filter, …), and the prompt's prefix as the provider caches it
-- (tools, system, then each message, as one stream of their raw JSON): its length in bytes and, at
-- each piece's end and every 1,024 bytes inside a long piece, a point: the byte offset << 32 | the
-- CRC-32 of the stream so far (at most 64 points). Calls whose prompts begin alike share leading
-- points; prompts are never stored twice. Rows stored before this migration read as unknown.
ALTER TABLE llm_calls
    ADD COLUMN IF NOT EXISTS max_tokens UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS streamed Int8 DEFAULT -1,
    ADD COLUMN IF NOT EXISTS finish_reason LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS prompt_bytes UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS prefix_points Array(UInt64) CODEC(ZSTD(1));
