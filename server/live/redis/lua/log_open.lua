-- The account's log position, creating the log with a new epoch when absent.
-- KEYS[1] meta hash (e = epoch, s = last seq), KEYS[2] stream. Returns {epoch, seq} as strings.
-- A new log's first seq is Redis' clock in microseconds, which is also its epoch: a seq from an
-- older life of the log (before a restart or flush) is then always below the new log's range.
-- Numbers are formatted with '%d': Lua's default '%.14g' would turn a 16-digit seq into 1.7e+15.
local meta = redis.call('HMGET', KEYS[1], 'e', 's')
if meta[1] then
  return {meta[1], meta[2]}
end
local now = redis.call('TIME')
local start = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'e', start, 's', start)
return {start, start}
