-- Moves due jobs from the queue's scheduled set to its waiting list, at most ARGV[2] of them:
-- apalis-redis' own promotion unpacks every due job at once and fails beyond ~8,000.
-- KEYS: 1 the queue's scheduled set (:scheduled), 2 its waiting list (:active)
-- ARGV: now (Unix seconds), limit
-- Returns: how many moved.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], 0, ARGV[1], 'LIMIT', 0, ARGV[2])
if #ids > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ids))
  redis.call('ZREM', KEYS[1], unpack(ids))
end
return #ids
