-- A visitor's named fields, or nil when the visitor is not present.
-- KEYS[1] record hash; ARGV field names. Returns {name1, value1, ...} for the fields that exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local values = redis.call('HMGET', KEYS[1], unpack(ARGV))
local out = {}
for i = 1, #ARGV do
  if values[i] then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = values[i]
  end
end
return out
