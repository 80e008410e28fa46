-- Renew a process's lease and tell it whether Redis lost the shared state since its last renewal.
-- KEYS[1] sorted set of processes by lease expiry (Redis' clock, ms), KEYS[2] the instance marker;
-- ARGV[1] process id, ARGV[2] lease (ms; '0' gives it up now), ARGV[3] a fresh token that becomes the
-- marker when it is missing (Redis restarted empty or was flushed). Returns the marker: a process that
-- sees another one than last time knows its tabs and agents are no longer registered.
local marker = redis.call('GET', KEYS[2])
if not marker then
  redis.call('SET', KEYS[2], ARGV[3])
  marker = ARGV[3]
end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%d', now_ms + tonumber(ARGV[2])), ARGV[1])
return marker
