-- Claim the processes whose lease expired, for cleaning up their tabs and agents.
-- KEYS[1] lease sorted set; ARGV[1] this process (never claimed), ARGV[2] how long a claim holds (ms):
-- a claimant that dies while cleaning up loses its claim, and another process finishes the work.
-- Returns {process, expired_at_ms, ...}.
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now_ms), 'WITHSCORES', 'LIMIT', 0, 100)
local out = {}
for i = 1, #dead, 2 do
  if dead[i] ~= ARGV[1] then
    redis.call('ZADD', KEYS[1], string.format('%d', now_ms + tonumber(ARGV[2])), dead[i])
    out[#out + 1] = dead[i]
    out[#out + 1] = dead[i + 1]
  end
end
return out
