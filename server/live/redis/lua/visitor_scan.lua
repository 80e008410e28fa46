-- One page of an account's present visitors with their records.
-- KEYS[1] present set; ARGV[1] SSCAN cursor, ARGV[2] page size, ARGV[3] record key prefix.
-- Returns {next_cursor, id1, {field, value, ...}, id2, {...}, ...}.
local page = redis.call('SSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = {page[1]}
for _, id in ipairs(page[2]) do
  local record = redis.call('HGETALL', ARGV[3] .. id)
  if #record > 0 then
    out[#out + 1] = id
    out[#out + 1] = record
  end
end
return out
