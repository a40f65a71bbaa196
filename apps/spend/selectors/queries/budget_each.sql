-- Users or customers whose spend since {start} is at least {floor} nano-USD (a budget on each
-- of them: only those past its first threshold come back), most first.
SELECT key, toInt64(sum(sum_cost_nano_usd)) AS spent
FROM llm_spend_keys_1d
WHERE project_id = {project_id:UInt64}
  AND kind = {kind:String}
  AND day >= {start:Date}
GROUP BY key
HAVING spent >= {floor:Int64}
ORDER BY spent DESC
LIMIT {limit:UInt32}
