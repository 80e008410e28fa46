-- Append one delta to an account's log atomically: next seq, capped stream, publish.
-- KEYS[1] meta hash, KEYS[2] stream; ARGV[1] body (the delta without its seq), ARGV[2] stream
-- length kept (approximately, MAXLEN ~), ARGV[3] pub/sub channel. Returns {epoch, seq}.
-- The published payload is "EPOCH SEQ TIME_US BODY" (TIME_US: Redis' clock, for latency figures).
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  local now = redis.call('TIME')
  epoch = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', epoch)
end
local seq = string.format('%d', redis.call('HINCRBY', KEYS[1], 's', 1))
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'd', ARGV[1])
local now = redis.call('TIME')
local at = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
redis.call('PUBLISH', ARGV[3], epoch .. ' ' .. seq .. ' ' .. at .. ' ' .. ARGV[1])
return {epoch, seq}
