-- Hands one worker's in-flight tasks back to the queue and unregisters the worker: a
-- stopping worker (no cutoff), or a worker presumed dead (its last heartbeat older than the
-- cutoff; the housekeeper lists such workers first, and one that beat since is left alone).
-- Runs are fenced: a late message from a worker presumed dead cannot move a job backwards.
-- KEYS: 1 the worker's in-flight set, 2 the queue's waiting list, 3 the queue's workers
-- ARGV: worker, cutoff (Unix milliseconds; '' for none)
-- Returns: how many tasks went back.
local worker, cutoff = ARGV[1], ARGV[2]
if cutoff ~= '' then
  local beat = redis.call('ZSCORE', KEYS[3], worker)
  if beat and tonumber(beat) > tonumber(cutoff) then
    return 0
  end
end
local ids = redis.call('SMEMBERS', KEYS[1])
if #ids > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ids))
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], worker)
return #ids
