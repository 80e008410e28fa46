-- Every entry of an account's log after a seq, or nil when the epoch is not current, the seq is
-- ahead of the log or the entries after it were trimmed.
-- KEYS[1] meta hash, KEYS[2] stream; ARGV[1] after (decimal), ARGV[2] epoch.
-- Returns a flat list {seq1, body1, seq2, body2, ...} (empty when nothing is missing).
local meta = redis.call('HMGET', KEYS[1], 'e', 's')
if meta[1] ~= ARGV[2] then
  return false
end
local after = tonumber(ARGV[1])
local last = tonumber(meta[2])
if after == last then
  return {}
end
if after > last then
  return false
end
local first = string.format('%d', after + 1)
local entries = redis.call('XRANGE', KEYS[2], first .. '-0', '+')
if #entries == 0 or entries[1][1] ~= first .. '-0' then
  return false
end
local out = {}
for i = 1, #entries do
  local id = entries[i][1]
  out[#out + 1] = string.sub(id, 1, #id - 2)
  out[#out + 1] = entries[i][2][2]
end
return out
