-- Append one delta to an account's log atomically: next seq, capped stream, publish (_append.lua).
-- KEYS[1] meta hash, KEYS[2] stream; ARGV[1] body (the delta without its seq), ARGV[2] stream
-- length kept (approximately, MAXLEN ~), ARGV[3] pub/sub channel. Returns {epoch, seq}.
local epoch, seq = append_delta(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
return {epoch, seq}
