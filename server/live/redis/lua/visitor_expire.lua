-- Remove a present visitor that has had no tab for ARGV[2] milliseconds; 1 only for the call that did.
-- KEYS as visitor_remove.lua; ARGV[1] visitor id, ARGV[2] idle time required (ms).
if redis.call('HLEN', KEYS[2]) > 0 or redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
  return 0
end
local since = redis.call('HGET', KEYS[3], ARGV[1])
if since then
  local now = redis.call('TIME')
  local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  if now_ms - tonumber(since) < tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
