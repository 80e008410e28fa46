-- Renew a process's lease and tell it whether its registrations are gone since its last renewal.
-- KEYS[1] sorted set of processes by lease expiry (Redis' clock, ms), KEYS[2] the instance marker;
-- ARGV[1] process id, ARGV[2] lease (ms; '0' gives it up now), ARGV[3] a fresh token that becomes the
-- marker when it is missing (Redis restarted empty or was flushed), ARGV[4] '1' when this process
-- renewed before. Returns {marker, lapsed}: a process that sees another marker than last time knows
-- its tabs and agents are no longer registered; lapsed is 1 when a survivor reaped it as dead (it
-- renewed too late: its tabs and agents were dropped), so it must register them again. A late renewal
-- that nobody reaped yet is not lapsed: reaping claims the entry first and removes it last.
local marker = redis.call('GET', KEYS[2])
if not marker then
  redis.call('SET', KEYS[2], ARGV[3])
  marker = ARGV[3]
end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lapsed = 0
if ARGV[4] == '1' then
  local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not expiry then
    lapsed = 1
  end
end
redis.call('ZADD', KEYS[1], string.format('%d', now_ms + tonumber(ARGV[2])), ARGV[1])
return {marker, lapsed}
