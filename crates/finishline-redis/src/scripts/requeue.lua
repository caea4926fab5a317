-- Puts a delivery back on its queue, unless its worker no longer holds it (it was recovered
-- meanwhile).
-- KEYS: 1 the worker's in-flight set, 2 the queue's waiting list
-- ARGV: task_id
-- Returns: 1 when it went back, 0 otherwise.
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
