-- The conversation a replayed sample belongs to: estimates resample and split whole
-- conversations (turn 2 contains turn 1), never their turns apart.
ALTER TABLE replay_results ADD COLUMN IF NOT EXISTS conversation_id String DEFAULT '' AFTER call_ts;
