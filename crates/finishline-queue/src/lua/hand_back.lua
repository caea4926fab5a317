-- Hands a stopping worker's running jobs back to the queue at once (instead of waiting for
-- orphan recovery) and unregisters it.
-- ARGV: queue, worker name
local queue, worker = ARGV[1], ARGV[2]
local inflight = queue .. ':inflight:' .. worker
local ids = redis.call('SMEMBERS', inflight)
if #ids > 0 then
  redis.call('RPUSH', queue .. ':active', unpack(ids))
end
redis.call('DEL', inflight)
redis.call('ZREM', queue .. ':workers', worker)
return #ids
