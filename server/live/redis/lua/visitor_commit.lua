-- Store some fields of a visitor and append a delta to the account's log, in one atomic step
-- (visitor_store.lua, then the log append of _append.lua: one round trip instead of two).
-- KEYS[1] record hash, KEYS[2] present set, KEYS[3] revision counter, KEYS[4] log meta hash,
-- KEYS[5] stream; ARGV[1] visitor id, ARGV[2] delta body, ARGV[3] stream length kept,
-- ARGV[4] pub/sub channel, then field, value pairs.
-- Returns {revision before (or ''), revision now, epoch, seq}.
local before = redis.call('HGET', KEYS[1], 'rev') or ''
local rev = string.format('%d', redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[1], 'rev', rev, unpack(ARGV, 5))
redis.call('SADD', KEYS[2], ARGV[1])
local epoch, seq = append_delta(KEYS[4], KEYS[5], ARGV[2], ARGV[3], ARGV[4])
return {before, rev, epoch, seq}
