-- The names of a few keys (a top list's) by their hash.
SELECT key_hash, any(key) AS key
FROM llm_spend_key_names
WHERE project_id = {project_id:UInt64} AND kind = {kind:String} AND key_hash IN {hashes:Array(UInt64)}
GROUP BY key_hash
