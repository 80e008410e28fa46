-- Count one tab (or agent socket) of this process. KEYS[1] hash of "PROCESS|TAB" fields,
-- KEYS[2] idle-since hash of the account; ARGV[1] field, ARGV[2] visitor id (empty for agents).
-- Returns the tabs over all processes.
redis.call('HSET', KEYS[1], ARGV[1], '1')
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return redis.call('HLEN', KEYS[1])
