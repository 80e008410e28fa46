-- Forget one tab (or agent socket). KEYS[1] tabs hash, KEYS[2] idle-since hash;
-- ARGV[1] field, ARGV[2] visitor id (empty for agents). When the visitor's last tab goes, its
-- idle time starts now (Redis' clock, milliseconds). Returns the tabs left over all processes.
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local left = redis.call('HLEN', KEYS[1])
if removed == 1 and left == 0 and ARGV[2] ~= '' then
  local now = redis.call('TIME')
  redis.call('HSET', KEYS[2], ARGV[2], string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))
end
return left
