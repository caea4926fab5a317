-- Puts the in-flight tasks of every worker whose last heartbeat is older than the cutoff back
-- on the queue, and forgets those workers. Their runs are fenced: a late message from a
-- worker presumed dead cannot move a job backwards.
-- ARGV: queue, cutoff (Unix seconds)
-- Returns: how many tasks went back.
local queue, cutoff = ARGV[1], ARGV[2]
local moved = 0
for _, worker in ipairs(redis.call('ZRANGEBYSCORE', queue .. ':workers', 0, cutoff)) do
  local inflight = queue .. ':inflight:' .. worker
  local ids = redis.call('SMEMBERS', inflight)
  if #ids > 0 then
    redis.call('RPUSH', queue .. ':active', unpack(ids))
    moved = moved + #ids
  end
  redis.call('DEL', inflight)
  redis.call('ZREM', queue .. ':workers', worker)
end
return moved
