-- Forget a visitor: record, tabs, idle time, listing.
-- KEYS[1] record hash, KEYS[2] tabs hash, KEYS[3] idle-since hash, KEYS[4] present set; ARGV[1] visitor id.
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[1])
return redis.call('SREM', KEYS[4], ARGV[1])
