-- Shared by the scripts that append to an account's log (prepended to them when they are loaded):
-- next seq (a new log starts its epoch at Redis' clock in microseconds), capped stream, publish.
-- The published payload is "EPOCH SEQ TIME_US BODY" (TIME_US: Redis' clock, for latency figures).
local function append_delta(meta, stream, body, size, channel)
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    local now = redis.call('TIME')
    epoch = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'e', epoch, 's', epoch)
  end
  local seq = string.format('%d', redis.call('HINCRBY', meta, 's', 1))
  redis.call('XADD', stream, 'MAXLEN', '~', size, seq .. '-0', 'd', body)
  local now = redis.call('TIME')
  local at = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('PUBLISH', channel, epoch .. ' ' .. seq .. ' ' .. at .. ' ' .. body)
  return epoch, seq
end
