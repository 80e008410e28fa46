-- Renew a process's lease. KEYS[1] sorted set of processes by lease expiry (Redis' clock, ms);
-- ARGV[1] process id, ARGV[2] lease (ms), or '0' to give it up now.
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%d', now_ms + tonumber(ARGV[2])), ARGV[1])
return string.format('%d', now_ms)
