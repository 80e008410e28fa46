-- Set some fields of a visitor record and list it as present.
-- KEYS[1] record hash, KEYS[2] set of present visitor ids; ARGV[1] visitor id, then field, value pairs.
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return redis.call('SADD', KEYS[2], ARGV[1])
