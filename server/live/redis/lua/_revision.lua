-- Shared by the scripts that write a visitor record (prepended to them when they are loaded):
-- the account's next record revision. A new counter starts at Redis' clock in microseconds, so a
-- revision a process remembers from before Redis lost its data is never handed out again.
local function next_revision(counter)
  if redis.call('EXISTS', counter) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', counter, string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2])))
  end
  return string.format('%d', redis.call('INCR', counter))
end
