-- Store some fields of a visitor and append a delta to the account's log, in one atomic step
-- (visitor_store.lua, then log_append.lua: one round trip instead of two).
-- KEYS[1] record hash, KEYS[2] present set, KEYS[3] revision counter, KEYS[4] log meta hash,
-- KEYS[5] stream; ARGV[1] visitor id, ARGV[2] delta body, ARGV[3] stream length kept,
-- ARGV[4] pub/sub channel, then field, value pairs.
-- Returns {revision before (or ''), revision now, epoch, seq}.
local before = redis.call('HGET', KEYS[1], 'rev') or ''
local rev = string.format('%d', redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[1], 'rev', rev, unpack(ARGV, 5))
redis.call('SADD', KEYS[2], ARGV[1])
local epoch = redis.call('HGET', KEYS[4], 'e')
if not epoch then
  local now = redis.call('TIME')
  epoch = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('DEL', KEYS[5])
  redis.call('HSET', KEYS[4], 'e', epoch, 's', epoch)
end
local seq = string.format('%d', redis.call('HINCRBY', KEYS[4], 's', 1))
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'd', ARGV[2])
local now = redis.call('TIME')
local at = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
redis.call('PUBLISH', ARGV[4], epoch .. ' ' .. seq .. ' ' .. at .. ' ' .. ARGV[2])
return {before, rev, epoch, seq}
