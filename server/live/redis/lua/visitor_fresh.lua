-- A visitor's record unless the caller's copy is current.
-- KEYS[1] record hash; ARGV[1] the revision the caller holds.
-- Returns 1 when the record is still at that revision, else every field (empty when not present).
if redis.call('HGET', KEYS[1], 'rev') == ARGV[1] then
  return 1
end
return redis.call('HGETALL', KEYS[1])
