-- Drop a dead process's tabs and agent sockets in one account.
-- KEYS[1] idle-since hash, KEYS[2] agents hash, KEYS[3..] tabs hashes (one per tab listed);
-- ARGV[1] idle-since (ms) for visitors left with no tab, ARGV[2] process id, then per tab
-- (visitor id, field) pairs in KEYS order, then after the marker '--', agent fields.
-- Returns the visitor ids whose last tab this removed (each once over all calls).
local out = {}
local seen = {}
local i = 3
local k = 3
while ARGV[i] ~= '--' do
  local visitor, field = ARGV[i], ARGV[i + 1]
  if redis.call('HDEL', KEYS[k], field) == 1 and redis.call('HLEN', KEYS[k]) == 0 and not seen[visitor] then
    seen[visitor] = true
    redis.call('HSET', KEYS[1], visitor, ARGV[1])
    out[#out + 1] = visitor
  end
  i = i + 2
  k = k + 1
end
for j = i + 1, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[j])
end
return out
