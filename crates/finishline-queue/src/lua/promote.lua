-- Moves due jobs from :scheduled to :active, at most ARGV[3] of them: apalis-redis' own
-- promotion unpacks every due job at once and fails beyond ~8,000.
-- ARGV: queue, now (seconds), limit
local queue, now, limit = ARGV[1], ARGV[2], ARGV[3]
local ids = redis.call('ZRANGEBYSCORE', queue .. ':scheduled', 0, now, 'LIMIT', 0, limit)
if #ids > 0 then
  redis.call('RPUSH', queue .. ':active', unpack(ids))
  redis.call('ZREM', queue .. ':scheduled', unpack(ids))
end
return #ids
