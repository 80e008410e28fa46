-- Store some fields of a visitor and append a delta to the account's log, in one atomic step
-- (visitor_store.lua, then the log append of _append.lua): the page view path's one round trip.
-- Optimistic: with an expected revision, nothing is written unless the record is still at it, and
-- the current record goes back instead (the caller applies its change to that and commits again).
-- KEYS[1] record hash, KEYS[2] present set, KEYS[3] revision counter, KEYS[4] log meta hash,
-- KEYS[5] stream; ARGV[1] visitor id, ARGV[2] expected revision ('' = any, the record may be new),
-- ARGV[3] delta body ('' = none), ARGV[4] stream length kept, ARGV[5] pub/sub channel, then
-- field, value pairs.
-- Returns {1, revision before (or ''), revision now, epoch, seq} (epoch '' and seq 0 without a
-- delta), or {0, every field of the record now (empty when gone)}.
local before = redis.call('HGET', KEYS[1], 'rev') or ''
if ARGV[2] ~= '' and before ~= ARGV[2] then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local rev = next_revision(KEYS[3])
redis.call('HSET', KEYS[1], 'rev', rev, unpack(ARGV, 6))
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[3] == '' then
  return {1, before, rev, '', 0}
end
local epoch, seq = append_delta(KEYS[4], KEYS[5], ARGV[3], ARGV[4], ARGV[5])
return {1, before, rev, epoch, seq}
