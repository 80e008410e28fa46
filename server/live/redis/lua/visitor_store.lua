-- Set some fields of a visitor record and list it as present.
-- KEYS[1] record hash, KEYS[2] set of present visitor ids, KEYS[3] the account's revision counter;
-- ARGV[1] visitor id, then field, value pairs. Every write gives the record a new revision (field
-- 'rev', unique within the account: _revision.lua) so a process can tell its remembered copy is current.
-- Returns {revision before (or ''), revision now}.
local before = redis.call('HGET', KEYS[1], 'rev') or ''
local rev = next_revision(KEYS[3])
redis.call('HSET', KEYS[1], 'rev', rev, unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return {before, rev}
