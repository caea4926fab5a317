-- Hands workers' in-flight tasks back to the queue and unregisters those workers: one
-- stopping worker at once (instead of waiting for orphan recovery), or every worker whose
-- last heartbeat is older than a cutoff (presumed dead). Runs are fenced: a late message from
-- a worker presumed dead cannot move a job backwards.
-- ARGV: queue, then either 'worker', name, or 'silent-since', cutoff (Unix milliseconds)
-- Returns: how many tasks went back.
local queue, mode, arg = ARGV[1], ARGV[2], ARGV[3]
local workers
if mode == 'worker' then
  workers = { arg }
else
  workers = redis.call('ZRANGEBYSCORE', queue .. ':workers', 0, arg)
end
local moved = 0
for _, worker in ipairs(workers) do
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
